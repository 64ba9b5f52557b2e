#include "web/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace openbcpm::web::scram {

namespace {

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string xor_bytes(std::string_view a, std::string_view b) {
    std::string out(a.size(), '\0');
    for (size_t i = 0; i < a.size(); ++i)
        out[i] = static_cast<char>(a[i] ^ b[i]);
    return out;
}

bool printable_nonce(std::string_view s) {
    // RFC 5802 "printable": %x21-2B / %x2D-7E (no ',').
    for (unsigned char c : s) {
        if (c < 0x21 || c > 0x7e || c == ',') return false;
    }
    return true;
}

bool plain_user(std::string_view s) {
    if (s.empty() || s.size() > kMaxUserBytes) return false;
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) return false;
    }
    return true;
}

std::optional<std::string> json_text(const nlohmann::json& j, const char* key) {
    if (!j.is_object()) return std::nullopt;
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

std::string subkey(std::string_view session_key, std::string_view label) {
    return hmac_sha256(session_key, label);
}

struct CipherCtx {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

}  // namespace

std::string sha256(std::string_view data) {
    std::string out(kKeyBytes, '\0');
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
               EVP_sha256(), nullptr);
    return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    std::string out(kKeyBytes, '\0');
    unsigned int len = 0;
    // An empty key still needs a valid pointer.
    static const unsigned char none = 0;
    if (!HMAC(EVP_sha256(), key.empty() ? &none : bytes(key), static_cast<int>(key.size()),
              bytes(data), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len))
        throw std::runtime_error("HMAC-SHA256 failed");
    return out;
}

std::string pbkdf2_sha256(std::string_view password, std::string_view salt, uint32_t iterations) {
    std::string out(kKeyBytes, '\0');
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), bytes(salt),
                          static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                          static_cast<int>(out.size()),
                          reinterpret_cast<unsigned char*>(out.data())) != 1)
        throw std::runtime_error("PBKDF2 failed");
    return out;
}

std::string random_bytes(size_t n) {
    std::string out(n, '\0');
    if (n && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
        throw std::runtime_error("no random bytes from OpenSSL");
    return out;
}

bool equal_bytes(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) |
                           uint32_t(uint8_t(in[i + 2]));
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (const size_t rest = in.size() - i; rest > 0) {
        uint32_t v = uint32_t(uint8_t(in[i])) << 16;
        if (rest == 2) v |= uint32_t(uint8_t(in[i + 1])) << 8;
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        uint32_t v = 0;
        int pad = 0;
        for (size_t k = 0; k < 4; ++k) {
            const char c = text[i + k];
            if (c == '=') {
                // Padding only at the end of the last group, and at most two.
                if (!last || k < 2) return std::nullopt;
                ++pad;
                v <<= 6;
                continue;
            }
            if (pad) return std::nullopt;  // data after padding
            const size_t d = kAlphabet.find(c);
            if (d == std::string_view::npos) return std::nullopt;
            v = (v << 6) | static_cast<uint32_t>(d);
        }
        // Canonical: the bits dropped by the padding are zero.
        if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0)) return std::nullopt;
        out += static_cast<char>(v >> 16);
        if (pad < 2) out += static_cast<char>((v >> 8) & 0xff);
        if (pad < 1) out += static_cast<char>(v & 0xff);
    }
    return out;
}

std::string hex(std::string_view in) {
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    out.reserve(in.size() * 2);
    for (unsigned char c : in) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::optional<std::string> unhex(std::string_view text) {
    if (text.size() % 2 != 0) return std::nullopt;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::string out;
    out.reserve(text.size() / 2);
    for (size_t i = 0; i < text.size(); i += 2) {
        const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi << 4 | lo);
    }
    return out;
}

// --- Credentials ---

nlohmann::json Credentials::to_json() const {
    return {{"salt", base64_encode(salt)},
            {"iterations", iterations},
            {"stored_key", base64_encode(stored_key)},
            {"server_key", base64_encode(server_key)}};
}

Credentials Credentials::from_json(const nlohmann::json& j) {
    Credentials c;
    if (!j.is_object()) return c;
    auto salt = base64_decode(json_text(j, "salt").value_or("!"));
    auto stored = base64_decode(json_text(j, "stored_key").value_or("!"));
    auto server = base64_decode(json_text(j, "server_key").value_or("!"));
    auto it = j.find("iterations");
    if (!salt || !stored || !server || it == j.end() || !it->is_number_unsigned()) return c;
    const uint64_t n = it->get<uint64_t>();
    Credentials out{*salt, static_cast<uint32_t>(std::min<uint64_t>(n, UINT32_MAX)), *stored,
                    *server};
    return out.valid() ? out : c;
}

Credentials derive(std::string_view password, std::string_view salt, uint32_t iterations) {
    const std::string salted = pbkdf2_sha256(password, salt, iterations);
    const std::string client_key = hmac_sha256(salted, "Client Key");
    return {std::string(salt), iterations, sha256(client_key), hmac_sha256(salted, "Server Key")};
}

Credentials generate(std::string_view password) {
    return derive(password, random_bytes(kSaltBytes), kIterations);
}

Credentials fake_credentials(std::string_view secret, std::string_view user) {
    const std::string u(user);
    return {hmac_sha256(secret, "openbcpm fake salt," + u).substr(0, kSaltBytes), kIterations,
            hmac_sha256(secret, "openbcpm fake stored key," + u),
            hmac_sha256(secret, "openbcpm fake server key," + u)};
}

std::string saslname(std::string_view user) {
    std::string out;
    for (char c : user) {
        if (c == '=')
            out += "=3D";
        else if (c == ',')
            out += "=2C";
        else
            out += c;
    }
    return out;
}

std::string auth_message(std::string_view user, std::string_view client_nonce,
                         std::string_view nonce, std::string_view salt, uint32_t iterations) {
    std::string m = "n=" + saslname(user) + ",r=";
    m += client_nonce;
    m += ",r=";
    m += nonce;
    m += ",s=" + base64_encode(salt) + ",i=" + std::to_string(iterations) + ",c=biws,r=";
    m += nonce;
    return m;
}

ClientFinal client_final(std::string_view password, std::string_view salt, uint32_t iterations,
                         std::string_view auth) {
    const std::string salted = pbkdf2_sha256(password, salt, iterations);
    const std::string client_key = hmac_sha256(salted, "Client Key");
    const std::string stored_key = sha256(client_key);
    const std::string signature = hmac_sha256(stored_key, auth);
    return {xor_bytes(client_key, signature), hmac_sha256(hmac_sha256(salted, "Server Key"), auth),
            client_key};
}

std::optional<Verified> verify_proof(const Credentials& credentials, std::string_view auth,
                                     std::string_view proof) {
    if (proof.size() != kKeyBytes || credentials.stored_key.size() != kKeyBytes)
        return std::nullopt;
    const std::string signature = hmac_sha256(credentials.stored_key, auth);
    std::string client_key = xor_bytes(proof, signature);
    if (!equal_bytes(sha256(client_key), credentials.stored_key)) return std::nullopt;
    return Verified{hmac_sha256(credentials.server_key, auth), std::move(client_key)};
}

std::string session_key(std::string_view client_key, std::string_view auth) {
    return hmac_sha256(client_key, "openbcpm session key," + std::string(auth));
}

// --- Integrity ---

std::string integrity_tag(std::string_view key, std::string_view method, std::string_view target,
                          uint64_t seq, std::string_view body) {
    std::string message = "openbcpm integrity\n";
    message += method;
    message += '\n';
    message += target;
    message += '\n';
    message += std::to_string(seq);
    message += '\n';
    message += hex(sha256(body));
    return hex(hmac_sha256(subkey(key, "openbcpm integrity key"), message));
}

std::optional<uint64_t> parse_seq(std::string_view text) {
    if (text.empty() || text.size() > 16 || text.front() == '0') return std::nullopt;
    uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (v > kMaxSeq) return std::nullopt;
    return v;
}

std::string_view to_string(IntegrityError e) {
    switch (e) {
        case IntegrityError::None:
            return "ok";
        case IntegrityError::Missing:
            return "missing";
        case IntegrityError::Malformed:
            return "malformed";
        case IntegrityError::NoKey:
            return "no-key";
        case IntegrityError::Replayed:
            return "replayed";
        case IntegrityError::Wrong:
            return "wrong";
    }
    return "wrong";
}

IntegrityError check_integrity(std::string_view key, uint64_t& last_seq, std::string_view method,
                               std::string_view target, std::string_view body,
                               std::string_view tag_header, std::string_view seq_header) {
    if (tag_header.empty() && seq_header.empty()) return IntegrityError::Missing;
    const auto seq = parse_seq(seq_header);
    if (!seq || tag_header.size() != 2 * kKeyBytes || !unhex(tag_header))
        return IntegrityError::Malformed;
    if (key.size() != kKeyBytes) return IntegrityError::NoKey;
    // The tag first: a forged request must not learn where the sequence stands.
    if (!equal_bytes(integrity_tag(key, method, target, *seq, body), tag_header))
        return IntegrityError::Wrong;
    if (*seq <= last_seq) return IntegrityError::Replayed;
    last_seq = *seq;
    return IntegrityError::None;
}

// --- Sealing ---

SealedBox seal(std::string_view key, std::string_view plaintext, std::string_view aad) {
    SealedBox box{random_bytes(kSealNonceBytes), {}};
    const std::string k = subkey(key, "openbcpm seal key");
    std::unique_ptr<EVP_CIPHER_CTX, CipherCtx> ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    std::string out(plaintext.size() + 16, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    if (!ctx ||
        EVP_EncryptInit_ex(ctx.get(), EVP_chacha20_poly1305(), nullptr, bytes(k),
                           bytes(box.nonce)) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) !=
            1 ||
        EVP_EncryptUpdate(ctx.get(), o, &len, bytes(plaintext),
                          static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), o + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, 16, o + plaintext.size()) != 1)
        throw std::runtime_error("ChaCha20-Poly1305 failed");
    box.data = std::move(out);
    return box;
}

std::optional<std::string> open(std::string_view key, const SealedBox& box, std::string_view aad) {
    if (box.nonce.size() != kSealNonceBytes || box.data.size() < 16 || key.size() != kKeyBytes)
        return std::nullopt;
    const std::string k = subkey(key, "openbcpm seal key");
    const size_t n = box.data.size() - 16;
    std::string tag = box.data.substr(n);
    std::string out(n, '\0');
    std::unique_ptr<EVP_CIPHER_CTX, CipherCtx> ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    if (!ctx ||
        EVP_DecryptInit_ex(ctx.get(), EVP_chacha20_poly1305(), nullptr, bytes(k),
                           bytes(box.nonce)) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) !=
            1 ||
        EVP_DecryptUpdate(ctx.get(), o, &len, bytes(box.data), static_cast<int>(n)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, 16, tag.data()) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), o + len, &len) != 1)
        return std::nullopt;
    return out;
}

// --- Requests ---

std::optional<ChallengeRequest> parse_challenge(const nlohmann::json& body) {
    auto user = json_text(body, "username");
    auto nonce = json_text(body, "client_nonce");
    if (!user || !nonce || !plain_user(*user)) return std::nullopt;
    if (nonce->size() < kMinClientNonce || nonce->size() > kMaxClientNonce ||
        !printable_nonce(*nonce))
        return std::nullopt;
    return ChallengeRequest{std::move(*user), std::move(*nonce)};
}

std::optional<ProofRequest> parse_proof(const nlohmann::json& body) {
    auto user = json_text(body, "username");
    auto nonce = json_text(body, "nonce");
    auto proof = json_text(body, "proof");
    if (!user || !nonce || !proof || !plain_user(*user)) return std::nullopt;
    if (nonce->size() < kMinClientNonce || nonce->size() > 2 * kMaxClientNonce ||
        !printable_nonce(*nonce))
        return std::nullopt;
    auto raw = base64_decode(*proof);
    if (!raw || raw->size() != kKeyBytes) return std::nullopt;
    return ProofRequest{std::move(*user), std::move(*nonce), std::move(*raw)};
}

std::optional<SealedBox> parse_sealed(const nlohmann::json& box) {
    auto nonce = json_text(box, "nonce");
    auto data = json_text(box, "data");
    if (!nonce || !data || data->size() > (kMaxSealedBytes + 2) / 3 * 4) return std::nullopt;
    auto n = base64_decode(*nonce);
    auto d = base64_decode(*data);
    if (!n || !d || n->size() != kSealNonceBytes || d->size() < 16 || d->size() > kMaxSealedBytes)
        return std::nullopt;
    return SealedBox{std::move(*n), std::move(*d)};
}

// --- ChallengeTable ---

void ChallengeTable::expire(int64_t now) {
    // Issue order is expiry order (one lifetime for all).
    while (!by_age_.empty()) {
        auto oldest = by_age_.begin();
        auto it = by_nonce_.find(oldest->second);
        if (it != by_nonce_.end() && it->second.second.expires > now) break;
        if (it != by_nonce_.end()) by_nonce_.erase(it);
        by_age_.erase(oldest);
    }
}

const Challenge& ChallengeTable::issue(std::string user, std::string client_nonce, std::string salt,
                                       uint32_t iterations, int64_t now) {
    expire(now);
    while (by_nonce_.size() >= capacity_ && !by_age_.empty()) {
        by_nonce_.erase(by_age_.begin()->second);
        by_age_.erase(by_age_.begin());
    }
    // 18 random bytes: 24 base64 characters, none of them ','.
    std::string nonce = client_nonce + base64_encode(random_bytes(18));
    const uint64_t id = next_++;
    by_age_.emplace(id, nonce);
    Challenge c{std::move(user), std::move(client_nonce), nonce, std::move(salt),
                iterations,      now + lifetime_};
    auto [it, _] = by_nonce_.insert_or_assign(std::move(nonce), std::pair{id, std::move(c)});
    return it->second.second;
}

std::optional<Challenge> ChallengeTable::take(std::string_view nonce, int64_t now) {
    auto it = by_nonce_.find(nonce);
    if (it == by_nonce_.end()) return std::nullopt;
    auto [id, challenge] = std::move(it->second);
    by_nonce_.erase(it);
    by_age_.erase(id);
    if (challenge.expires <= now) return std::nullopt;
    return challenge;
}

}  // namespace openbcpm::web::scram
