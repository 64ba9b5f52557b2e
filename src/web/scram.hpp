// Protected HTTP (the guide's "HTTP with built-in payload encryption"): a
// SCRAM-SHA-256 login (the logic of RFC 5802/7677, carried in JSON rather than
// SASL messages), an integrity tag on every state-changing request bound to
// the session, and a sealed box for the passwords of a password change.
// Everything here is pure (no I/O, no clock of its own): the server calls it
// on its loop, the tests and the fuzz target call it directly.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace openbcpm::web::scram {

// PBKDF2-HMAC-SHA256 rounds for new credentials. RFC 7677 asks for at least
// 4096; a login costs the browser this many rounds once (about 0.1 s), and an
// eavesdropper who recorded a login the same per password guessed.
inline constexpr uint32_t kIterations = 100000;
inline constexpr uint32_t kMinIterations = 4096;
inline constexpr uint32_t kMaxIterations = 10000000;
inline constexpr size_t kSaltBytes = 16;
inline constexpr size_t kKeyBytes = 32;  // SHA-256
inline constexpr size_t kMaxUserBytes = 64;
inline constexpr size_t kMinClientNonce = 16, kMaxClientNonce = 128;
inline constexpr size_t kSealNonceBytes = 12;
inline constexpr size_t kMaxSealedBytes = 4096;
// A sequence number goes through a JavaScript number: at most 2^53 - 1.
inline constexpr uint64_t kMaxSeq = (uint64_t{1} << 53) - 1;

// --- Primitives (OpenSSL); all strings are raw bytes unless named otherwise ---
std::string sha256(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string pbkdf2_sha256(std::string_view password, std::string_view salt, uint32_t iterations);
std::string random_bytes(size_t n);
bool equal_bytes(std::string_view a, std::string_view b);  // constant time for equal sizes
std::string base64_encode(std::string_view bytes);
// Strict: the standard alphabet with padding, nothing else; nullopt otherwise.
std::optional<std::string> base64_decode(std::string_view text);
std::string hex(std::string_view bytes);                  // lower case
std::optional<std::string> unhex(std::string_view text);  // lower case only

// --- Credentials: what the meter keeps instead of a password ---
struct Credentials {
    std::string salt;  // raw
    uint32_t iterations = 0;
    std::string stored_key;  // H(ClientKey)
    std::string server_key;  // HMAC(SaltedPassword, "Server Key")
    bool valid() const {
        return salt.size() >= 8 && stored_key.size() == kKeyBytes &&
               server_key.size() == kKeyBytes && iterations >= kMinIterations &&
               iterations <= kMaxIterations;
    }
    nlohmann::json to_json() const;
    static Credentials from_json(const nlohmann::json& j);  // invalid (empty) when malformed
};
Credentials derive(std::string_view password, std::string_view salt, uint32_t iterations);
// A fresh random salt and kIterations.
Credentials generate(std::string_view password);
// Deterministic stand-ins for a name that has no credentials: the same name
// always gets the same salt, so a challenge does not tell which names exist.
Credentials fake_credentials(std::string_view secret, std::string_view user);

// RFC 5802 saslname: '=' as "=3D", ',' as "=2C".
std::string saslname(std::string_view user);
// client-first-message-bare "," server-first-message "," client-final-message-without-proof,
// exactly as RFC 5802 builds it (channel binding "biws": none).
std::string auth_message(std::string_view user, std::string_view client_nonce,
                         std::string_view nonce, std::string_view salt, uint32_t iterations);

// The client's side (the browser does the same in secure_http.js; here for tests).
struct ClientFinal {
    std::string proof;             // ClientKey XOR ClientSignature
    std::string server_signature;  // what the server must answer
    std::string client_key;
};
ClientFinal client_final(std::string_view password, std::string_view salt, uint32_t iterations,
                         std::string_view auth_message);

// The server's side: nullopt when the proof is wrong.
struct Verified {
    std::string server_signature;
    std::string client_key;  // recovered from the proof
};
std::optional<Verified> verify_proof(const Credentials& credentials, std::string_view auth_message,
                                     std::string_view proof);

// The session key: known to the client and the meter after the login, not to
// an eavesdropper (it needs ClientKey, which the proof hides under StoredKey).
std::string session_key(std::string_view client_key, std::string_view auth_message);

// --- Integrity of state-changing requests ---
// hex HMAC-SHA256(K_i, "openbcpm integrity\n" METHOD "\n" target "\n" seq "\n" hex SHA-256(body))
// with K_i = HMAC-SHA256(session key, "openbcpm integrity key"); target is the
// request-target as sent (path and query).
std::string integrity_tag(std::string_view session_key, std::string_view method,
                          std::string_view target, uint64_t seq, std::string_view body);
// X-Integrity-Seq: decimal, 1 to kMaxSeq, no sign, no leading zero.
std::optional<uint64_t> parse_seq(std::string_view text);

enum class IntegrityError { None, Missing, Malformed, NoKey, Replayed, Wrong };
std::string_view to_string(IntegrityError e);
// Checks the two headers (empty when absent) of a request against the
// session's key and last accepted sequence number; on success `last_seq`
// becomes the request's. Nothing changes on a refusal.
IntegrityError check_integrity(std::string_view session_key, uint64_t& last_seq,
                               std::string_view method, std::string_view target,
                               std::string_view body, std::string_view tag_header,
                               std::string_view seq_header);

// --- Sealed passwords: ChaCha20-Poly1305 under K_s = HMAC(session key, "openbcpm seal key") ---
inline constexpr std::string_view kPasswordAad = "openbcpm password change";
struct SealedBox {
    std::string nonce;  // 12 bytes
    std::string data;   // ciphertext followed by the 16-byte tag
};
SealedBox seal(std::string_view session_key, std::string_view plaintext, std::string_view aad);
// nullopt when the box was not made with this key and aad, or was altered.
std::optional<std::string> open(std::string_view session_key, const SealedBox& box,
                                std::string_view aad);

// --- The JSON requests ---
struct ChallengeRequest {
    std::string username;
    std::string client_nonce;
};
// {"username": 1-64 bytes without control characters, "client_nonce": 16-128
// printable ASCII characters without ','}
std::optional<ChallengeRequest> parse_challenge(const nlohmann::json& body);
struct ProofRequest {
    std::string username;
    std::string nonce;
    std::string proof;  // raw, 32 bytes
};
// {"username", "nonce" (the challenge's), "proof": base64 of 32 bytes}
std::optional<ProofRequest> parse_proof(const nlohmann::json& body);
// {"nonce": base64 of 12 bytes, "data": base64 of 16 to 4096 bytes}
std::optional<SealedBox> parse_sealed(const nlohmann::json& box);

// --- Challenges waiting for their proof: single use, short-lived, bounded ---
struct Challenge {
    std::string user;
    std::string client_nonce;
    std::string nonce;  // client nonce + server nonce
    std::string salt;
    uint32_t iterations = 0;
    int64_t expires = 0;
};

class ChallengeTable {
  public:
    explicit ChallengeTable(size_t capacity = 256, int64_t lifetime_seconds = 60)
        : capacity_(capacity), lifetime_(lifetime_seconds) {}
    // A new challenge; at the capacity the oldest one goes.
    const Challenge& issue(std::string user, std::string client_nonce, std::string salt,
                           uint32_t iterations, int64_t now);
    // Removes and returns the challenge of `nonce`; nullopt when unknown,
    // used already or expired.
    std::optional<Challenge> take(std::string_view nonce, int64_t now);
    size_t size() const { return by_nonce_.size(); }
    size_t capacity() const { return capacity_; }

  private:
    void expire(int64_t now);
    size_t capacity_;
    int64_t lifetime_;
    uint64_t next_ = 0;
    std::map<std::string, std::pair<uint64_t, Challenge>, std::less<>> by_nonce_;
    std::map<uint64_t, std::string> by_age_;  // issue order -> nonce
};

}  // namespace openbcpm::web::scram
