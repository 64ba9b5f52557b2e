#include "web/hashing_pool.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <string>

namespace openbcpm::web {

HashingPool::HashingPool(size_t threads, size_t max_queued_requests)
    : max_queued_(max_queued_requests) {
    threads = std::max<size_t>(threads, 1);
    running_.assign(threads, nullptr);
    for (size_t i = 0; i < threads; ++i) {
        threads_.emplace_back([this, i] {
            const std::string name = "hashing-" + std::to_string(i);
            pthread_setname_np(pthread_self(), name.c_str());
            work(i);
        });
    }
}

HashingPool::~HashingPool() {
    {
        std::lock_guard lock(mutex_);
        ending_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_)
        t.join();
}

HashingPool& HashingPool::shared() {
    static HashingPool pool(std::thread::hardware_concurrency() > 2 ? 2 : 1, kSharedMaxQueued);
    return pool;
}

bool HashingPool::submit(Owner owner, Job job) {
    {
        std::lock_guard lock(mutex_);
        if (requests_.size() >= max_queued_) return false;
        // One owner (one meter's web face, a login flood at it) holds at most
        // a quarter of the queue: the other meters of a fleet still log in.
        const auto own = std::count_if(requests_.begin(), requests_.end(),
                                       [owner](const Entry& e) { return e.owner == owner; });
        if (static_cast<size_t>(own) >= max_queued_per_owner()) return false;
        requests_.push_back({owner, std::move(job)});
    }
    wake_.notify_one();
    return true;
}

void HashingPool::submit_startup(Owner owner, Job job) {
    {
        std::lock_guard lock(mutex_);
        startup_.push_back({owner, std::move(job)});
    }
    wake_.notify_one();
}

void HashingPool::hurry(Owner owner) {
    std::lock_guard lock(mutex_);
    std::stable_partition(startup_.begin(), startup_.end(),
                          [owner](const Entry& e) { return e.owner == owner; });
}

void HashingPool::cancel(Owner owner) {
    std::vector<Entry> dropped;  // destroyed unlocked: a job may hold what its owner holds
    {
        std::unique_lock lock(mutex_);
        for (auto* q : {&requests_, &startup_}) {
            for (auto it = q->begin(); it != q->end();) {
                if (it->owner == owner) {
                    dropped.push_back(std::move(*it));
                    it = q->erase(it);
                } else {
                    ++it;
                }
            }
        }
        idle_.wait(lock, [&] {
            return std::find(running_.begin(), running_.end(), owner) == running_.end();
        });
    }
}

size_t HashingPool::queued_requests() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
}

size_t HashingPool::queued_startup() const {
    std::lock_guard lock(mutex_);
    return startup_.size();
}

void HashingPool::work(size_t slot) {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return ending_ || !requests_.empty() || !startup_.empty(); });
        if (ending_) return;
        // Requests first: a login is answered before the fleet's start-up work goes on.
        std::deque<Entry>& q = requests_.empty() ? startup_ : requests_;
        Entry e = std::move(q.front());
        q.pop_front();
        running_[slot] = e.owner;
        lock.unlock();
        try {
            e.job();
        } catch (const std::exception& ex) {
            spdlog::error("web: password hashing failed: {}", ex.what());
        }
        e.job = nullptr;  // what it holds goes before its owner is seen as idle
        lock.lock();
        running_[slot] = nullptr;
        idle_.notify_all();
    }
}

}  // namespace openbcpm::web
