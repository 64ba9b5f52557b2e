// The web face against clients that hold connections hostage (slow request
// heads from one address, a stream client that never reads), Host headers
// that are not the meter's, and requests before a security mode is chosen.
#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <thread>

#include "meter_under_test.hpp"

using namespace openbcpm::test;

namespace {

constexpr long kMaxGrowthKib = 20 * 1024;

// True once the peer has closed (or reset) the connection.
bool closed_by_peer(int s) {
    pollfd p{s, POLLIN | POLLRDHUP, 0};
    if (poll(&p, 1, 0) != 1) return false;
    if (p.revents & (POLLERR | POLLHUP | POLLRDHUP)) return true;
    char buffer[256];
    return recv(s, buffer, sizeof buffer, MSG_DONTWAIT) <= 0;
}

std::string upgrade_request(int port, const std::string& cookie) {
    return "GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
           "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           "Origin: http://127.0.0.1:" +
           std::to_string(port) + "\r\nCookie: " + cookie + "\r\n\r\n";
}

}  // namespace

TEST(WebFlood, SlowClientsFromOneAddressLeaveTheGuiToAnother) {
    MeterUnderTest meter(true);
    const int port = meter.web_port();
    // 140 connections from 127.0.0.1 that trickle their request head, one
    // header byte per connection every 250 ms, and never finish it.
    struct Slow {
        int socket;
        double closed_at = -1.0;
    };
    std::vector<Slow> slow;
    const auto start = Clock::now();
    for (int i = 0; i < 140; ++i) {
        const int s = connect_from("127.0.0.1", port);
        ASSERT_GE(s, 0);
        const std::string head = "GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        (void)send(s, head.data(), head.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        slow.push_back({s});
    }
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/login";
    double slowest = 0.0;
    int served = 0;
    size_t sent = 0;
    auto next_request = start;
    while (seconds_since(start) < 13.0) {
        for (Slow& c : slow) {
            if (c.closed_at >= 0) continue;
            if (closed_by_peer(c.socket)) {
                c.closed_at = seconds_since(start);
                continue;
            }
            const char byte = "X-Slow: a\r\n"[sent % 11];
            (void)send(c.socket, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        ++sent;
        if (Clock::now() >= next_request) {
            // The GUI from another address.
            const CurlResult r = curl_get("127.0.0.2", url, meter.scratch());
            EXPECT_EQ(r.status, 200) << "at " << seconds_since(start) << " s";
            slowest = std::max(slowest, r.seconds);
            served += r.status == 200 ? 1 : 0;
            next_request += std::chrono::seconds(1);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    int at_once = 0, by_deadline = 0;
    for (const Slow& c : slow) {
        at_once += c.closed_at >= 0 && c.closed_at < 2.0 ? 1 : 0;
        by_deadline += c.closed_at >= 0 ? 1 : 0;
        close(c.socket);
    }
    std::printf(
        "127.0.0.2 served %d of %d, slowest %.1f ms; slow clients refused at once: %d, "
        "closed by the head deadline: %d\n",
        served, 13, slowest * 1000, at_once, by_deadline - at_once);
    EXPECT_GE(served, 12);
    EXPECT_LT(slowest, 1.0);
    // 32 per address: the rest were refused at once; the head deadline (10 s,
    // however the bytes trickle) closed the others.
    EXPECT_EQ(at_once, 140 - 32);
    EXPECT_EQ(by_deadline, 140);
    // 108 refusals and 32 timeouts, one line: the rest wait for the minute's summary.
    EXPECT_EQ(meter.log_lines_with("[warning] web"), 1) << meter.log();
    EXPECT_EQ(meter.log_lines_with("over the limit per client address"), 1) << meter.log();
    WebSession web(port, meter.initial_password());
    ASSERT_EQ(web.post("/api/security", {{"mode", "http"}}).status, 200u);
    const nlohmann::json c = web.get("/api/connections").json();
    EXPECT_EQ(c["web"]["refused"], 140 - 32) << c.dump();
    EXPECT_EQ(c["web"]["timed_out"], 32) << c.dump();
    meter.stop();
}

TEST(WebFlood, AStreamClientThatNeverReadsIsClosed) {
    MeterUnderTest meter(true);
    const int port = meter.web_port();
    WebSession web(port, meter.initial_password());
    ASSERT_EQ(web.post("/api/security", {{"mode", "http"}}).status, 200u);
    // The growth measured is the stalled client's: wait until the meter's own
    // start-up allocations are done (the trend ring comes with the first window).
    for (int i = 0; i < 200; ++i) {
        const nlohmann::json t = web.get("/api/trends").json();
        if (t["memory"]["bytes"].get<uint64_t>() > 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const long before = meter.rss_kib();
    long peak = before;
    // A small receive window, and nothing ever read: the stream's messages
    // back up in the meter.
    const int s = connect_from("127.0.0.1", port, 4096);
    ASSERT_GE(s, 0);
    const std::string upgrade = upgrade_request(port, web.cookie());
    ASSERT_EQ(send(s, upgrade.data(), upgrade.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(upgrade.size()));
    const auto start = Clock::now();
    double closed_at = -1.0, slowest = 0.0;
    while (seconds_since(start) < 30.0 && closed_at < 0) {
        const auto t = Clock::now();
        EXPECT_EQ(web.get("/api/snapshot").status, 200u);
        slowest = std::max(slowest, seconds_since(t));
        peak = std::max(peak, meter.rss_kib());
        if (closed_by_peer(s)) closed_at = seconds_since(start);
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    close(s);
    std::printf(
        "stream client closed after %.1f s; RSS before %ld KiB, peak %ld KiB; slowest "
        "snapshot %.1f ms\n",
        closed_at, before, peak, slowest * 1000);
    // The first message cannot be delivered; 15 s later the client is reset.
    EXPECT_GE(closed_at, 14.0);
    EXPECT_LT(closed_at, 25.0);
    EXPECT_LT(peak - before, kMaxGrowthKib);
    EXPECT_LT(slowest, 1.0);
    EXPECT_EQ(meter.log_lines_with("stream client that did not read"), 1) << meter.log();
    EXPECT_EQ(web.get("/api/connections").json()["web"]["stalled"], 1);
    meter.stop();
}

TEST(WebHost, RedirectsOriginChecksAndTheSecurityGate) {
    MeterUnderTest meter(true, "", "host_names = [\"meter.example\"]");
    const int port = meter.web_port();
    const std::string p = std::to_string(port);
    WebSession web(port, meter.initial_password());
    ASSERT_TRUE(web.logged_in());
    // Before a security mode is chosen only the choice answers.
    EXPECT_EQ(web.get("/api/snapshot").status, 409u);
    EXPECT_EQ(web.get("/metrics").status, 409u);
    EXPECT_EQ(web.post("/api/parameters", {{"name", "Modbus_Address"}, {"value", "7"}}).status,
              409u);
    EXPECT_EQ(web.get("/panel").headers["Location"], "/security");
    EXPECT_EQ(web.get("/security").status, 200u);
    EXPECT_EQ(web.get("/api/security").status, 200u);
    EXPECT_EQ(http_request(port, "GET", "/api/stream",
                           {{"Cookie", web.cookie()},
                            {"Upgrade", "websocket"},
                            {"Connection", "Upgrade"},
                            {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                            {"Sec-WebSocket-Version", "13"}})
                  .status,
              409u);
    ASSERT_EQ(web.post("/api/security", {{"mode", "http"}}).status, 200u);
    EXPECT_EQ(web.get("/api/snapshot").status, 200u);
    // Origin: one of the meter's names, whatever the Host header says.
    const nlohmann::json same = {{"name", "Modbus_Address"}, {"value", "1"}};
    EXPECT_EQ(web.post("/api/parameters", same,
                       {{"Host", "evil.example"}, {"Origin", "http://evil.example"}})
                  .status,
              403u);
    EXPECT_EQ(web.post("/api/parameters", same,
                       {{"Host", "evil.example"}, {"Origin", "http://meter.example:" + p}})
                  .status,
              200u);
    // Redirects to HTTPS name the meter, never the request's Host.
    ASSERT_EQ(web.post("/api/security", {{"mode", "https-self-signed"}}).status, 200u);
    const std::string url = "http://127.0.0.1:" + p + "/login";
    CurlResult r = curl_get("127.0.0.1", url, meter.scratch(), {"Host: evil.example"});
    EXPECT_EQ(r.status, 301);
    EXPECT_EQ(r.redirect, "https://127.0.0.1:" + p + "/login");
    r = curl_get("127.0.0.1", url, meter.scratch(), {"Host: meter.example"});
    EXPECT_EQ(r.redirect, "https://meter.example:" + p + "/login");
    meter.stop();
}
