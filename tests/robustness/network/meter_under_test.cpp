#include "meter_under_test.hpp"

#include <gtest/gtest.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sstream>
#include <thread>

namespace openbcpm::test {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

std::string base_config(int modbus_port, int web_port, bool web, const std::string& modbus_keys,
                        const std::string& web_keys) {
    std::ostringstream c;
    c << "[faces]\nmodbus_tcp = true\nweb = " << (web ? "true" : "false")
      << "\nbacnet_ip = false\nsnmp = false\n"
      << "[network]\nip_address = \"127.0.0.1\"\n"
      << "[modbus]\ntcp_port = " << modbus_port << "\n"
      << modbus_keys
      << "\n"
      // The tests log in over plain HTTP (a raw client, no SCRAM): the explicit key.
      << "[web]\nport = " << web_port << "\nallow_plain_http = true\n"
      << web_keys << "\n"
      << "[[simulation.load]]\npanel = 1\nchannels = [1, 3, 5]\namps = 10.0\npf = 1.0\n";
    return c.str();
}

}  // namespace

MeterUnderTest::MeterUnderTest(bool web, const std::string& modbus_keys,
                               const std::string& web_keys)
    : modbus_port_(free_tcp_port()), web_port_(free_tcp_port()) {
    // An ASan build keeps freed memory in quarantine (256 MB by default), which
    // would read as growth here; a small quarantine still catches use after free.
    const char* asan = std::getenv("ASAN_OPTIONS");
    std::string options = asan ? asan : "";
    if (options.find("quarantine_size_mb") == std::string::npos) {
        setenv("ASAN_OPTIONS",
               (options.empty() ? "" : options + ":").append("quarantine_size_mb=4").c_str(), 1);
    }
    const auto config = dir_.path / "meter.toml";
    std::ofstream(config) << base_config(modbus_port_, web_port_, web, modbus_keys, web_keys);
    process_ = std::make_unique<Process>(
        std::vector<std::string>{binary(), "run", "--config", config.string(), "--state-dir",
                                 (dir_.path / "state").string()},
        (dir_.path / "meter.log").string());
    const std::string modbus_started =
        "Modbus TCP on 127.0.0.1:" + std::to_string(modbus_port_) + " started";
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline) {
        const std::string text = log();
        if (text.find(modbus_started) != std::string::npos &&
            (!web || text.find("web: listening on") != std::string::npos)) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "the meter did not start:\n" << log();
}

MeterUnderTest::~MeterUnderTest() = default;

long MeterUnderTest::rss_kib() const {
    std::ifstream in("/proc/" + std::to_string(process_->pid()) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
}

int MeterUnderTest::log_lines_with(const std::string& text) const {
    std::istringstream in(log());
    int n = 0;
    for (std::string line; std::getline(in, line);)
        n += line.find(text) != std::string::npos ? 1 : 0;
    return n;
}

std::string MeterUnderTest::initial_password() const {
    std::ifstream in(dir_.path / "state" / "initial-admin-password");
    std::string pw;
    std::getline(in, pw);
    return pw;
}

void MeterUnderTest::stop() {
    process_->signal(SIGTERM);
    EXPECT_EQ(process_->wait(), 0) << log();
}

int connect_from(const char* from, int port, int rcvbuf) {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    if (rcvbuf > 0) setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, from, &local.sin_addr);
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(static_cast<uint16_t>(port));
    remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        connect(s, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
        close(s);
        return -1;
    }
    return s;
}

HttpReply http_request(int port, const std::string& method, const std::string& target,
                       const std::map<std::string, std::string>& headers, const std::string& body) {
    boost::asio::io_context io;
    tcp::socket socket(io);
    beast::error_code ec;
    socket.connect(
        tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)), ec);
    HttpReply out;
    if (ec) return out;
    const timeval timeout{5, 0};  // no answer in 5 s is a failure, not a hang
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    for (const auto& [k, v] : headers)
        req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(socket, req, ec);
    if (ec) return out;
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res, ec);
    if (ec) return out;
    out.status = res.result_int();
    out.body = res.body();
    for (const auto& f : res)
        out.headers[std::string(f.name_string())] = std::string(f.value());
    return out;
}

WebSession::WebSession(int port, const std::string& password) : port_(port) {
    const HttpReply r =
        http_request(port, "POST", "/api/login", {{"Content-Type", "application/json"}},
                     nlohmann::json{{"username", "admin"}, {"password", password}}.dump());
    if (r.status != 200) {
        ADD_FAILURE() << "login: " << r.status << " " << r.body;
        return;
    }
    const std::string set = r.headers.count("Set-Cookie") ? r.headers.at("Set-Cookie") : "";
    cookie_ = set.substr(0, set.find(';'));
    csrf_ = r.json().value("csrf", "");
}

HttpReply WebSession::get(const std::string& target, std::map<std::string, std::string> headers) {
    headers["Cookie"] = cookie_;
    return http_request(port_, "GET", target, headers);
}

HttpReply WebSession::post(const std::string& target, const nlohmann::json& body,
                           std::map<std::string, std::string> headers) {
    headers["Cookie"] = cookie_;
    headers["Content-Type"] = "application/json";
    headers.emplace("X-CSRF-Token", csrf_);
    return http_request(port_, "POST", target, headers, body.dump());
}

CurlResult curl_get(const char* from, const std::string& url, const std::filesystem::path& scratch,
                    const std::vector<std::string>& headers) {
    std::vector<std::string> args = {"/usr/bin/curl", "--silent",
                                     "--output",      "/dev/null",
                                     "--max-time",    "5",
                                     "--interface",   from,
                                     "--write-out",   "%{http_code} %{time_total} %{redirect_url}"};
    for (const std::string& h : headers) {
        args.emplace_back("--header");
        args.push_back(h);
    }
    args.push_back(url);
    std::string out;
    run(args, &out, scratch);
    CurlResult r;
    std::istringstream in(out);
    in >> r.status >> r.seconds >> r.redirect;
    return r;
}

}  // namespace openbcpm::test
