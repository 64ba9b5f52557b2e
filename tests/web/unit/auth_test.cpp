#include "web/auth.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "../../temp_dir.hpp"
#include "storage/store.hpp"

using namespace openbcpm;
using namespace openbcpm::web;

namespace {
using test::TempDir;

// What a login asks of the hashing thread, done here.
bool verifies(const UserStore& users, std::string_view name, std::string_view password) {
    const User* u = users.find(name);
    return run_password_work({u ? u->hash : std::string(), std::string(password), {}}).verified;
}
}  // namespace

TEST(Passwords, Argon2idHashVerifies) {
    const std::string h = hash_password("Panel-Board#2026");
    EXPECT_EQ(h.rfind("$argon2id$", 0), 0u) << h;
    EXPECT_TRUE(verify_password(h, "Panel-Board#2026"));
    EXPECT_FALSE(verify_password(h, "Panel-Board#2027"));
    EXPECT_NE(h, hash_password("Panel-Board#2026"));  // salted
    EXPECT_FALSE(verify_password("$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "x"));
}

TEST(Passwords, StrengthRule) {
    EXPECT_TRUE(password_problem("short", "admin"));
    EXPECT_TRUE(password_problem("alllowercaseletters", "admin"));
    EXPECT_TRUE(password_problem("lowercase123", "admin"));   // two classes
    EXPECT_TRUE(password_problem("MyAdmin#2026x", "admin"));  // contains the user name
    EXPECT_FALSE(password_problem("Lowercase123", "admin"));
    EXPECT_FALSE(password_problem("dX2oO8$A%e94SVoX", "admin"));  // the guide's label example
}

TEST(Passwords, InitialPasswordsAreRandomAndStrong) {
    const std::string a = generate_initial_password(), b = generate_initial_password();
    EXPECT_EQ(a.size(), 16u);
    EXPECT_NE(a, b);
    EXPECT_FALSE(password_problem(a, "admin"));
}

TEST(Users, FirstStartCreatesAdminOnceAndPersistsHashesOnly) {
    TempDir dir;
    std::string initial;
    {
        Store store(dir.path);
        UserStore users(&store);
        ASSERT_TRUE(users.initial_password());
        initial = *users.initial_password();
        EXPECT_TRUE(verifies(users, "admin", initial));
        EXPECT_TRUE(users.find("admin")->initial);
        const std::string stored = *store.load_text("web.users");
        EXPECT_EQ(stored.find(initial), std::string::npos);
        EXPECT_NE(stored.find("$argon2id$"), std::string::npos);
    }
    Store store(dir.path);
    UserStore again(&store);
    EXPECT_FALSE(again.initial_password());  // printed once only
    EXPECT_TRUE(verifies(again, "admin", initial));
    // The initial password's challenge-login keys were made and kept with it.
    const scram::Credentials first = again.find("admin")->scram_keys;
    ASSERT_TRUE(first.valid());
    EXPECT_EQ(scram::derive(initial, first.salt, first.iterations).stored_key, first.stored_key);
    again.set_hash("admin", hash_password("Panel-Board#2026"), scram::generate("Panel-Board#2026"));
    EXPECT_NE(again.find("admin")->scram_keys.stored_key, first.stored_key);
    EXPECT_FALSE(verifies(again, "admin", initial));
    EXPECT_TRUE(verifies(again, "admin", "Panel-Board#2026"));
    EXPECT_FALSE(again.find("admin")->initial);
    EXPECT_FALSE(verifies(again, "nobody", "Panel-Board#2026"));
}

TEST(Sessions, TokensAreStoredHashedAndExpire) {
    TempDir dir;
    Store store(dir.path);
    SessionTable t(&store, {.idle_seconds = 100, .absolute_seconds = 1000, .max_sessions = 2});
    Session* s = nullptr;
    const std::string token = t.create("admin", &s);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(token.size(), 64u);
    EXPECT_EQ(store.load_text("web.sessions")->find(token), std::string::npos);
    const int64_t now = unix_now();
    EXPECT_NE(t.find(token, now + 50), nullptr);
    EXPECT_NE(t.find(token, now + 140), nullptr);  // idle timer restarted at +50
    EXPECT_EQ(t.find(token, now + 300), nullptr);  // idle for 160 s
    const std::string t2 = t.create("admin");
    EXPECT_EQ(t.find(t2, now + 1001), nullptr);  // absolute limit
    EXPECT_EQ(t.find("not-a-token", now), nullptr);
}

TEST(Sessions, SurviveARestartThroughTheStore) {
    TempDir dir;
    Store store(dir.path);
    std::string token;
    {
        SessionTable t(&store, {});
        token = t.create("admin");
    }
    SessionTable again(&store, {});
    EXPECT_NE(again.find(token, unix_now()), nullptr);
    again.remove(token);
    EXPECT_EQ(again.find(token, unix_now()), nullptr);
}

TEST(Sessions, OldestGoesOverTheLimit) {
    SessionTable t(nullptr, {.idle_seconds = 100, .absolute_seconds = 1000, .max_sessions = 2});
    const std::string a = t.create("u");
    const std::string b = t.create("u");
    const std::string c = t.create("u");
    EXPECT_EQ(t.size(), 2u);
    EXPECT_NE(t.find(c, unix_now()), nullptr);
    EXPECT_EQ(t.find(a, unix_now()) != nullptr && t.find(b, unix_now()) != nullptr, false);
}

TEST(Lockout, LocksAfterRepeatedFailuresAndExpires) {
    LoginThrottle t({.max_failures = 3, .lock_seconds = 60});
    const int64_t now = 1000;
    EXPECT_FALSE(t.fail("admin", now));
    EXPECT_FALSE(t.fail("admin", now));
    EXPECT_EQ(t.locked_for("admin", now), 0);
    EXPECT_TRUE(t.fail("admin", now));
    EXPECT_EQ(t.locked_for("admin", now), 60);
    EXPECT_EQ(t.locked_for("other", now), 0);
    EXPECT_EQ(t.locked_for("admin", now + 61), 0);
    EXPECT_FALSE(t.fail("admin", now + 61));  // a fresh count after the lock
    t.succeed("admin");
    EXPECT_EQ(t.locked_for("admin", now + 61), 0);
}

TEST(Audit, KeepsTheNewestAndPersists) {
    TempDir dir;
    Store store(dir.path);
    {
        AuditLog log(&store, 3);
        for (int i = 0; i < 5; ++i)
            log.add("admin", "127.0.0.1", "parameter", std::to_string(i));
        EXPECT_EQ(log.entries().size(), 3u);
        EXPECT_EQ(log.entries().front().detail, "2");
    }
    AuditLog again(&store, 3);
    ASSERT_EQ(again.entries().size(), 3u);
    EXPECT_EQ(again.entries().back().detail, "4");
    EXPECT_EQ(again.to_json(1).size(), 1u);
}
