// The real openbcpm on loopback for the network robustness tests, and the
// small clients they use: raw TCP connections from a chosen loopback address,
// a logged-in HTTP client, curl from 127.0.0.2.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "process.hpp"

namespace openbcpm::test {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

class MeterUnderTest {
  public:
    // `modbus_keys` and `web_keys` are TOML lines for the [modbus] and [web] tables.
    explicit MeterUnderTest(bool web, const std::string& modbus_keys = "",
                            const std::string& web_keys = "");
    ~MeterUnderTest();
    MeterUnderTest(const MeterUnderTest&) = delete;
    MeterUnderTest& operator=(const MeterUnderTest&) = delete;

    int modbus_port() const { return modbus_port_; }
    int web_port() const { return web_port_; }
    // Resident memory of the meter process, from /proc/<pid>/status.
    long rss_kib() const;
    std::string log() const { return read_file(dir_.path / "meter.log"); }
    // Lines of the log that contain `text`.
    int log_lines_with(const std::string& text) const;
    std::string initial_password() const;
    const std::filesystem::path& scratch() const { return dir_.path; }
    // SIGTERM; the meter must exit 0.
    void stop();

  private:
    TempDir dir_;
    int modbus_port_ = 0;
    int web_port_ = 0;
    std::unique_ptr<Process> process_;
};

// A TCP connection from `from` to 127.0.0.1:port, or -1. `rcvbuf` > 0 sets a
// small receive buffer before connecting (a client whose window fills at once).
int connect_from(const char* from, int port, int rcvbuf = 0);

struct HttpReply {
    unsigned status = 0;  // 0: no answer (refused, closed, timed out)
    std::string body;
    std::map<std::string, std::string> headers;
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// One request on a fresh plain HTTP connection to 127.0.0.1:port.
HttpReply http_request(int port, const std::string& method, const std::string& target,
                       const std::map<std::string, std::string>& headers = {},
                       const std::string& body = {});

// A logged-in GUI session over plain HTTP.
class WebSession {
  public:
    WebSession(int port, const std::string& password);
    bool logged_in() const { return !cookie_.empty(); }
    HttpReply get(const std::string& target, std::map<std::string, std::string> headers = {});
    HttpReply post(const std::string& target, const nlohmann::json& body,
                   std::map<std::string, std::string> headers = {});
    const std::string& cookie() const { return cookie_; }

  private:
    int port_;
    std::string cookie_, csrf_;
};

// GET `url` with curl from the loopback address `from` (`headers`: "Name: value"
// lines): the status (0 when none), how long it took, where it redirects.
struct CurlResult {
    int status = 0;
    double seconds = 0.0;
    std::string redirect;
};
CurlResult curl_get(const char* from, const std::string& url, const std::filesystem::path& scratch,
                    const std::vector<std::string>& headers = {});

}  // namespace openbcpm::test
