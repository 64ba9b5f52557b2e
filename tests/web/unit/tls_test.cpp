#include "web/tls.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <filesystem>

#include "../../temp_dir.hpp"
#include "storage/store.hpp"
#include "web/auth.hpp"

using namespace openbcpm;
using namespace openbcpm::web;

namespace {
// Re-encrypts a PEM key with a passphrase, as an operator's key file might be.
std::string encrypt_key(const std::string& pem, const std::string& pass) {
    BIO* in = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
    BIO* out = BIO_new(BIO_s_mem());
    PEM_write_bio_PKCS8PrivateKey(out, key, EVP_aes_256_cbc(), pass.data(),
                                  static_cast<int>(pass.size()), nullptr, nullptr);
    char* p = nullptr;
    const long n = BIO_get_mem_data(out, &p);
    std::string text(p, static_cast<size_t>(n));
    BIO_free(in);
    BIO_free(out);
    EVP_PKEY_free(key);
    return text;
}

std::string refusal(std::string_view cert, std::string_view key, std::string_view pass) {
    try {
        validate_certificate(cert, key, pass);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return {};
}
}  // namespace

TEST(Tls, SelfSignedCertificateNamesTheHosts) {
    const CertificatePair pair = generate_self_signed({"127.0.0.1", "localhost"});
    const CertificateInfo info = describe_certificate(pair.certificate_pem);
    EXPECT_NE(info.subject.find("CN = 127.0.0.1"), std::string::npos) << info.subject;
    EXPECT_EQ(info.sha256_fingerprint.size(), 32u * 3 - 1);
    EXPECT_NO_THROW(make_server_context(pair));
    EXPECT_NO_THROW(validate_certificate(pair.certificate_pem, pair.private_key_pem, ""));
}

TEST(Tls, ValidationRefusesWithAClearMessage) {
    const CertificatePair a = generate_self_signed({"127.0.0.1"});
    const CertificatePair b = generate_self_signed({"127.0.0.1"});
    EXPECT_NE(refusal("garbage", a.private_key_pem, "").find("not a PEM X.509 certificate"),
              std::string::npos);
    EXPECT_NE(refusal(a.certificate_pem, "garbage", "").find("not a PEM private key"),
              std::string::npos);
    EXPECT_NE(refusal(a.certificate_pem, b.private_key_pem, "").find("does not belong"),
              std::string::npos);
    EXPECT_NE(refusal("", a.private_key_pem, "").find("no SSL certificate"), std::string::npos);
    const std::string encrypted = encrypt_key(a.private_key_pem, "s3cret-pass");
    EXPECT_NE(refusal(a.certificate_pem, encrypted, "").find("enter its passphrase"),
              std::string::npos);
    EXPECT_NE(refusal(a.certificate_pem, encrypted, "wrong").find("passphrase is wrong"),
              std::string::npos);
    const CertificatePair ok = validate_certificate(a.certificate_pem, encrypted, "s3cret-pass");
    EXPECT_EQ(ok.private_key_pem.find("ENCRYPTED"), std::string::npos);
}

TEST(Tls, SecurityStatePersistsModeAndCertificates) {
    const test::TempDir scratch;
    const auto& dir = scratch.path;
    {
        Store store(dir);
        SecurityState s(&store, dir / "web", {"127.0.0.1"});
        EXPECT_EQ(s.mode(), SecurityMode::Unconfigured);
        EXPECT_FALSE(s.https_required());
        const std::string self = s.active_pair().certificate_pem;
        const CertificatePair own = generate_self_signed({"meter.example"});
        EXPECT_THROW(s.use_own_certificate("bad", own.private_key_pem, ""), std::invalid_argument);
        EXPECT_EQ(s.mode(), SecurityMode::Unconfigured);
        EXPECT_EQ(s.active_pair().certificate_pem, self);
        s.use_own_certificate(own.certificate_pem, own.private_key_pem, "");
        EXPECT_EQ(s.mode(), SecurityMode::HttpsOwnCertificate);
        EXPECT_TRUE(s.https_required());
        const auto perms = std::filesystem::status(dir / "web" / "own-key.pem").permissions();
        EXPECT_EQ(perms & std::filesystem::perms::others_read, std::filesystem::perms::none);
    }
    {
        Store store(dir);
        SecurityState s(&store, dir / "web", {"127.0.0.1"});
        EXPECT_EQ(s.mode(), SecurityMode::HttpsOwnCertificate);
        EXPECT_NE(
            describe_certificate(s.active_pair().certificate_pem).subject.find("meter.example"),
            std::string::npos);
        s.use_http();
        EXPECT_FALSE(s.https_required());
    }
}
