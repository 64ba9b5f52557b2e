// The process-wide password-hashing workers (web/hashing_pool.hpp): the
// request queue is bounded (a full queue says no: the login gets 503),
// start-up work waits behind requests, hurry() moves an owner's start-up
// work first, cancel() drops an owner's queued work and waits for its running
// job. And a fleet meter's deferred initial credentials (UserStore with
// defer_initial): per meter, made later, and one meter's change is its own.
#include "web/hashing_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../../temp_dir.hpp"
#include "storage/store.hpp"
#include "web/auth.hpp"

using namespace openbcpm;
using namespace openbcpm::web;

namespace {

// Holds the pool's only thread until released.
struct Gate {
    std::promise<void> started, release;
    std::shared_future<void> go{release.get_future().share()};
    HashingPool::Job job() {
        return [this] {
            started.set_value();
            go.wait();
        };
    }
};

int owner_a, owner_b;

TEST(HashingPool, TheRequestQueueIsBoundedAndStartupWorkWaitsBehindRequests) {
    HashingPool pool(1, 2);
    Gate gate;
    ASSERT_TRUE(pool.submit(&owner_a, gate.job()));
    gate.started.get_future().wait();  // running, so not queued
    std::mutex m;
    std::vector<std::string> order;
    auto note = [&](std::string s) {
        return [&, s] {
            std::lock_guard lock(m);
            order.push_back(s);
        };
    };
    pool.submit_startup(&owner_b, note("startup b"));
    pool.submit_startup(&owner_a, note("startup a"));
    EXPECT_TRUE(pool.submit(&owner_a, note("request 1")));
    EXPECT_TRUE(pool.submit(&owner_b, note("request 2")));
    EXPECT_FALSE(pool.submit(&owner_a, note("request 3")));  // two wait already
    EXPECT_EQ(pool.queued_requests(), 2u);
    EXPECT_EQ(pool.queued_startup(), 2u);
    pool.hurry(&owner_a);  // a login to meter a waits for its start-up work
    gate.release.set_value();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        {
            std::lock_guard lock(m);
            if (order.size() == 4) break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::lock_guard lock(m);
    EXPECT_EQ(order,
              (std::vector<std::string>{"request 1", "request 2", "startup a", "startup b"}));
}

TEST(HashingPool, CancelDropsTheOwnersQueuedWorkAndWaitsForItsRunningJob) {
    HashingPool pool(1, 8);
    Gate gate;
    std::atomic<bool> ran_a{false}, ran_b{false}, running_done{false};
    ASSERT_TRUE(pool.submit(&owner_a, [&] {
        gate.started.set_value();
        gate.go.wait();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        running_done = true;
    }));
    gate.started.get_future().wait();
    ASSERT_TRUE(pool.submit(&owner_a, [&] { ran_a = true; }));
    pool.submit_startup(&owner_a, [&] { ran_a = true; });
    ASSERT_TRUE(pool.submit(&owner_b, [&] { ran_b = true; }));
    auto released = std::async(std::launch::async, [&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        gate.release.set_value();
    });
    pool.cancel(&owner_a);
    EXPECT_TRUE(running_done.load());  // cancel returned only after the running job
    EXPECT_EQ(pool.queued_startup(), 0u);
    released.wait();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!ran_b && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_TRUE(ran_b.load());
    EXPECT_FALSE(ran_a.load());
}

TEST(HashingPool, TheProcessHasOneOrTwoThreads) {
    HashingPool& shared = HashingPool::shared();
    EXPECT_EQ(&shared, &HashingPool::shared());
    EXPECT_GE(shared.threads(), 1u);
    EXPECT_LE(shared.threads(), 2u);
    EXPECT_EQ(shared.max_queued_requests(), HashingPool::kSharedMaxQueued);
}

bool verifies(const UserStore& users, const std::string& name, const std::string& password) {
    const User* u = users.find(name);
    return u && verify_password(u->hash, password);
}

TEST(DeferredInitialCredentials, EachMeterHasItsOwnAndAChangeIsItsOwn) {
    test::TempDir a_dir, b_dir;
    Store a_store(a_dir.path), b_store(b_dir.path);
    UserStore a(&a_store, true), b(&b_store, true);
    ASSERT_TRUE(a.pending_initial() && b.pending_initial());
    EXPECT_EQ(a.pending_initial(), a.initial_password());
    EXPECT_NE(*a.pending_initial(), *b.pending_initial());  // a random password per meter
    EXPECT_EQ(a.find("admin"), nullptr);                    // not usable (nor stored) until made
    EXPECT_FALSE(a_store.load_text("web.users"));
    for (UserStore* u : {&a, &b}) {
        const std::string pw = *u->pending_initial();
        u->complete_initial(hash_password(pw), scram::generate(pw));
        EXPECT_FALSE(u->pending_initial());
        EXPECT_TRUE(u->find("admin")->initial);
    }
    const std::string a_pw = *a.initial_password(), b_pw = *b.initial_password();
    EXPECT_TRUE(verifies(a, "admin", a_pw));
    EXPECT_FALSE(verifies(a, "admin", b_pw));
    EXPECT_NE(a.find("admin")->hash, b.find("admin")->hash);
    EXPECT_NE(a.find("admin")->scram_keys.salt, b.find("admin")->scram_keys.salt);
    // Stored: the next start loads it and has nothing pending.
    {
        UserStore again(&a_store, true);
        EXPECT_FALSE(again.pending_initial());
        EXPECT_TRUE(verifies(again, "admin", a_pw));
    }
    a.set_hash("admin", hash_password("Panel-Board#2026"), scram::generate("Panel-Board#2026"));
    EXPECT_TRUE(verifies(a, "admin", "Panel-Board#2026"));
    EXPECT_TRUE(verifies(b, "admin", b_pw));
    EXPECT_FALSE(verifies(b, "admin", "Panel-Board#2026"));
}

}  // namespace

// A login flood at one meter holds at most a quarter of the queue: the
// other meters of the fleet still get their logins hashed.
TEST(HashingPool, OneOwnerHoldsAtMostAQuarterOfTheQueue) {
    HashingPool pool(1, 8);
    ASSERT_EQ(pool.max_queued_per_owner(), 2u);
    Gate gate;
    ASSERT_TRUE(pool.submit(&owner_a, gate.job()));
    gate.started.get_future().wait();
    std::atomic<int> ran{0};
    auto count = [&ran] { return [&ran] { ++ran; }; };
    EXPECT_TRUE(pool.submit(&owner_a, count()));
    EXPECT_TRUE(pool.submit(&owner_a, count()));
    EXPECT_FALSE(pool.submit(&owner_a, count())) << "owner a's share is full";
    for (int i = 0; i < 2; ++i)
        EXPECT_TRUE(pool.submit(&owner_b, count())) << "owner b still has room";
    EXPECT_EQ(pool.queued_requests(), 4u);
    gate.release.set_value();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (ran.load() < 4 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(ran.load(), 4);
}
