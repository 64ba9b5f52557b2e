// The web face's security, end to end over real sockets on 127.0.0.1: every
// page and API call refuses an unauthenticated request, forged CSRF requests
// are refused, lockout works, a bad certificate upload is refused with a clear
// message and the old certificate stays in use.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "../../temp_dir.hpp"
#include "config/config.hpp"
#include "device/device.hpp"
#include "storage/store.hpp"
#include "web/auth.hpp"
#include "web/http_parse.hpp"
#include "web/scram.hpp"
#include "web/tls.hpp"
#include "web/web_face.hpp"

using namespace openbcpm;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

struct Reply {
    unsigned status = 0;
    std::string body;
    std::map<std::string, std::string> headers;
    std::string peer_fingerprint;  // TLS only: SHA-256 of the server's certificate, AA:BB:..
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

std::string fingerprint(X509* cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    X509_digest(cert, EVP_sha256(), md, &n);
    std::string out;
    static const char* digits = "0123456789ABCDEF";
    for (unsigned i = 0; i < n; ++i) {
        if (i) out.push_back(':');
        out.push_back(digits[md[i] >> 4]);
        out.push_back(digits[md[i] & 15]);
    }
    return out;
}

class WebSecurity : public ::testing::Test {
  protected:
    void SetUp() override { start({}); }
    void TearDown() override { stop(); }

    void start(WebOptions options) {
        dir_.emplace();
        launch(std::move(options));
        password_ = read_initial_password();
    }

    // Device and face on the state directory that is there.
    void launch(WebOptions options) {
        device_ = std::make_unique<Device>(default_config(), dir_->path);
        options.address = "127.0.0.1";
        options.port = 0;
        if (options.lockout.max_failures == web::LockoutPolicy{}.max_failures)
            options.lockout = {3, 60};
        face_ = std::make_unique<WebFace>(io_, *device_, options);
        face_->start();
        port_ = face_->port();
        guard_.emplace(io_.get_executor());
        thread_ = std::thread([this] { io_.run(); });
    }

    // Stops the face and the device, keeping the state directory.
    void halt() {
        if (!thread_.joinable()) return;
        boost::asio::post(io_, [this] { face_->stop(); });
        guard_.reset();
        thread_.join();
        face_.reset();
        device_.reset();
        io_.restart();
    }

    void restart(WebOptions options) {
        halt();
        launch(std::move(options));
    }

    void stop() {
        halt();
        dir_.reset();
    }

    std::string read_initial_password() {
        std::ifstream in(dir_->path / "initial-admin-password");
        std::string pw;
        std::getline(in, pw);
        return pw;
    }

    // One request on a fresh connection.
    Reply request(bool tls, http::verb method, const std::string& target,
                  const std::string& body = {},
                  const std::map<std::string, std::string>& headers = {}) {
        boost::asio::io_context io;
        tcp::resolver resolver(io);
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
        for (const auto& [k, v] : headers)
            req.set(k, v);
        if (!cookie_.empty() && !headers.count("Cookie")) req.set(http::field::cookie, cookie_);
        req.body() = body;
        req.prepare_payload();
        http::response<http::string_body> res;
        beast::flat_buffer buffer;
        Reply out;
        if (tls) {
            ssl::context ctx(ssl::context::tls_client);
            ctx.set_verify_mode(ssl::verify_none);
            beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
            beast::get_lowest_layer(stream).connect(
                tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
            stream.handshake(ssl::stream_base::client);
            X509* cert = SSL_get1_peer_certificate(stream.native_handle());
            out.peer_fingerprint = fingerprint(cert);
            X509_free(cert);
            http::write(stream, req);
            http::read(stream, buffer, res);
            beast::error_code ec;
            beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
        } else {
            beast::tcp_stream stream(io);
            stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
            http::write(stream, req);
            http::read(stream, buffer, res);
        }
        out.status = res.result_int();
        out.body = res.body();
        for (const auto& f : res)
            out.headers[std::string(f.name_string())] = std::string(f.value());
        return out;
    }

    Reply json_post(const std::string& target, const nlohmann::json& body, bool with_csrf = true,
                    std::map<std::string, std::string> headers = {}) {
        headers["Content-Type"] = "application/json";
        if (with_csrf && !csrf_.empty() && !headers.count("X-CSRF-Token"))
            headers["X-CSRF-Token"] = csrf_;
        return request(tls_, http::verb::post, target, body.dump(), headers);
    }

    Reply login(const std::string& password) {
        Reply r = request(tls_, http::verb::post, "/api/login",
                          nlohmann::json{{"username", "admin"}, {"password", password}}.dump(),
                          {{"Content-Type", "application/json"}});
        if (r.status == 200) {
            const std::string set = r.headers["Set-Cookie"];
            cookie_ = set.substr(0, set.find(';'));
            csrf_ = r.json()["csrf"];
        }
        return r;
    }

    // The challenge login as web/static/secure_http.js does it; on success
    // sets the cookie, the CSRF token and the session key. The proof's reply.
    Reply scram_login(const std::string& password, const std::string& user = "admin") {
        namespace scram = web::scram;
        const std::string client_nonce = scram::base64_encode(scram::random_bytes(18));
        const std::map<std::string, std::string> json = {{"Content-Type", "application/json"}};
        Reply ch = request(
            tls_, http::verb::post, "/api/login/challenge",
            nlohmann::json{{"username", user}, {"client_nonce", client_nonce}}.dump(), json);
        if (ch.status != 200) return ch;
        const std::string salt = scram::base64_decode(ch.json()["salt"].get<std::string>()).value();
        const uint32_t iterations = ch.json()["iterations"];
        const std::string nonce = ch.json()["nonce"];
        const std::string auth = scram::auth_message(user, client_nonce, nonce, salt, iterations);
        const scram::ClientFinal fin = scram::client_final(password, salt, iterations, auth);
        last_proof_ =
            nlohmann::json{
                {"username", user}, {"nonce", nonce}, {"proof", scram::base64_encode(fin.proof)}}
                .dump();
        Reply r = request(tls_, http::verb::post, "/api/login/proof", last_proof_, json);
        if (r.status == 200) {
            // Mutual: the meter proves it knows the keys too.
            EXPECT_EQ(r.json()["server_signature"], scram::base64_encode(fin.server_signature));
            const std::string set = r.headers["Set-Cookie"];
            cookie_ = set.substr(0, set.find(';'));
            csrf_ = r.json()["csrf"];
            key_ = scram::session_key(fin.client_key, auth);
            seq_ = 0;
        }
        return r;
    }

    // The headers of a tagged JSON POST with the next sequence number.
    std::map<std::string, std::string> tagged(const std::string& target, const std::string& body) {
        ++seq_;
        return {{"Content-Type", "application/json"},
                {"X-CSRF-Token", csrf_},
                {"X-Integrity-Seq", std::to_string(seq_)},
                {"X-Integrity", web::scram::integrity_tag(key_, "POST", target, seq_, body)}};
    }
    Reply tagged_post(const std::string& target, const nlohmann::json& body) {
        const std::string text = body.dump();
        return request(tls_, http::verb::post, target, text, tagged(target, text));
    }

    std::string multipart(
        const std::vector<std::tuple<std::string, std::string, std::string>>& parts) {
        std::string body;
        for (const auto& [name, filename, data] : parts) {
            body += "--b0undary\r\nContent-Disposition: form-data; name=\"" + name + "\"";
            if (!filename.empty()) body += "; filename=\"" + filename + "\"";
            body += "\r\n\r\n" + data + "\r\n";
        }
        return body + "--b0undary--\r\n";
    }

    // Logs in (over TLS) and chooses the protected HTTP mode: until a mode is
    // chosen only the mode choice answers. The tests' requests go over TLS,
    // where the integrity tag is not needed.
    void login_and_choose_mode() {
        ASSERT_EQ(login(password_).status, 200u);
        ASSERT_EQ(json_post("/api/security", {{"mode", "http-protected"}}).status, 200u);
    }

    Reply upload(const std::string& target, const std::string& body) {
        return request(
            tls_, http::verb::post, target, body,
            {{"Content-Type", "multipart/form-data; boundary=b0undary"}, {"X-CSRF-Token", csrf_}});
    }

    std::optional<test::TempDir> dir_;
    boost::asio::io_context io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
    std::unique_ptr<Device> device_;
    std::unique_ptr<WebFace> face_;
    std::thread thread_;
    uint16_t port_ = 0;
    bool tls_ = true;
    std::string password_, cookie_, csrf_;
    std::string key_, last_proof_;  // protected HTTP: the session key, the last proof sent
    uint64_t seq_ = 0;
};

}  // namespace

TEST_F(WebSecurity, EveryPageAndApiCallRefusesAnUnauthenticatedRequest) {
    int checked = 0;
    for (const web::RouteInfo& r : web::route_table()) {
        if (r.is_public) continue;
        const http::verb method = r.method == "POST" ? http::verb::post : http::verb::get;
        for (bool tls : {false, true}) {
            std::map<std::string, std::string> headers = {{"Content-Type", "application/json"}};
            Reply res =
                request(tls, method, r.path, method == http::verb::post ? "{}" : "", headers);
            if (r.is_page) {
                EXPECT_EQ(res.status, 302u) << r.path;
                EXPECT_TRUE(res.headers["Location"] == "/login" ||
                            res.headers["Location"] == "/unconfigured")
                    << r.path << " -> " << res.headers["Location"];
            } else {
                EXPECT_EQ(res.status, 401u) << r.method << " " << r.path << ": " << res.body;
                EXPECT_EQ(res.json()["error"], "log in first") << r.path;
            }
            // A made-up session cookie and a made-up bearer token fare no better.
            headers["Cookie"] = "bcpm_session=" + std::string(64, 'a');
            headers["Authorization"] = "Bearer " + std::string(48, 'b');
            res = request(tls, method, r.path, method == http::verb::post ? "{}" : "", headers);
            EXPECT_EQ(res.status, r.is_page ? 302u : 401u) << r.path;
            ++checked;
        }
    }
    EXPECT_GT(checked, 60);
    // The WebSocket stream too.
    Reply ws = request(true, http::verb::get, "/api/stream", "",
                       {{"Connection", "Upgrade"},
                        {"Upgrade", "websocket"},
                        {"Sec-WebSocket-Version", "13"},
                        {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
    EXPECT_EQ(ws.status, 401u);
}

TEST_F(WebSecurity, PublicPagesLeakNothing) {
    EXPECT_EQ(request(true, http::verb::get, "/login").status, 200u);
    EXPECT_EQ(request(false, http::verb::get, "/unconfigured").status, 200u);
    EXPECT_EQ(request(true, http::verb::get, "/static/app.css").status, 200u);
    EXPECT_EQ(request(true, http::verb::get, "/static/nothing.js").status, 404u);
    EXPECT_EQ(request(true, http::verb::get, "/static/../openbcpm.db").status, 400u);
}

TEST_F(WebSecurity, LoginSetsAHardenedCookieAndHeaders) {
    Reply r = login(password_);
    ASSERT_EQ(r.status, 200u) << r.body;
    const std::string cookie = r.headers["Set-Cookie"];
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
    EXPECT_NE(cookie.find("Secure"), std::string::npos);
    EXPECT_NE(r.headers["Content-Security-Policy"].find("default-src 'self'"), std::string::npos);
    EXPECT_EQ(r.headers["X-Frame-Options"], "DENY");
    EXPECT_EQ(r.headers["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(r.json()["next"], "/security");  // security not configured yet
    // Over plain HTTP the cookie cannot be Secure (it would never come back).
    tls_ = false;
    Reply plain = scram_login(password_);
    ASSERT_EQ(plain.status, 200u) << plain.body;
    EXPECT_EQ(plain.headers["Set-Cookie"].find("Secure"), std::string::npos);
    EXPECT_NE(plain.headers["Set-Cookie"].find("HttpOnly"), std::string::npos);
    // Until security is configured, pages lead to the mode choice.
    EXPECT_EQ(request(true, http::verb::get, "/").headers["Location"], "/security");
    EXPECT_EQ(request(true, http::verb::get, "/security").status, 200u);
}

TEST_F(WebSecurity, ForgedCsrfRequestsAreRefused) {
    login_and_choose_mode();
    const nlohmann::json change = {{"name", "Modbus_Address"}, {"value", "9"}};
    EXPECT_EQ(json_post("/api/parameters", change, false).status, 403u);
    EXPECT_EQ(
        json_post("/api/parameters", change, true, {{"X-CSRF-Token", std::string(64, '0')}}).status,
        403u);
    // The right token from a foreign page (a cross-site form or fetch) is refused too.
    EXPECT_EQ(
        json_post("/api/parameters", change, true, {{"Origin", "https://evil.example"}}).status,
        403u);
    // A form post without the token field.
    Reply form = request(true, http::verb::post, "/api/parameters", "name=Modbus_Address&value=9",
                         {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(form.status, 403u);
    EXPECT_EQ(device_->settings().gateway.modbus_address, 1);
    // Restart, logout and password change need the token as well.
    EXPECT_EQ(json_post("/api/restart", nlohmann::json::object(), false).status, 403u);
    EXPECT_EQ(json_post("/api/logout", nlohmann::json::object(), false).status, 403u);
    // With the token (header, or the form field) it goes through.
    Reply ok = json_post("/api/parameters", change, true,
                         {{"Origin", "https://127.0.0.1:" + std::to_string(port_)}});
    EXPECT_EQ(ok.status, 200u) << ok.body;
    EXPECT_EQ(device_->settings().gateway.modbus_address, 9);
    form = request(true, http::verb::post, "/api/parameters",
                   "name=Modbus_Address&value=8&csrf=" + csrf_,
                   {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(form.status, 200u) << form.body;
    EXPECT_EQ(device_->settings().gateway.modbus_address, 8);
    // The audit log tells who refused what.
    const std::string audit = request(true, http::verb::get, "/api/audit").body;
    EXPECT_NE(audit.find("CSRF"), std::string::npos);
    EXPECT_NE(audit.find("Modbus_Address = 8"), std::string::npos);
}

TEST_F(WebSecurity, LockoutAfterRepeatedFailures) {
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(login("Wrong-password-" + std::to_string(i)).status, 401u);
    Reply locked = login(password_);  // the right password, but the account is locked
    EXPECT_EQ(locked.status, 429u);
    EXPECT_NE(locked.json()["error"].get<std::string>().find("locked"), std::string::npos);
    EXPECT_FALSE(locked.headers["Retry-After"].empty());
    EXPECT_TRUE(cookie_.empty());
}

TEST_F(WebSecurity, BadCertificateUploadIsRefusedAndTheOldOneStays) {
    ASSERT_EQ(login(password_).status, 200u);
    ASSERT_EQ(json_post("/api/security", {{"mode", "https-self-signed"}}).status, 200u);
    const Reply before = request(true, http::verb::get, "/api/security");
    const std::string served = before.peer_fingerprint;
    EXPECT_EQ(before.json()["certificate"]["sha256"], served);

    const web::CertificatePair other = web::generate_self_signed({"127.0.0.1"});
    const web::CertificatePair mine = web::generate_self_signed({"meter.example"});
    struct Case {
        std::string cert, key, why;
    };
    for (const Case& c :
         {Case{"not a certificate", mine.private_key_pem, "not a PEM X.509 certificate"},
          Case{mine.certificate_pem, other.private_key_pem, "does not belong"},
          Case{mine.certificate_pem, "", "no private key"}}) {
        Reply r = upload("/api/security", multipart({{"mode", "", "https-own"},
                                                     {"certificate", "cert.pem", c.cert},
                                                     {"private_key", "key.pem", c.key},
                                                     {"passphrase", "", ""}}));
        EXPECT_EQ(r.status, 400u);
        const std::string message = r.json()["error"];
        EXPECT_NE(message.find(c.why), std::string::npos) << message;
        EXPECT_NE(message.find("previous certificate stays in use"), std::string::npos) << message;
        const Reply after = request(true, http::verb::get, "/api/security");
        EXPECT_EQ(after.peer_fingerprint, served);
        EXPECT_EQ(after.json()["mode"], "https-self-signed");
    }
    // A good one is taken at once for new connections.
    Reply good =
        upload("/api/security", multipart({{"mode", "", "https-own"},
                                           {"certificate", "cert.pem", mine.certificate_pem},
                                           {"private_key", "key.pem", mine.private_key_pem}}));
    ASSERT_EQ(good.status, 200u) << good.body;
    const Reply now = request(true, http::verb::get, "/api/security");
    EXPECT_EQ(now.peer_fingerprint,
              web::describe_certificate(mine.certificate_pem).sha256_fingerprint);
    EXPECT_NE(now.peer_fingerprint, served);
}

TEST_F(WebSecurity, HttpsModesRedirectPlainHttp) {
    ASSERT_EQ(login(password_).status, 200u);
    ASSERT_EQ(json_post("/api/security", {{"mode", "https-self-signed"}}).status, 200u);
    Reply r = request(false, http::verb::get, "/api/snapshot");
    EXPECT_EQ(r.status, 301u);
    EXPECT_EQ(r.headers["Location"],
              "https://127.0.0.1:" + std::to_string(port_) + "/api/snapshot");
    EXPECT_NE(request(true, http::verb::get, "/api/session").headers["Strict-Transport-Security"],
              "");
    ASSERT_EQ(json_post("/api/security", {{"mode", "http-protected"}}).status, 200u);
    EXPECT_EQ(request(false, http::verb::get, "/api/snapshot").status, 200u);
}

TEST_F(WebSecurity, PasswordChangeNeedsTheCurrentPasswordAndTheRule) {
    login_and_choose_mode();
    EXPECT_EQ(json_post("/api/password", {{"current", "nope"},
                                          {"password", "Panel-Board#2026"},
                                          {"confirm", "Panel-Board#2026"}})
                  .status,
              403u);
    Reply weak =
        json_post("/api/password",
                  {{"current", password_}, {"password", "abcdefghij"}, {"confirm", "abcdefghij"}});
    EXPECT_EQ(weak.status, 400u);
    EXPECT_EQ(json_post("/api/password", {{"current", password_},
                                          {"password", "Panel-Board#2026"},
                                          {"confirm", "Panel-Board#2027"}})
                  .status,
              400u);
    EXPECT_EQ(json_post("/api/password", {{"current", password_},
                                          {"password", "Panel-Board#2026"},
                                          {"confirm", "Panel-Board#2026"}})
                  .status,
              200u);
    cookie_.clear();
    EXPECT_EQ(login(password_).status, 401u);
    EXPECT_EQ(login("Panel-Board#2026").status, 200u);
    EXPECT_FALSE(
        request(true, http::verb::get, "/api/session").json()["initial_password"].get<bool>());
}

TEST_F(WebSecurity, LogoutEndsTheSession) {
    login_and_choose_mode();
    EXPECT_EQ(request(true, http::verb::get, "/api/snapshot").status, 200u);
    EXPECT_EQ(json_post("/api/logout", nlohmann::json::object()).status, 200u);
    EXPECT_EQ(request(true, http::verb::get, "/api/snapshot").status, 401u);
}

TEST_F(WebSecurity, ReadTokenOpensMetricsAndReadsOnly) {
    login_and_choose_mode();
    Reply t = json_post("/api/metrics-token", nlohmann::json::object());
    ASSERT_EQ(t.status, 200u);
    const std::string token = t.json()["token"];
    const std::map<std::string, std::string> bearer = {{"Authorization", "Bearer " + token},
                                                       {"Cookie", ""}};
    Reply m = request(true, http::verb::get, "/metrics", "", bearer);
    EXPECT_EQ(m.status, 200u);
    EXPECT_NE(m.body.find("# TYPE bcpm_channel_current_amperes gauge"), std::string::npos);
    EXPECT_NE(m.body.find("bcpm_channel_current_amperes{panel=\"2\",channel=\"42\"}"),
              std::string::npos);
    EXPECT_EQ(request(true, http::verb::get, "/api/snapshot", "", bearer).status, 200u);
    // Changes are for sessions only.
    std::map<std::string, std::string> post = bearer;
    post["Content-Type"] = "application/json";
    EXPECT_EQ(request(true, http::verb::post, "/api/restart", "{}", post).status, 401u);
}

TEST_F(WebSecurity, SystemRestartRepliesFirstThenRestarts) {
    bool restarted = false;
    device_->set_restart_handler([&](RestartKind) { restarted = true; });
    login_and_choose_mode();
    Reply r = json_post("/api/restart", nlohmann::json::object());
    EXPECT_EQ(r.status, 202u);
    for (int i = 0; i < 100 && !restarted; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(restarted);
}

TEST_F(WebSecurity, FileTransferValidatesAndStoresBdtIni) {
    login_and_choose_mode();
    Reply bad = upload("/api/files/general",
                       multipart({{"file", "bdt.ini", "10.0.0.1, 47808,255.255.255.255\n"}}));
    EXPECT_EQ(bad.status, 400u);
    EXPECT_FALSE(std::filesystem::exists(dir_->path / "bdt.ini"));
    Reply wrong_name = upload("/api/files/general", multipart({{"file", "firmware.bin", "x"}}));
    EXPECT_EQ(wrong_name.status, 400u);
    const std::string text = "// Bdt.ini\n127.0.0.1,47808,255.255.255.255\n";
    Reply good = upload("/api/files/general", multipart({{"file", "bdt.ini", text}}));
    EXPECT_EQ(good.status, 200u) << good.body;
    EXPECT_EQ(good.json()["message"], "The file was updated successfully.");
    std::ifstream in(dir_->path / "bdt.ini");
    std::string stored((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(stored, text);
    EXPECT_EQ(request(true, http::verb::get, "/api/files/bdt.ini").body, text);
}

TEST_F(WebSecurity, ParametersAreThoseOfTheActiveModeAndValidated) {
    login_and_choose_mode();
    Reply p = request(true, http::verb::get, "/api/parameters");
    EXPECT_EQ(p.json()["protocol_mode"], 4);
    EXPECT_EQ(p.json()["parameters"].size(), 5u);
    Reply other = json_post("/api/parameters", {{"name", "Read_Community"}, {"value", "x"}});
    EXPECT_EQ(other.status, 400u);  // not on the Modbus mode page
    Reply range = json_post("/api/parameters", {{"name", "Upstream_Baud"}, {"value", "12345"}});
    EXPECT_EQ(range.status, 400u);
    EXPECT_NE(range.json()["error"].get<std::string>().find("baud"), std::string::npos);
    Reply mode = json_post("/api/parameters", {{"name", "Protocol_Mode"}, {"value", "2"}});
    EXPECT_EQ(mode.status, 200u);
    EXPECT_TRUE(mode.json()["restart_required"].get<bool>());
    // The page keeps the running mode's parameters until System Restart.
    p = request(true, http::verb::get, "/api/parameters");
    EXPECT_EQ(p.json()["protocol_mode"], 4);
    EXPECT_EQ(p.json()["stored_protocol_mode"], 2);
}

TEST_F(WebSecurity, ProfileRemovalIsStoredAuditedAndRefusedWhenLocked) {
    login_and_choose_mode();
    Reply p = request(true, http::verb::get, "/api/profiles");
    ASSERT_EQ(p.json()["profiles"].size(), 2u);
    EXPECT_EQ(p.json()["profiles"][1]["parameters"], "Modbus unit 2");
    EXPECT_FALSE(p.json()["profiles"][1]["removed"].get<bool>());
    for (const nlohmann::json& bad : {nlohmann::json{{"panel", 3}}, nlohmann::json{{"panel", 0}},
                                      nlohmann::json{{"panel", "2"}}, nlohmann::json::object()}) {
        EXPECT_EQ(json_post("/api/profiles/remove", bad).status, 400u) << bad.dump();
    }
    EXPECT_EQ(device_->settings().gateway.removed_profiles, 0);
    Reply removed = json_post("/api/profiles/remove", {{"panel", 2}});
    ASSERT_EQ(removed.status, 200u) << removed.body;
    EXPECT_TRUE(removed.json()["restart_required"].get<bool>());
    EXPECT_TRUE(removed.json()["profiles"][1]["removed"].get<bool>());
    EXPECT_NE(removed.json()["message"].get<std::string>().find("System Restart"),
              std::string::npos);
    EXPECT_EQ(device_->settings().gateway.removed_profiles, 2);
    // Locked (stored, not yet restarted): profile changes are refused, nothing changes.
    ASSERT_EQ(json_post("/api/parameters", {{"name", "Operating_Mode"}, {"value", "0"}}).status,
              200u);
    Reply locked = json_post("/api/profiles/remove", {{"panel", 1}});
    EXPECT_EQ(locked.status, 409u);
    EXPECT_NE(locked.json()["error"].get<std::string>().find("Locked"), std::string::npos);
    EXPECT_EQ(device_->settings().gateway.removed_profiles, 2);
    // The generic settings route goes through the same rule.
    Reply generic = json_post("/api/settings", {{"settings", {{"gateway.removed_profiles", 0}}}});
    EXPECT_EQ(generic.status, 400u);
    EXPECT_EQ(device_->settings().gateway.removed_profiles, 2);
    const std::string audit = request(true, http::verb::get, "/api/audit").body;
    EXPECT_NE(audit.find("profile removed"), std::string::npos);
    EXPECT_NE(audit.find("profile removal refused"), std::string::npos);
}

TEST_F(WebSecurity, StreamSendsSnapshotsToSameOriginSessionsOnly) {
    login_and_choose_mode();
    auto handshake = [&](const std::string& origin) -> std::pair<bool, std::string> {
        boost::asio::io_context io;
        ssl::context ctx(ssl::context::tls_client);
        ctx.set_verify_mode(ssl::verify_none);
        beast::websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(io, ctx);
        beast::get_lowest_layer(ws).connect(
            tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
        ws.next_layer().handshake(ssl::stream_base::client);
        ws.set_option(
            beast::websocket::stream_base::decorator([&](beast::websocket::request_type& r) {
                r.set(http::field::cookie, cookie_);
                r.set(http::field::origin, origin);
            }));
        beast::error_code ec;
        ws.handshake("127.0.0.1:" + std::to_string(port_), "/api/stream", ec);
        if (ec) return {false, ec.message()};
        beast::flat_buffer b;
        ws.read(b);
        return {true, beast::buffers_to_string(b.data())};
    };
    auto [refused, why] = handshake("https://evil.example");
    EXPECT_FALSE(refused) << why;
    auto [ok, message] = handshake("https://127.0.0.1:" + std::to_string(port_));
    ASSERT_TRUE(ok) << message;
    const auto j = nlohmann::json::parse(message);
    EXPECT_EQ(j["type"], "snapshot");
    EXPECT_EQ(j["data"]["model"], "BCPME84");
}

class WebSessionExpiry : public WebSecurity {
  protected:
    void SetUp() override {
        WebOptions o;
        o.sessions.idle_seconds = 1;
        start(o);
    }
};

TEST_F(WebSessionExpiry, IdleSessionsExpire) {
    ASSERT_EQ(login(password_).status, 200u);
    EXPECT_EQ(request(true, http::verb::get, "/api/session").status, 200u);
    std::this_thread::sleep_for(std::chrono::milliseconds(2200));
    EXPECT_EQ(request(true, http::verb::get, "/api/session").status, 401u);
}

TEST_F(WebSecurity, LoginAgainWithALiveSessionNeedsNoToken) {
    ASSERT_EQ(login(password_).status, 200u);
    const std::string first = cookie_;
    EXPECT_EQ(login(password_).status, 200u);  // sends the old cookie, no CSRF token
    EXPECT_NE(cookie_, first);
    // But not from a foreign page.
    Reply r = request(true, http::verb::post, "/api/login",
                      nlohmann::json{{"username", "admin"}, {"password", password_}}.dump(),
                      {{"Content-Type", "application/json"}, {"Origin", "https://evil.example"}});
    EXPECT_EQ(r.status, 403u);
}

TEST_F(WebSecurity, BeforeASecurityModeOnlyTheModeChoiceAnswers) {
    ASSERT_EQ(login(password_).status, 200u);
    const std::set<std::string> choice = {"/login",       "/unconfigured", "/security",
                                          "/static/",     "/api/login",    "/api/logout",
                                          "/api/session", "/api/security"};
    int refused = 0;
    for (const web::RouteInfo& r : web::route_table()) {
        if (choice.count(r.path)) continue;
        // GET only: every POST route needs a GET sibling or a page anyway, and a
        // POST that got through would change something.
        if (r.method != "GET") continue;
        const Reply res = request(true, http::verb::get, r.path);
        if (r.is_page) {
            EXPECT_EQ(res.status, 302u) << r.path;
            EXPECT_EQ(res.headers.at("Location"), "/security") << r.path;
        } else {
            EXPECT_EQ(res.status, 409u) << r.path << ": " << res.body;
            EXPECT_NE(res.body.find("choose a security mode first"), std::string::npos) << r.path;
        }
        ++refused;
    }
    EXPECT_GT(refused, 20);
    // Changes too, even with the session's token.
    EXPECT_EQ(json_post("/api/parameters", {{"name", "Modbus_Address"}, {"value", "9"}}).status,
              409u);
    EXPECT_EQ(json_post("/api/restart", nlohmann::json::object()).status, 409u);
    EXPECT_EQ(device_->settings().gateway.modbus_address, 1);
    // The mode choice itself, and what its page needs, answer.
    EXPECT_EQ(request(true, http::verb::get, "/security").status, 200u);
    EXPECT_EQ(request(true, http::verb::get, "/static/security.js").status, 200u);
    EXPECT_EQ(request(true, http::verb::get, "/api/session").status, 200u);
    EXPECT_EQ(request(true, http::verb::get, "/api/security").status, 200u);
    // Without a login nothing more is told than before.
    const std::string cookie = cookie_;
    cookie_.clear();
    EXPECT_EQ(request(true, http::verb::get, "/api/snapshot").status, 401u);
    EXPECT_EQ(request(true, http::verb::get, "/panel").headers["Location"], "/unconfigured");
    cookie_ = cookie;
    // Once a mode is chosen, everything answers.
    ASSERT_EQ(json_post("/api/security", {{"mode", "https-self-signed"}}).status, 200u);
    EXPECT_EQ(request(true, http::verb::get, "/api/snapshot").status, 200u);
    EXPECT_EQ(request(true, http::verb::get, "/panel").status, 200u);
}

class WebHostNames : public WebSecurity {
  protected:
    void SetUp() override {
        WebOptions o;
        o.host_names = {"Meter-7.example"};
        start(o);
    }
};

TEST_F(WebHostNames, RedirectsAndOriginChecksUseTheMetersOwnNames) {
    login_and_choose_mode();
    ASSERT_EQ(json_post("/api/security", {{"mode", "https-self-signed"}}).status, 200u);
    const std::string port = std::to_string(port_);
    auto location = [&](const std::string& host) {
        return request(false, http::verb::get, "/login", "", {{"Host", host}}).headers["Location"];
    };
    // A name that is not the meter's is never sent back: the meter's address is.
    EXPECT_EQ(location("evil.example"), "https://127.0.0.1:" + port + "/login");
    EXPECT_EQ(location("evil.example:" + port), "https://127.0.0.1:" + port + "/login");
    EXPECT_EQ(location("bad host\\x"), "https://127.0.0.1:" + port + "/login");
    // The meter's own names keep the name the browser used (with the meter's port).
    EXPECT_EQ(location("meter-7.example"), "https://meter-7.example:" + port + "/login");
    EXPECT_EQ(location("localhost:1"), "https://localhost:" + port + "/login");
    // Origin: the meter's names, scheme and port only, whatever Host says.
    const nlohmann::json change = {{"name", "Modbus_Address"}, {"value", "9"}};
    for (const auto& [host, origin] : std::vector<std::pair<std::string, std::string>>{
             {"evil.example", "https://evil.example"},
             {"evil.example:" + port, "https://evil.example:" + port},
             {"127.0.0.1:" + port, "https://127.0.0.1:1"},
             {"127.0.0.1:" + port, "http://127.0.0.1:" + port},
             {"127.0.0.1:" + port, "https://127.0.0.1:" + port + ".evil.example"}}) {
        EXPECT_EQ(
            json_post("/api/parameters", change, true, {{"Host", host}, {"Origin", origin}}).status,
            403u)
            << host << " " << origin;
    }
    EXPECT_EQ(device_->settings().gateway.modbus_address, 1);
    for (const std::string& origin : {"https://127.0.0.1:" + port, "https://localhost:" + port,
                                      "https://METER-7.example:" + port}) {
        EXPECT_EQ(json_post("/api/parameters", change, true,
                            {{"Host", "evil.example"}, {"Origin", origin}})
                      .status,
                  200u)
            << origin;
    }
    EXPECT_EQ(device_->settings().gateway.modbus_address, 9);
}

// --- Protected HTTP (the guide's "HTTP with built-in payload encryption") ---

TEST_F(WebSecurity, ProtectedHttpNeverTakesThePasswordInClearAndTagsEveryChange) {
    tls_ = false;
    // Without [web] allow_plain_http the password login is refused over plain HTTP.
    Reply plain = login(password_);
    EXPECT_EQ(plain.status, 403u) << plain.body;
    EXPECT_TRUE(cookie_.empty());
    Reply in = scram_login(password_);
    ASSERT_EQ(in.status, 200u) << in.body;
    EXPECT_EQ(in.json()["next"], "/security");
    // Plain HTTP itself is not on offer.
    EXPECT_FALSE(request(false, http::verb::get, "/api/security").json()["plain_http_allowed"]);
    Reply http_mode = tagged_post("/api/security", {{"mode", "http"}});
    EXPECT_EQ(http_mode.status, 400u);
    EXPECT_NE(http_mode.body.find("allow_plain_http"), std::string::npos) << http_mode.body;
    ASSERT_EQ(tagged_post("/api/security", {{"mode", "http-protected"}}).status, 200u);
    const nlohmann::json session = request(false, http::verb::get, "/api/session").json();
    EXPECT_EQ(session["security"], "http-protected");
    EXPECT_TRUE(session["integrity"].get<bool>());
    EXPECT_TRUE(session["session_key"].get<bool>());

    const nlohmann::json nine = {{"name", "Modbus_Address"}, {"value", "9"}};
    const nlohmann::json eight = {{"name", "Modbus_Address"}, {"value", "8"}};
    // No tag (the session's CSRF token is not enough): refused, nothing changed.
    Reply untagged = json_post("/api/parameters", nine);
    EXPECT_EQ(untagged.status, 403u);
    EXPECT_EQ(untagged.json()["integrity"], "missing");
    EXPECT_EQ(device_->settings().gateway.modbus_address, 1);
    // A tag for another body, or made with another key: refused.
    auto headers = tagged("/api/parameters", eight.dump());
    EXPECT_EQ(request(false, http::verb::post, "/api/parameters", nine.dump(), headers).status,
              403u);
    headers = tagged("/api/parameters", nine.dump());
    headers["X-Integrity"] = web::scram::integrity_tag(std::string(32, 'x'), "POST",
                                                       "/api/parameters", seq_, nine.dump());
    Reply forged = request(false, http::verb::post, "/api/parameters", nine.dump(), headers);
    EXPECT_EQ(forged.status, 403u);
    EXPECT_EQ(forged.json()["integrity"], "wrong");
    EXPECT_EQ(device_->settings().gateway.modbus_address, 1);
    // The right tag: done.
    const std::string body9 = nine.dump();
    const auto first = tagged("/api/parameters", body9);
    Reply ok = request(false, http::verb::post, "/api/parameters", body9, first);
    ASSERT_EQ(ok.status, 200u) << ok.body;
    EXPECT_EQ(device_->settings().gateway.modbus_address, 9);
    ASSERT_EQ(tagged_post("/api/parameters", eight).status, 200u);
    EXPECT_EQ(device_->settings().gateway.modbus_address, 8);
    // The first request again, byte for byte: a replay, refused; the address stays 8.
    Reply replay = request(false, http::verb::post, "/api/parameters", body9, first);
    EXPECT_EQ(replay.status, 403u);
    EXPECT_EQ(replay.json()["integrity"], "replayed");
    EXPECT_EQ(replay.json()["last_seq"], seq_);
    EXPECT_EQ(device_->settings().gateway.modbus_address, 8);
    // Reads need no tag; logout, a change, does.
    EXPECT_EQ(request(false, http::verb::get, "/api/snapshot").status, 200u);
    EXPECT_EQ(json_post("/api/logout", nlohmann::json::object()).status, 403u);
    EXPECT_EQ(request(false, http::verb::get, "/api/session").status, 200u);
    // Every refusal is in the audit log.
    const std::string audit = request(false, http::verb::get, "/api/audit").body;
    EXPECT_NE(audit.find("integrity tag missing on POST /api/parameters"), std::string::npos);
    EXPECT_NE(audit.find("integrity tag wrong on POST /api/parameters"), std::string::npos);
    EXPECT_NE(audit.find("integrity tag replayed on POST /api/parameters"), std::string::npos);
    EXPECT_EQ(tagged_post("/api/logout", nlohmann::json::object()).status, 200u);
    EXPECT_EQ(request(false, http::verb::get, "/api/session").status, 401u);
}

TEST_F(WebSecurity, ProtectedHttpPasswordChangeIsSealed) {
    tls_ = false;
    ASSERT_EQ(scram_login(password_).status, 200u);
    ASSERT_EQ(tagged_post("/api/security", {{"mode", "http-protected"}}).status, 200u);
    const std::string next = "Panel-Board#2026";
    const nlohmann::json fields = {{"current", password_}, {"password", next}, {"confirm", next}};
    // In clear, even tagged: refused.
    Reply clear = tagged_post("/api/password", fields);
    EXPECT_EQ(clear.status, 403u) << clear.body;
    auto sealed = [&](const std::string& key, std::string_view aad) {
        const auto box = web::scram::seal(key, fields.dump(), aad);
        return nlohmann::json{{"sealed",
                               {{"nonce", web::scram::base64_encode(box.nonce)},
                                {"data", web::scram::base64_encode(box.data)}}}};
    };
    // Sealed with another key, or for another purpose: refused.
    EXPECT_EQ(
        tagged_post("/api/password", sealed(std::string(32, 'x'), web::scram::kPasswordAad)).status,
        400u);
    EXPECT_EQ(tagged_post("/api/password", sealed(key_, "other")).status, 400u);
    // Sealed with the session key: changed.
    const nlohmann::json good = sealed(key_, web::scram::kPasswordAad);
    EXPECT_EQ(good.dump().find(next), std::string::npos);
    EXPECT_EQ(good.dump().find(password_), std::string::npos);
    Reply changed = tagged_post("/api/password", good);
    ASSERT_EQ(changed.status, 200u) << changed.body;
    // The new password's challenge-login keys were made: it logs in, the old one does not.
    cookie_.clear();
    EXPECT_EQ(scram_login(password_).status, 401u);
    EXPECT_EQ(scram_login(next).status, 200u);
    EXPECT_FALSE(request(false, http::verb::get, "/api/session").json()["initial_password"]);
}

TEST_F(WebSecurity, ChallengeLoginTellsNoNamesUsesNoncesOnceAndLocksOut) {
    tls_ = false;
    auto challenge = [&](const std::string& user) {
        return request(false, http::verb::post, "/api/login/challenge",
                       nlohmann::json{{"username", user}, {"client_nonce", std::string(20, 'c')}}
                           .dump(),
                       {{"Content-Type", "application/json"}})
            .json();
    };
    // An unknown name gets a salt of its own, the same every time, and the
    // iteration count of a real account.
    const nlohmann::json a = challenge("nobody"), b = challenge("nobody"),
                         admin = challenge("admin");
    EXPECT_EQ(a["salt"], b["salt"]);
    EXPECT_NE(a["nonce"], b["nonce"]);
    EXPECT_NE(a["salt"], admin["salt"]);
    EXPECT_EQ(a["iterations"], admin["iterations"]);
    EXPECT_EQ(web::scram::base64_decode(a["salt"].get<std::string>())->size(),
              web::scram::base64_decode(admin["salt"].get<std::string>())->size());
    Reply nobody = scram_login(password_, "nobody");
    EXPECT_EQ(nobody.status, 401u);
    EXPECT_EQ(nobody.json()["error"], "wrong user name or password");
    // A proof is good once: the same proof again finds its challenge used.
    ASSERT_EQ(scram_login(password_).status, 200u);
    Reply again = request(false, http::verb::post, "/api/login/proof", last_proof_,
                          {{"Content-Type", "application/json"}, {"Cookie", ""}});
    EXPECT_EQ(again.status, 401u);
    EXPECT_TRUE(again.json()["retry"].get<bool>());
    EXPECT_TRUE(again.headers["Set-Cookie"].empty());
    // Malformed requests: 400.
    EXPECT_EQ(json_post("/api/login/challenge", {{"username", "admin"}}, false).status, 400u);
    EXPECT_EQ(json_post("/api/login/proof", {{"username", "admin"}, {"nonce", "x"}}, false).status,
              400u);
    // Wrong proofs count as failed logins: the account locks (3 in this fixture).
    cookie_.clear();
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(scram_login("Wrong-password-" + std::to_string(i)).status, 401u);
    EXPECT_EQ(scram_login(password_).status, 429u);  // the challenge itself is refused
    EXPECT_TRUE(cookie_.empty());
}

TEST_F(WebSecurity, PlainHttpOnlyWithTheKeyElseAStoredPlainModeStartsProtected) {
    WebOptions allowed;
    allowed.allow_plain_http = true;
    restart(allowed);
    tls_ = false;
    // With the key: the password login over plain HTTP, and the plain mode.
    ASSERT_EQ(login(password_).status, 200u);
    EXPECT_TRUE(request(false, http::verb::get, "/api/security").json()["plain_http_allowed"]);
    ASSERT_EQ(json_post("/api/security", {{"mode", "http"}}).status, 200u);
    EXPECT_EQ(json_post("/api/parameters", {{"name", "Modbus_Address"}, {"value", "9"}}).status,
              200u);  // no tag needed
    EXPECT_EQ(request(false, http::verb::get, "/api/security").json()["mode"], "http");
    // Without it, the same state starts in protected HTTP.
    restart(WebOptions{});
    EXPECT_EQ(request(false, http::verb::get, "/api/security").json()["mode"], "http-protected");
    EXPECT_EQ(json_post("/api/parameters", {{"name", "Modbus_Address"}, {"value", "8"}}).status,
              403u);  // a password-login session has no key for the tag
    EXPECT_EQ(device_->settings().gateway.modbus_address, 9);
    halt();
    Store store(dir_->path);
    EXPECT_EQ(store.load_text("web.security"), "http-protected");
}

TEST_F(WebSecurity, AnAccountFromBeforeProtectedHttpGetsItsKeysAtATlsLogin) {
    halt();
    {
        Store store(dir_->path);
        nlohmann::json users = nlohmann::json::parse(store.load_text("web.users").value());
        ASSERT_TRUE(users["admin"].contains("scram"));
        users["admin"].erase("scram");
        store.save_text("web.users", users.dump());
    }
    launch(WebOptions{});
    tls_ = false;
    EXPECT_EQ(scram_login(password_).status, 401u);  // no keys yet
    tls_ = true;
    ASSERT_EQ(login(password_).status, 200u);  // the password over TLS: the keys are made
    tls_ = false;
    cookie_.clear();
    EXPECT_EQ(scram_login(password_).status, 200u);
}

TEST(WebConfig, AllowPlainHttpIsAnExplicitBooleanOffByDefault) {
    EXPECT_FALSE(parse_config("", "test").web.allow_plain_http);
    EXPECT_TRUE(parse_config("[web]\nallow_plain_http = true\n", "test").web.allow_plain_http);
    EXPECT_THROW(parse_config("[web]\nallow_plain_http = 1\n", "test"), ConfigError);
    EXPECT_THROW(parse_config("[web]\nallow_plain_http = \"yes\"\n", "test"), ConfigError);
}
