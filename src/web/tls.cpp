#include "web/tls.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <boost/asio/ssl/context.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "storage/store.hpp"

namespace openbcpm::web {

namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;

const char* const kModeKey = "web.security";

std::string openssl_error() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return "unknown error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

Bio memory_bio(std::string_view data) {
    return Bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string bio_text(BIO* b) {
    char* p = nullptr;
    const long n = BIO_get_mem_data(b, &p);
    return std::string(p, static_cast<size_t>(n));
}

std::string key_pem(EVP_PKEY* key) {
    Bio out(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(out.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    return bio_text(out.get());
}

std::string cert_pem(X509* cert) {
    Bio out(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(out.get(), cert);
    return bio_text(out.get());
}

std::string name_text(const X509_NAME* n) {
    Bio out(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(out.get(), n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
    return bio_text(out.get());
}

std::string time_text(const ASN1_TIME* t) {
    Bio out(BIO_new(BIO_s_mem()));
    ASN1_TIME_print(out.get(), t);
    return bio_text(out.get());
}

int passphrase_callback(char* buf, int size, int, void* user) {
    const auto* pass = static_cast<const std::string_view*>(user);
    if (!pass || pass->empty()) return -1;  // encrypted key without passphrase: fail, do not prompt
    const int n = static_cast<int>(std::min<size_t>(pass->size(), static_cast<size_t>(size)));
    std::copy_n(pass->data(), n, buf);
    return n;
}

bool looks_like_ip(const std::string& h) {
    return !h.empty() && h.find_first_not_of("0123456789.") == std::string::npos;
}

}  // namespace

std::string_view to_string(SecurityMode m) {
    switch (m) {
        case SecurityMode::Unconfigured:
            return "unconfigured";
        case SecurityMode::HttpsOwnCertificate:
            return "https-own";
        case SecurityMode::HttpsSelfSigned:
            return "https-self-signed";
        case SecurityMode::Http:
            return "http";
        case SecurityMode::HttpProtected:
            return "http-protected";
    }
    return "unconfigured";
}

std::optional<SecurityMode> security_mode_from_string(std::string_view s) {
    for (auto m :
         {SecurityMode::Unconfigured, SecurityMode::HttpsOwnCertificate,
          SecurityMode::HttpsSelfSigned, SecurityMode::Http, SecurityMode::HttpProtected}) {
        if (to_string(m) == s) return m;
    }
    return std::nullopt;
}

CertificatePair generate_self_signed(const std::vector<std::string>& hosts) {
    Pkey key(EVP_EC_gen("P-256"));
    if (!key) throw std::runtime_error("cannot generate a key: " + openssl_error());
    Cert cert(X509_new());
    X509_set_version(cert.get(), 2);
    // A random positive 127-bit serial.
    std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>> serial(BN_new());
    BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
    BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    const std::string cn = hosts.empty() ? std::string("openbcpm") : hosts.front();
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("openbcpm"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    std::string san;
    for (const std::string& h : hosts) {
        if (!san.empty()) san += ",";
        san += (looks_like_ip(h) ? "IP:" : "DNS:") + h;
    }
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    auto add_ext = [&](int nid, const std::string& value) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
        if (!ext) throw std::runtime_error("certificate extension: " + openssl_error());
        X509_add_ext(cert.get(), ext, -1);
        X509_EXTENSION_free(ext);
    };
    if (!san.empty()) add_ext(NID_subject_alt_name, san);
    add_ext(NID_basic_constraints, "critical,CA:FALSE");
    add_ext(NID_key_usage, "critical,digitalSignature");
    add_ext(NID_ext_key_usage, "serverAuth");
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
        throw std::runtime_error("cannot sign: " + openssl_error());
    return {cert_pem(cert.get()), key_pem(key.get())};
}

CertificatePair validate_certificate(std::string_view certificate_pem,
                                     std::string_view private_key_pem,
                                     std::string_view passphrase) {
    ERR_clear_error();
    if (certificate_pem.empty()) throw std::invalid_argument("no SSL certificate file was given");
    if (private_key_pem.empty()) throw std::invalid_argument("no private key file was given");
    Bio cb = memory_bio(certificate_pem);
    Cert leaf(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
    if (!leaf) {
        ERR_clear_error();
        throw std::invalid_argument("the SSL certificate is not a PEM X.509 certificate");
    }
    std::string chain = cert_pem(leaf.get());
    // Any further certificates are the chain; each must parse too.
    while (true) {
        Cert next(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
        if (!next) break;
        chain += cert_pem(next.get());
    }
    ERR_clear_error();
    Bio kb = memory_bio(private_key_pem);
    std::string_view pass = passphrase;
    Pkey key(PEM_read_bio_PrivateKey(kb.get(), nullptr, passphrase_callback, &pass));
    if (!key) {
        const bool encrypted = private_key_pem.find("ENCRYPTED") != std::string_view::npos;
        ERR_clear_error();
        if (encrypted && passphrase.empty()) {
            throw std::invalid_argument("the private key is encrypted: enter its passphrase");
        }
        if (encrypted) throw std::invalid_argument("the private key passphrase is wrong");
        throw std::invalid_argument("the private key is not a PEM private key");
    }
    if (X509_check_private_key(leaf.get(), key.get()) != 1) {
        ERR_clear_error();
        throw std::invalid_argument("the private key does not belong to the SSL certificate");
    }
    if (X509_cmp_current_time(X509_get0_notAfter(leaf.get())) <= 0) {
        throw std::invalid_argument("the SSL certificate has expired (" +
                                    time_text(X509_get0_notAfter(leaf.get())) + ")");
    }
    if (X509_cmp_current_time(X509_get0_notBefore(leaf.get())) > 0) {
        throw std::invalid_argument("the SSL certificate is not valid yet");
    }
    CertificatePair pair{chain, key_pem(key.get())};
    // Last: OpenSSL itself must accept the pair for a server.
    try {
        make_server_context(pair);
    } catch (const std::exception& e) {
        throw std::invalid_argument(std::string("the certificate cannot be used for TLS: ") +
                                    e.what());
    }
    return pair;
}

CertificateInfo describe_certificate(std::string_view certificate_pem) {
    CertificateInfo info;
    Bio b = memory_bio(certificate_pem);
    Cert c(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
    if (!c) return info;
    info.subject = name_text(X509_get_subject_name(c.get()));
    info.issuer = name_text(X509_get_issuer_name(c.get()));
    info.not_before = time_text(X509_get0_notBefore(c.get()));
    info.not_after = time_text(X509_get0_notAfter(c.get()));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    X509_digest(c.get(), EVP_sha256(), md, &n);
    static const char* digits = "0123456789ABCDEF";
    for (unsigned i = 0; i < n; ++i) {
        if (i) info.sha256_fingerprint.push_back(':');
        info.sha256_fingerprint.push_back(digits[md[i] >> 4]);
        info.sha256_fingerprint.push_back(digits[md[i] & 15]);
    }
    return info;
}

std::shared_ptr<boost::asio::ssl::context> make_server_context(const CertificatePair& pair) {
    namespace ssl = boost::asio::ssl;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                     ssl::context::single_dh_use);
    ctx->use_certificate_chain(
        boost::asio::buffer(pair.certificate_pem.data(), pair.certificate_pem.size()));
    ctx->use_private_key(
        boost::asio::buffer(pair.private_key_pem.data(), pair.private_key_pem.size()),
        ssl::context::pem);
    SSL_CTX_set_cipher_list(
        ctx->native_handle(),
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
    return ctx;
}

// --- SecurityState ---

SecurityState::SecurityState(Store* store, std::filesystem::path dir,
                             const std::vector<std::string>& hosts)
    : store_(store), dir_(std::move(dir)) {
    if (store_) {
        if (auto m = store_->load_text(kModeKey)) {
            if (auto mode = security_mode_from_string(*m)) mode_ = *mode;
        }
    }
    // The meter's default certificate is made once and kept, like a device's.
    if (auto stored = read_pair("self-signed")) {
        self_signed_ = std::move(*stored);
    } else {
        self_signed_ = generate_self_signed(hosts);
        try {
            write_pair(self_signed_, "self-signed");
        } catch (const StoreError& e) {
            // Served now; a start that can store it makes the one that is kept.
            spdlog::error("web: self-signed certificate not stored: {}", e.what());
        }
    }
    own_ = read_pair("own");
    if (mode_ == SecurityMode::HttpsOwnCertificate && !own_) {
        spdlog::warn("web: own certificate missing from {}; using the self-signed one",
                     dir_.string());
        mode_ = SecurityMode::HttpsSelfSigned;
    }
    rebuild_context();
}

const CertificatePair& SecurityState::active_pair() const {
    return (mode_ == SecurityMode::HttpsOwnCertificate && own_) ? *own_ : self_signed_;
}

void SecurityState::rebuild_context() {
    context_ = make_server_context(active_pair());
}

void SecurityState::use_self_signed() {
    save_mode(SecurityMode::HttpsSelfSigned);  // stored first: StoreError changes nothing
    mode_ = SecurityMode::HttpsSelfSigned;
    rebuild_context();
}

void SecurityState::use_http() {
    save_mode(SecurityMode::Http);
    mode_ = SecurityMode::Http;
    rebuild_context();
}

void SecurityState::use_http_protected() {
    save_mode(SecurityMode::HttpProtected);
    mode_ = SecurityMode::HttpProtected;
    rebuild_context();
}

bool SecurityState::restrict_plain_http(bool allowed) {
    if (allowed || mode_ != SecurityMode::Http) return false;
    mode_ = SecurityMode::HttpProtected;
    try {
        save_mode(mode_);
    } catch (const StoreError& e) {
        spdlog::error("web: the security mode could not be stored: {}", e.what());
    }
    return true;
}

void SecurityState::use_own_certificate(std::string_view certificate_pem,
                                        std::string_view private_key_pem,
                                        std::string_view passphrase) {
    CertificatePair pair = validate_certificate(certificate_pem, private_key_pem, passphrase);
    auto ctx = make_server_context(pair);
    write_pair(pair, "own");
    save_mode(SecurityMode::HttpsOwnCertificate);
    own_ = std::move(pair);
    mode_ = SecurityMode::HttpsOwnCertificate;
    context_ = std::move(ctx);
}

void SecurityState::save_mode(SecurityMode mode) {
    if (store_) store_->save_text(kModeKey, std::string(to_string(mode)));
}

void SecurityState::write_pair(const CertificatePair& pair, const std::string& stem) {
    if (dir_.empty()) return;
    std::filesystem::create_directories(dir_);
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace);
    auto write = [&](const std::string& name, const std::string& text, bool secret) {
        // The key is 0600 from its creation; the old file stays until the new one is whole.
        try {
            write_private_file(dir_ / name, text, secret ? 0600 : 0644);
        } catch (const std::runtime_error& e) {
            throw StoreError(e.what());  // a disk that takes no writes: 503, nothing changed
        }
    };
    write(stem + "-cert.pem", pair.certificate_pem, false);
    write(stem + "-key.pem", pair.private_key_pem, true);
}

std::optional<CertificatePair> SecurityState::read_pair(const std::string& stem) const {
    if (dir_.empty()) return std::nullopt;
    auto read = [&](const std::string& name) -> std::optional<std::string> {
        std::ifstream in(dir_ / name, std::ios::binary);
        if (!in) return std::nullopt;
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    };
    auto cert = read(stem + "-cert.pem");
    auto key = read(stem + "-key.pem");
    if (!cert || !key) return std::nullopt;
    try {
        CertificatePair pair{*cert, *key};
        make_server_context(pair);
        return pair;
    } catch (const std::exception& e) {
        spdlog::warn("web: ignoring unusable {} certificate: {}", stem, e.what());
        return std::nullopt;
    }
}

}  // namespace openbcpm::web
