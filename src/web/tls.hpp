// Web server security, as the guide's first start describes: until an
// administrator chooses, the server is "Unconfigured"; then it serves HTTPS
// with the user's own certificate, HTTPS with a self-signed certificate the
// meter generated, or protected HTTP (the guide's "HTTP with built-in payload
// encryption": a challenge login and integrity-tagged changes, web/scram.hpp).
// Plain HTTP, the password in clear, only with [web] allow_plain_http = true.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace openbcpm {
class Store;
}

namespace openbcpm::web {

enum class SecurityMode { Unconfigured, HttpsOwnCertificate, HttpsSelfSigned, Http, HttpProtected };
std::string_view to_string(SecurityMode m);
std::optional<SecurityMode> security_mode_from_string(std::string_view s);

struct CertificatePair {
    std::string certificate_pem;  // leaf first, then any chain
    std::string private_key_pem;  // unencrypted PKCS#8
};

struct CertificateInfo {
    std::string subject;
    std::string issuer;
    std::string not_before;
    std::string not_after;
    std::string sha256_fingerprint;  // AA:BB:...
};

// A fresh P-256 key and a self-signed certificate for `hosts` (IP addresses or
// DNS names, put in subjectAltName), valid for ten years.
CertificatePair generate_self_signed(const std::vector<std::string>& hosts);

// Checks an uploaded certificate and private key: both parse (the key with
// `passphrase` when it is encrypted), the key belongs to the certificate, and
// the certificate is valid now. Returns the pair with the key decrypted, or
// throws std::invalid_argument with a message for the user.
CertificatePair validate_certificate(std::string_view certificate_pem,
                                     std::string_view private_key_pem, std::string_view passphrase);

CertificateInfo describe_certificate(std::string_view certificate_pem);

// A TLS 1.2+ server context for the pair.
std::shared_ptr<boost::asio::ssl::context> make_server_context(const CertificatePair& pair);

// The persistent security state: the mode in the Store ("web.security"), the
// certificates as files in <state-dir>/web/ (mode 0600 for keys). Without a
// state directory everything is kept in memory only.
class SecurityState {
  public:
    SecurityState(Store* store, std::filesystem::path dir, const std::vector<std::string>& hosts);
    SecurityMode mode() const { return mode_; }
    bool configured() const { return mode_ != SecurityMode::Unconfigured; }
    // Plain HTTP requests are redirected to HTTPS in the two HTTPS modes.
    bool https_required() const {
        return mode_ == SecurityMode::HttpsOwnCertificate || mode_ == SecurityMode::HttpsSelfSigned;
    }
    // Protected HTTP: state-changing requests over plain HTTP need an integrity tag.
    bool integrity_required() const { return mode_ == SecurityMode::HttpProtected; }
    // The context new TLS connections use (self-signed until an own certificate is set).
    std::shared_ptr<boost::asio::ssl::context> context() const { return context_; }
    const CertificatePair& active_pair() const;
    bool has_own_certificate() const { return own_.has_value(); }

    void use_self_signed();
    void use_http();            // plain: the caller checks that it is allowed
    void use_http_protected();  // the guide's third mode
    // A state stored in plain HTTP mode while plain HTTP is not allowed moves
    // to protected HTTP (stored when the store takes it); true when it did.
    bool restrict_plain_http(bool allowed);
    // Validates first: on failure throws std::invalid_argument and nothing changes.
    void use_own_certificate(std::string_view certificate_pem, std::string_view private_key_pem,
                             std::string_view passphrase);

  private:
    void save_mode(SecurityMode mode);
    void write_pair(const CertificatePair& pair, const std::string& stem);
    std::optional<CertificatePair> read_pair(const std::string& stem) const;
    void rebuild_context();

    Store* store_;
    std::filesystem::path dir_;
    SecurityMode mode_ = SecurityMode::Unconfigured;
    CertificatePair self_signed_;
    std::optional<CertificatePair> own_;
    std::shared_ptr<boost::asio::ssl::context> context_;
};

}  // namespace openbcpm::web
