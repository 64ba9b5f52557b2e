// Logins and password changes never hash on the event loop: handle() asks for
// the Argon2id work (Reply::password_work) and answers only when it is handed
// the verdict. Hashing on the loop held every face up for tens of
// milliseconds per login (figures in docs/benchmarks.md, "Web login").
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <fstream>

#include "../../temp_dir.hpp"
#include "config/config.hpp"
#include "device/device.hpp"
#include "web/server.hpp"

using namespace openbcpm;
using namespace openbcpm::web;

namespace {

class PasswordWorkOffTheLoop : public ::testing::Test {
  protected:
    PasswordWorkOffTheLoop()
        : device_(default_config(), dir_.path),
          server_(std::make_shared<WebServer>(io_, device_, plain_http())) {
        std::ifstream in(dir_.path / "initial-admin-password");
        std::getline(in, initial_);
    }

    // The password in clear over plain HTTP (connection_ is not TLS): this
    // test is about where the hashing runs, not about the security mode.
    static WebOptions plain_http() {
        WebOptions o;
        o.allow_plain_http = true;
        return o;
    }

    Request post(const std::string& target, const nlohmann::json& body,
                 const std::string& cookie = {}, const std::string& csrf = {}) {
        Request r{http::verb::post, target, 11};
        r.set(http::field::host, "127.0.0.1:8443");
        r.set(http::field::origin, "http://127.0.0.1:8443");
        r.set(http::field::content_type, "application/json");
        if (!cookie.empty()) r.set(http::field::cookie, cookie);
        if (!csrf.empty()) r.set("X-CSRF-Token", csrf);
        r.body() = body.dump();
        r.prepare_payload();
        return r;
    }

    // Handles the request as a connection does, checking that the first pass
    // asks for the work and leaves the answer to the second.
    Reply two_passes(Request& request, PasswordWork* asked = nullptr) {
        Reply first = server_->handle(request, connection_);
        EXPECT_TRUE(first.password_work.has_value());
        if (!first.password_work) return first;
        if (asked) *asked = *first.password_work;
        const PasswordVerdict verdict = run_password_work(*first.password_work);
        Reply second = server_->handle(request, connection_, &verdict);
        EXPECT_FALSE(second.password_work.has_value());
        return second;
    }

    test::TempDir dir_;
    boost::asio::io_context io_;
    Device device_;
    std::shared_ptr<WebServer> server_;
    Connection connection_{false, "127.0.0.1", "127.0.0.1"};
    std::string initial_;
};

TEST_F(PasswordWorkOffTheLoop, LoginAnswersOnlyWithTheVerdict) {
    Request wrong = post("/api/login", {{"username", "admin"}, {"password", "not-it"}});
    EXPECT_EQ(two_passes(wrong).response.result(), http::status::unauthorized);

    Request nobody = post("/api/login", {{"username", "nobody"}, {"password", initial_}});
    PasswordWork asked;
    EXPECT_EQ(two_passes(nobody, &asked).response.result(), http::status::unauthorized);
    EXPECT_TRUE(asked.encoded.empty());  // verified against a dummy, not skipped

    Request right = post("/api/login", {{"username", "admin"}, {"password", initial_}});
    const Reply ok = two_passes(right, &asked);
    EXPECT_EQ(ok.response.result(), http::status::ok) << ok.response.body();
    EXPECT_EQ(asked.encoded.rfind("$argon2id$", 0), 0u);
    EXPECT_FALSE(ok.response[http::field::set_cookie].empty());
}

TEST_F(PasswordWorkOffTheLoop, PasswordChangeHashesTheNewPasswordOffTheLoopToo) {
    Request login = post("/api/login", {{"username", "admin"}, {"password", initial_}});
    const Reply in = two_passes(login);
    ASSERT_EQ(in.response.result(), http::status::ok);
    const std::string set_cookie(in.response[http::field::set_cookie]);
    const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
    const std::string csrf = nlohmann::json::parse(in.response.body()).at("csrf");
    // Until a security mode is chosen, only the mode choice answers.
    Request mode = post("/api/security", {{"mode", "http"}}, cookie, csrf);
    ASSERT_EQ(server_->handle(mode, connection_).response.result(), http::status::ok);

    // A weak new password: refused once the current one is verified, and
    // nothing is hashed for it.
    Request weak =
        post("/api/password", {{"current", initial_}, {"password", "weak"}, {"confirm", "weak"}},
             cookie, csrf);
    PasswordWork asked;
    EXPECT_EQ(two_passes(weak, &asked).response.result(), http::status::bad_request);
    EXPECT_TRUE(asked.new_password.empty());

    const std::string next = "Panel-Board#2026";
    Request change =
        post("/api/password", {{"current", initial_}, {"password", next}, {"confirm", next}},
             cookie, csrf);
    const Reply changed = two_passes(change, &asked);
    EXPECT_EQ(changed.response.result(), http::status::ok) << changed.response.body();
    EXPECT_EQ(asked.new_password, next);

    // The stored hash is the one made off the loop: the new password logs in.
    Request again = post("/api/login", {{"username", "admin"}, {"password", next}});
    EXPECT_EQ(two_passes(again).response.result(), http::status::ok);
}

}  // namespace
