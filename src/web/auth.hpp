// Accounts, sessions and login throttling of the web face. Passwords are kept
// only as Argon2id hashes; session tokens only as SHA-256 digests (the raw
// token lives in the browser's cookie). Everything NV goes to the Store under
// "web." keys, so a System Restart keeps users, sessions and the audit log.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "web/scram.hpp"

namespace openbcpm {
class Store;
}

namespace openbcpm::web {

// --- Passwords ---
// Argon2id, encoded with its parameters and salt ("$argon2id$v=19$m=...").
std::string hash_password(std::string_view password);
bool verify_password(const std::string& encoded, std::string_view password);
// Argon2id costs tens of milliseconds, too long for the event loop: the web
// server hands this work to its hashing thread. Pure, safe on any thread.
struct PasswordWork {
    std::string encoded;       // the stored hash; empty for an unknown user
    std::string password;      // verified against it
    std::string new_password;  // hashed when verified; empty for none
    // Also derive the challenge-login credentials of `password` when verified
    // (an account made before protected HTTP existed gets them at its next login).
    bool derive_scram = false;
};
struct PasswordVerdict {
    bool verified = false;
    std::string new_hash;           // set when new_password was given and verified
    scram::Credentials scram_keys;  // of new_password, or of password with derive_scram
    bool busy = false;              // not run: the hashing workers' queue was full (503, try again)
};
// An unknown user (empty `encoded`) costs a verification too, so timing does
// not tell which names exist.
PasswordVerdict run_password_work(const PasswordWork& work);
// The strength rule; nullopt when the password is acceptable.
std::optional<std::string> password_problem(std::string_view password, std::string_view user);
// A fresh random password in the style of the meter's barcode label
// (16 characters of letters, digits and symbols), meeting the strength rule.
std::string generate_initial_password();
// Cryptographically random bytes as lower-case hex.
std::string random_hex(size_t bytes);
std::string sha256_hex(std::string_view data);

using Clock = std::chrono::system_clock;
inline int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch())
        .count();
}

// --- Audit log: who changed what, newest last, bounded ---
struct AuditEntry {
    int64_t time = 0;
    std::string user;
    std::string client;
    std::string action;
    std::string detail;
};

class AuditLog {
  public:
    explicit AuditLog(Store* store, size_t keep = 1000);
    void add(std::string user, std::string client, std::string action, std::string detail);
    const std::vector<AuditEntry>& entries() const { return entries_; }
    // The newest `limit` entries; with `mark_start`, each says whether it was
    // made since this start ("this_start"): the simulation page replays only
    // those (a second's resolution in "time" cannot tell).
    nlohmann::json to_json(size_t limit, bool mark_start = false) const;

  private:
    Store* store_;
    size_t keep_;
    std::vector<AuditEntry> entries_;
    size_t before_start_ = 0;  // entries_[0 .. before_start_) were loaded at start
};

// --- Users ---
struct User {
    std::string name;
    std::string hash;
    bool initial = false;  // still the factory (label) password
    int64_t changed = 0;   // when the password was last set
    // The challenge login's credentials (protected HTTP); invalid (empty) for
    // an account whose password was set before they existed.
    scram::Credentials scram_keys;
};

class UserStore {
  public:
    // Loads the users; on the first start creates "admin" with a random
    // password, which it returns once through initial_password(). With
    // `defer_initial` (a meter of a fleet: hundreds start at once) the admin's
    // Argon2id hash and challenge-login keys are not made here: the account
    // is pending (pending_initial() is its password, and find("admin") is
    // nullptr) until complete_initial() hands them over, made off the loop.
    explicit UserStore(Store* store, bool defer_initial = false);
    const User* find(std::string_view name) const;
    // A new password, hashed already (off the loop: run_password_work), with
    // its challenge-login credentials.
    void set_hash(std::string_view name, std::string encoded, scram::Credentials credentials);
    // Credentials for the same password (an account that had none).
    void set_scram(std::string_view name, scram::Credentials credentials);
    // The secret behind the stand-in salts of unknown names (stored, so that
    // a name's salt stays the same across restarts).
    const std::string& scram_secret() const { return scram_secret_; }
    // Set only when this start created the admin account.
    const std::optional<std::string>& initial_password() const { return initial_password_; }
    // The initial password whose credentials are still to be made (deferred).
    const std::optional<std::string>& pending_initial() const { return pending_initial_; }
    // The pending admin account with its credentials (hash_password() and
    // scram::generate() of pending_initial()), stored; a StoreError is logged
    // (usable now; a start with working storage makes a new one).
    void complete_initial(std::string encoded, scram::Credentials credentials);

  private:
    void save();
    Store* store_;
    std::map<std::string, User, std::less<>> users_;
    std::optional<std::string> initial_password_;
    std::optional<std::string> pending_initial_;
    std::string scram_secret_;
};

// --- Sessions ---
struct Session {
    std::string id;  // sha256 of the cookie token
    std::string user;
    std::string csrf;  // sent in X-CSRF-Token (or the "csrf" form field) with every change
    int64_t created = 0;
    int64_t last_seen = 0;
    // Protected HTTP: the key of a challenge login (raw, 32 bytes; empty for a
    // password login) and the last integrity sequence number it accepted.
    std::string key;
    uint64_t seq = 0;
};

struct SessionLimits {
    int64_t idle_seconds = 15 * 60;
    int64_t absolute_seconds = 8 * 3600;
    size_t max_sessions = 64;
};

class SessionTable {
  public:
    SessionTable(Store* store, SessionLimits limits);
    // Creates a session (with the key of a challenge login, if any); returns
    // the raw token for the cookie.
    std::string create(const std::string& user, Session** out = nullptr, std::string key = {});
    // The live session of a cookie token (touching it), or nullptr when
    // unknown or expired.
    Session* find(std::string_view token, int64_t now);
    void remove(std::string_view token);
    void remove_user(std::string_view user, std::string_view except_token = {});
    size_t size() const { return sessions_.size(); }
    const SessionLimits& limits() const { return limits_; }
    void save();

  private:
    void expire(int64_t now);
    Store* store_;
    SessionLimits limits_;
    std::map<std::string, Session, std::less<>> sessions_;
};

// --- Lockout after repeated failures ---
struct LockoutPolicy {
    int max_failures = 5;           // consecutive failures that lock
    int64_t lock_seconds = 5 * 60;  // how long the lock lasts
};

class LoginThrottle {
  public:
    explicit LoginThrottle(LockoutPolicy policy) : policy_(policy) {}
    // Seconds left of a lock on this account, 0 when it may try.
    int64_t locked_for(const std::string& user, int64_t now) const;
    // Records a failure; true when this failure locked the account.
    bool fail(const std::string& user, int64_t now);
    void succeed(const std::string& user);
    const LockoutPolicy& policy() const { return policy_; }

  private:
    struct State {
        int failures = 0;
        int64_t locked_until = 0;
    };
    LockoutPolicy policy_;
    std::map<std::string, State, std::less<>> state_;
};

}  // namespace openbcpm::web
