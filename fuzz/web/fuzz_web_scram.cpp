// libFuzzer target: protected HTTP's codecs (web/scram.hpp). The first byte
// picks what the rest is fed to: a JSON body of the challenge, the proof or a
// sealed box (with the proof checked and the box opened as the server does),
// base64 and hex, or the two integrity headers ("tag\nseq\nbody") checked
// against a fixed key. Properties checked on the way: a decode re-encodes to
// its input, a refused integrity check leaves the sequence number alone.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "web/scram.hpp"

namespace {

using namespace openbcpm::web::scram;

const std::string kKey(32, 'k');

void json_body(uint8_t which, std::string_view text) {
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return;
    switch (which % 3) {
        case 0:
            if (auto c = parse_challenge(j)) {
                if (c->client_nonce.find(',') != std::string::npos) std::abort();
            }
            break;
        case 1:
            if (auto p = parse_proof(j)) {
                if (p->proof.size() != kKeyBytes) std::abort();
                const Credentials keys = fake_credentials(kKey, p->username);
                const std::string auth =
                    auth_message(p->username, p->nonce, p->nonce, keys.salt, keys.iterations);
                (void)verify_proof(keys, auth, p->proof);
            }
            break;
        default:
            if (j.is_object() && j.contains("sealed")) {
                if (auto box = parse_sealed(j["sealed"])) (void)open(kKey, *box, kPasswordAad);
            }
            break;
    }
}

void integrity(std::string_view rest) {
    const size_t a = rest.find('\n');
    if (a == std::string_view::npos) return;
    const size_t b = rest.find('\n', a + 1);
    if (b == std::string_view::npos) return;
    uint64_t last = 5;
    const auto e = check_integrity(kKey, last, "POST", "/api/parameters", rest.substr(b + 1),
                                   rest.substr(0, a), rest.substr(a + 1, b - a - 1));
    if (e != IntegrityError::None && last != 5) std::abort();
    if (e == IntegrityError::None && last <= 5) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 6) {
        case 0:
        case 1:
        case 2:
            json_body(data[0], rest);
            break;
        case 3:
            if (auto d = base64_decode(rest)) {
                if (base64_encode(*d) != rest) std::abort();
            }
            break;
        case 4:
            if (auto d = unhex(rest)) {
                if (hex(*d) != rest) std::abort();
            }
            (void)parse_seq(rest);
            break;
        default:
            integrity(rest);
            break;
    }
    return 0;
}
