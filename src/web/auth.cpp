#include "web/auth.hpp"

#include <argon2.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "storage/store.hpp"

namespace openbcpm::web {

namespace {

// OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane: a few tens of
// milliseconds, spent on the web server's hashing thread, not the loop.
constexpr uint32_t kArgonTime = 2;
constexpr uint32_t kArgonMemoryKiB = 19 * 1024;
constexpr uint32_t kArgonLanes = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

void random_bytes(unsigned char* out, size_t n) {
    if (RAND_bytes(out, static_cast<int>(n)) != 1)
        throw std::runtime_error("no random bytes from OpenSSL");
}

const char* const kUsersKey = "web.users";
const char* const kSessionsKey = "web.sessions";
const char* const kAuditKey = "web.audit";
const char* const kScramSecretKey = "web.scram_secret";

}  // namespace

std::string random_hex(size_t bytes) {
    std::vector<unsigned char> b(bytes);
    random_bytes(b.data(), b.size());
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : b) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

std::string sha256_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out.push_back(digits[md[i] >> 4]);
        out.push_back(digits[md[i] & 15]);
    }
    return out;
}

std::string hash_password(std::string_view password) {
    std::array<unsigned char, kSaltBytes> salt{};
    random_bytes(salt.data(), salt.size());
    const size_t len = argon2_encodedlen(kArgonTime, kArgonMemoryKiB, kArgonLanes, kSaltBytes,
                                         kHashBytes, Argon2_id);
    std::string encoded(len, '\0');
    const int rc = argon2id_hash_encoded(kArgonTime, kArgonMemoryKiB, kArgonLanes, password.data(),
                                         password.size(), salt.data(), salt.size(), kHashBytes,
                                         encoded.data(), encoded.size());
    if (rc != ARGON2_OK)
        throw std::runtime_error(std::string("argon2id: ") + argon2_error_message(rc));
    encoded.resize(encoded.find('\0') == std::string::npos ? encoded.size() : encoded.find('\0'));
    return encoded;
}

bool verify_password(const std::string& encoded, std::string_view password) {
    if (encoded.rfind("$argon2id$", 0) != 0) return false;
    return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

std::optional<std::string> password_problem(std::string_view password, std::string_view user) {
    if (password.size() < 10) return "the password must have at least 10 characters";
    if (password.size() > 128) return "the password must have at most 128 characters";
    int lower = 0, upper = 0, digit = 0, symbol = 0;
    for (unsigned char c : password) {
        if (c < 0x20 || c == 0x7f) return "the password must not contain control characters";
        if (c >= 'a' && c <= 'z')
            lower = 1;
        else if (c >= 'A' && c <= 'Z')
            upper = 1;
        else if (c >= '0' && c <= '9')
            digit = 1;
        else
            symbol = 1;
    }
    if (lower + upper + digit + symbol < 3) {
        return "the password must mix at least three of: lower-case letters, upper-case letters, "
               "digits, symbols";
    }
    if (!user.empty()) {
        std::string p(password), u(user);
        for (auto& c : p)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (auto& c : u)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (p.find(u) != std::string::npos) return "the password must not contain the user name";
    }
    return std::nullopt;
}

std::string generate_initial_password() {
    // Letters and digits without look-alikes, plus the label's symbols.
    static constexpr std::string_view kAlphabet =
        "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789$%#@!*";
    while (true) {
        std::array<unsigned char, 16> b{};
        random_bytes(b.data(), b.size());
        std::string pw;
        // 256 is not a multiple of the alphabet size: bytes past the last
        // whole multiple are rejected so that every character is equally likely.
        for (size_t i = 0; pw.size() < 16;) {
            if (i == b.size()) {
                random_bytes(b.data(), b.size());
                i = 0;
            }
            const unsigned char c = b[i++];
            if (c >= (256 / kAlphabet.size()) * kAlphabet.size()) continue;
            pw.push_back(kAlphabet[c % kAlphabet.size()]);
        }
        if (!password_problem(pw, "admin")) return pw;
    }
}

// --- AuditLog ---

AuditLog::AuditLog(Store* store, size_t keep) : store_(store), keep_(keep) {
    if (!store_) return;
    if (auto text = store_->load_text(kAuditKey)) {
        auto j = nlohmann::json::parse(*text, nullptr, false);
        if (j.is_array()) {
            for (const auto& e : j) {
                AuditEntry a;
                a.time = e.value("time", int64_t{0});
                a.user = e.value("user", "");
                a.client = e.value("client", "");
                a.action = e.value("action", "");
                a.detail = e.value("detail", "");
                entries_.push_back(std::move(a));
            }
        }
    }
    before_start_ = entries_.size();
}

void AuditLog::add(std::string user, std::string client, std::string action, std::string detail) {
    spdlog::info("web audit: {} from {}: {} {}", user.empty() ? "-" : user, client, action, detail);
    entries_.push_back(
        {unix_now(), std::move(user), std::move(client), std::move(action), std::move(detail)});
    if (entries_.size() > keep_) {
        const size_t drop = entries_.size() - keep_;
        entries_.erase(entries_.begin(), entries_.begin() + static_cast<long>(drop));
        before_start_ -= std::min(before_start_, drop);
    }
    if (!store_) return;
    try {
        store_->save_text(kAuditKey, to_json(keep_).dump());
    } catch (const StoreError&) {
        // The action is done; its entry stays in memory and is stored with the
        // next one (the store's health reports the failure).
    }
}

nlohmann::json AuditLog::to_json(size_t limit, bool mark_start) const {
    nlohmann::json out = nlohmann::json::array();
    const size_t first = entries_.size() > limit ? entries_.size() - limit : 0;
    for (size_t i = first; i < entries_.size(); ++i) {
        const AuditEntry& a = entries_[i];
        out.push_back({{"time", a.time},
                       {"user", a.user},
                       {"client", a.client},
                       {"action", a.action},
                       {"detail", a.detail}});
        if (mark_start) out.back()["this_start"] = i >= before_start_;
    }
    return out;
}

// --- UserStore ---

UserStore::UserStore(Store* store, bool defer_initial) : store_(store) {
    if (store_) {
        if (auto text = store_->load_text(kUsersKey)) {
            auto j = nlohmann::json::parse(*text, nullptr, false);
            if (j.is_object()) {
                for (auto it = j.begin(); it != j.end(); ++it) {
                    if (!it.value().is_object()) continue;
                    User u;
                    u.name = it.key();
                    u.hash = it.value().value("hash", "");
                    u.initial = it.value().value("initial", false);
                    u.changed = it.value().value("changed", int64_t{0});
                    if (auto s = it.value().find("scram"); s != it.value().end())
                        u.scram_keys = scram::Credentials::from_json(*s);
                    users_.emplace(u.name, std::move(u));
                }
            }
        }
    }
    if (store_) {
        if (auto secret = store_->load_text(kScramSecretKey)) {
            if (auto raw = scram::unhex(*secret); raw && raw->size() == scram::kKeyBytes)
                scram_secret_ = std::move(*raw);
        }
    }
    if (scram_secret_.empty()) {
        scram_secret_ = scram::random_bytes(scram::kKeyBytes);
        if (store_) {
            try {
                store_->save_text(kScramSecretKey, scram::hex(scram_secret_));
            } catch (const StoreError& e) {
                spdlog::error("web: the login secret could not be stored: {}", e.what());
            }
        }
    }
    if (!users_.count("admin")) {
        const std::string pw = generate_initial_password();
        initial_password_ = pw;
        if (defer_initial) {
            pending_initial_ = pw;
            return;
        }
        complete_initial(hash_password(pw), scram::generate(pw));
    }
}

void UserStore::complete_initial(std::string encoded, scram::Credentials credentials) {
    if (!pending_initial_ && !initial_password_) return;
    pending_initial_.reset();
    if (users_.count("admin")) return;
    users_.emplace("admin",
                   User{"admin", std::move(encoded), true, unix_now(), std::move(credentials)});
    try {
        save();
    } catch (const StoreError& e) {
        // Usable now; a start with working storage makes a new one.
        spdlog::error("web: the admin account could not be stored: {}", e.what());
    }
}

const User* UserStore::find(std::string_view name) const {
    auto it = users_.find(name);
    return it == users_.end() ? nullptr : &it->second;
}

PasswordVerdict run_password_work(const PasswordWork& work) {
    PasswordVerdict verdict;
    if (work.encoded.empty()) {
        static const std::string dummy = hash_password("openbcpm-no-such-user");
        verify_password(dummy, work.password);
        return verdict;
    }
    verdict.verified = verify_password(work.encoded, work.password);
    if (verdict.verified && !work.new_password.empty()) {
        verdict.new_hash = hash_password(work.new_password);
        verdict.scram_keys = scram::generate(work.new_password);
    } else if (verdict.verified && work.derive_scram) {
        verdict.scram_keys = scram::generate(work.password);
    }
    return verdict;
}

void UserStore::set_scram(std::string_view name, scram::Credentials credentials) {
    auto it = users_.find(name);
    if (it == users_.end() || !credentials.valid()) return;
    User next = it->second;
    next.scram_keys = std::move(credentials);
    std::swap(it->second, next);
    try {
        save();
    } catch (const StoreError&) {
        std::swap(it->second, next);
        throw;
    }
}

void UserStore::set_hash(std::string_view name, std::string encoded,
                         scram::Credentials credentials) {
    auto it = users_.find(name);
    if (it == users_.end()) throw std::invalid_argument("no such user");
    User next = it->second;
    next.hash = std::move(encoded);
    next.scram_keys = std::move(credentials);
    next.initial = false;
    next.changed = unix_now();
    // Stored before it takes effect: a StoreError leaves the old password.
    std::swap(it->second, next);
    try {
        save();
    } catch (const StoreError&) {
        std::swap(it->second, next);
        throw;
    }
}

void UserStore::save() {
    if (!store_) return;
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [name, u] : users_) {
        j[name] = {{"hash", u.hash}, {"initial", u.initial}, {"changed", u.changed}};
        if (u.scram_keys.valid()) j[name]["scram"] = u.scram_keys.to_json();
    }
    store_->save_text(kUsersKey, j.dump());
}

// --- SessionTable ---

SessionTable::SessionTable(Store* store, SessionLimits limits) : store_(store), limits_(limits) {
    if (!store_) return;
    if (auto text = store_->load_text(kSessionsKey)) {
        auto j = nlohmann::json::parse(*text, nullptr, false);
        if (j.is_array()) {
            for (const auto& e : j) {
                if (!e.is_object()) continue;
                Session s;
                s.id = e.value("id", "");
                s.user = e.value("user", "");
                s.csrf = e.value("csrf", "");
                s.created = e.value("created", int64_t{0});
                s.last_seen = e.value("last_seen", int64_t{0});
                if (auto key = scram::unhex(e.value("key", ""));
                    key && key->size() == scram::kKeyBytes)
                    s.key = std::move(*key);
                s.seq = e.value("seq", uint64_t{0});
                if (s.id.size() == 64 && !s.csrf.empty()) sessions_.emplace(s.id, std::move(s));
            }
        }
    }
    expire(unix_now());
}

void SessionTable::expire(int64_t now) {
    bool changed = false;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        const Session& s = it->second;
        if (now - s.last_seen > limits_.idle_seconds ||
            now - s.created > limits_.absolute_seconds || now < s.created) {
            it = sessions_.erase(it);
            changed = true;
        } else {
            ++it;
        }
    }
    if (changed) save();
}

std::string SessionTable::create(const std::string& user, Session** out, std::string key) {
    const int64_t now = unix_now();
    expire(now);
    // Over the limit, the least recently used session goes.
    while (sessions_.size() >= limits_.max_sessions) {
        auto oldest = sessions_.begin();
        for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
            if (it->second.last_seen < oldest->second.last_seen) oldest = it;
        }
        sessions_.erase(oldest);
    }
    std::string token = random_hex(32);
    Session s{sha256_hex(token), user, random_hex(32), now, now, std::move(key), 0};
    auto [it, _] = sessions_.insert_or_assign(s.id, std::move(s));
    if (out) *out = &it->second;
    save();
    return token;
}

Session* SessionTable::find(std::string_view token, int64_t now) {
    if (token.size() != 64) return nullptr;
    auto it = sessions_.find(sha256_hex(token));
    if (it == sessions_.end()) return nullptr;
    Session& s = it->second;
    if (now - s.last_seen > limits_.idle_seconds || now - s.created > limits_.absolute_seconds ||
        now < s.created) {
        sessions_.erase(it);
        save();
        return nullptr;
    }
    s.last_seen = now;
    return &s;
}

void SessionTable::remove(std::string_view token) {
    if (sessions_.erase(sha256_hex(token)) > 0) save();
}

void SessionTable::remove_user(std::string_view user, std::string_view except_token) {
    const std::string keep = except_token.empty() ? std::string() : sha256_hex(except_token);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        if (it->second.user == user && it->first != keep)
            it = sessions_.erase(it);
        else
            ++it;
    }
    save();
}

void SessionTable::save() {
    if (!store_) return;
    nlohmann::json j = nlohmann::json::array();
    for (const auto& [id, s] : sessions_) {
        j.push_back({{"id", s.id},
                     {"user", s.user},
                     {"csrf", s.csrf},
                     {"created", s.created},
                     {"last_seen", s.last_seen}});
        if (!s.key.empty()) {
            j.back()["key"] = scram::hex(s.key);
            j.back()["seq"] = s.seq;
        }
    }
    try {
        store_->save_text(kSessionsKey, j.dump());
    } catch (const StoreError&) {
        // Sessions live in memory; the store only carries them over a restart.
        // They are stored with the next change (the store's health reports it).
    }
}

// --- LoginThrottle ---

int64_t LoginThrottle::locked_for(const std::string& user, int64_t now) const {
    auto it = state_.find(user);
    if (it == state_.end() || it->second.locked_until <= now) return 0;
    return it->second.locked_until - now;
}

bool LoginThrottle::fail(const std::string& user, int64_t now) {
    // Bounded: guessing many names must not grow memory without end.
    if (state_.size() >= 4096 && !state_.count(user)) {
        for (auto it = state_.begin(); it != state_.end();) {
            if (it->second.locked_until <= now)
                it = state_.erase(it);
            else
                ++it;
        }
        if (state_.size() >= 4096) state_.erase(state_.begin());
    }
    State& s = state_[user];
    if (s.locked_until != 0 && s.locked_until <= now) s = State{};  // an expired lock starts over
    ++s.failures;
    if (s.failures >= policy_.max_failures && s.locked_until <= now) {
        s.locked_until = now + policy_.lock_seconds;
        return true;
    }
    return false;
}

void LoginThrottle::succeed(const std::string& user) {
    state_.erase(user);
}

}  // namespace openbcpm::web
