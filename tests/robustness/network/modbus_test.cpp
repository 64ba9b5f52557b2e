// Modbus TCP against masters that misbehave: one that pipelines reads and
// never reads the answers, and hundreds that connect and say nothing. The
// meter's memory stays bounded and an honest master is served throughout.
#include <gtest/gtest.h>
#include <modbus/modbus.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "meter_under_test.hpp"

using namespace openbcpm::test;

namespace {

constexpr long kMaxGrowthKib = 20 * 1024;  // what the issue allows

// An honest master (libmodbus) that gives the meter 1 s to answer.
class Master {
  public:
    explicit Master(int port) : ctx_(modbus_new_tcp("127.0.0.1", port)) {
        modbus_set_response_timeout(ctx_, 1, 0);
        connected_ = modbus_connect(ctx_) == 0;
        modbus_set_slave(ctx_, 1);
    }
    ~Master() {
        modbus_close(ctx_);
        modbus_free(ctx_);
    }
    Master(const Master&) = delete;
    Master& operator=(const Master&) = delete;
    bool connected() const { return connected_; }
    // Reads 125 registers; the time it took, or a negative value on failure.
    double timed_read() {
        uint16_t regs[125] = {};
        const auto t = Clock::now();
        if (modbus_read_registers(ctx_, 0, 125, regs) != 125) return -1.0;
        EXPECT_EQ(regs[0], 0x4E3B);  // the serial number's high word: a real answer
        return seconds_since(t);
    }

  private:
    modbus_t* ctx_;
    bool connected_ = false;
};

// Sends 125-register reads back to back as fast as the meter takes them and
// never reads an answer; when the meter closes the connection it connects
// again and goes on (the attack renewed).
class PipeliningMaster {
  public:
    explicit PipeliningMaster(int port) : thread_([this, port] { run(port); }) {}
    ~PipeliningMaster() { stop(); }
    PipeliningMaster(const PipeliningMaster&) = delete;
    PipeliningMaster& operator=(const PipeliningMaster&) = delete;
    void stop() {
        running_ = false;
        if (thread_.joinable()) thread_.join();
    }
    int closed_by_meter() const { return closed_; }
    uint64_t bytes_sent() const { return sent_; }

  private:
    void run(int port) {
        std::vector<uint8_t> batch;
        for (uint16_t id = 0; id < 100; ++id) {
            const uint8_t request[] = {static_cast<uint8_t>(id >> 8),
                                       static_cast<uint8_t>(id),
                                       0,
                                       0,
                                       0,
                                       6,
                                       1,
                                       3,
                                       0,
                                       0,
                                       0,
                                       125};
            batch.insert(batch.end(), std::begin(request), std::end(request));
        }
        int s = connect_from("127.0.0.1", port);
        size_t at = 0;
        while (running_ && s >= 0) {
            const ssize_t n =
                send(s, batch.data() + at, batch.size() - at, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                sent_ += static_cast<uint64_t>(n);
                at = (at + static_cast<size_t>(n)) % batch.size();
                continue;
            }
            if (n < 0 && errno == EAGAIN) {
                pollfd p{s, POLLOUT, 0};
                poll(&p, 1, 50);
                continue;
            }
            ++closed_;  // reset by the meter
            close(s);
            s = connect_from("127.0.0.1", port);
            at = 0;
        }
        if (s >= 0) close(s);
    }

    std::atomic<bool> running_{true};
    std::atomic<int> closed_{0};
    std::atomic<uint64_t> sent_{0};
    std::thread thread_;
};

}  // namespace

TEST(ModbusFlood, APipeliningMasterThatNeverReadsCostsBoundedMemory) {
    MeterUnderTest meter(false);
    Master master(meter.modbus_port());
    ASSERT_TRUE(master.connected());
    for (int i = 0; i < 10; ++i) {
        ASSERT_GE(master.timed_read(), 0.0);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const long before = meter.rss_kib();
    long peak = before;
    double slowest = 0.0;
    int reads = 0;
    {
        // At least 14 s: the meter stops reading the flood once its answers
        // back up and resets it after 10 s of not being read; the flood then
        // starts over. On a loaded machine filling the kernel's buffers takes
        // a while, so go on (up to the 30 s) until the meter has
        // closed the flood once.
        PipeliningMaster flood(meter.modbus_port());
        const auto start = Clock::now();
        while (seconds_since(start) < 14.0 ||
               (flood.closed_by_meter() == 0 && seconds_since(start) < 30.0)) {
            const double took = master.timed_read();
            EXPECT_GE(took, 0.0) << "the honest master got no answer at " << seconds_since(start)
                                 << " s";
            slowest = std::max(slowest, took);
            ++reads;
            peak = std::max(peak, meter.rss_kib());
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        flood.stop();
        EXPECT_GE(flood.closed_by_meter(), 1) << "the meter never closed the flood";
        EXPECT_GT(flood.bytes_sent(), 100000u) << "the flood did not get going";
        RecordProperty("flood_bytes_sent", std::to_string(flood.bytes_sent()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const long after = meter.rss_kib();
    RecordProperty("rss_before_kib", std::to_string(before));
    RecordProperty("rss_peak_kib", std::to_string(peak));
    RecordProperty("rss_after_kib", std::to_string(after));
    RecordProperty("slowest_read_ms", std::to_string(static_cast<int>(slowest * 1000)));
    std::printf("RSS before %ld KiB, peak %ld KiB, after %ld KiB; %d reads, slowest %.1f ms\n",
                before, peak, after, reads, slowest * 1000);
    EXPECT_LT(peak - before, kMaxGrowthKib);
    EXPECT_LT(after - before, kMaxGrowthKib);
    EXPECT_LT(slowest, 1.0);
    EXPECT_GT(reads, 50);
    // One line in the log, however many connections were closed.
    EXPECT_EQ(meter.log_lines_with("did not read its answers"), 1) << meter.log();
    meter.stop();
}

TEST(ModbusFlood, ThreeHundredIdleConnectionsDoNotLockANewMasterOut) {
    MeterUnderTest meter(true);  // the web face shows the counters
    std::vector<int> idle;
    for (int i = 0; i < 300; ++i) {
        const int s = connect_from("127.0.0.1", meter.modbus_port());
        ASSERT_GE(s, 0) << "connection " << i << ": " << std::strerror(errno);
        idle.push_back(s);
    }
    // The cap is 64: each newcomer took the slot of the longest-idle one.
    const auto t = Clock::now();
    Master master(meter.modbus_port());
    ASSERT_TRUE(master.connected());
    const double read = master.timed_read();
    const double served = seconds_since(t);
    std::printf("a new master after 300 idle connections: served in %.1f ms\n", served * 1000);
    RecordProperty("new_master_served_ms", std::to_string(static_cast<int>(served * 1000)));
    EXPECT_GE(read, 0.0);
    EXPECT_LT(served, 1.0);
    // The first ones are gone (the meter closed them), the newest are kept.
    pollfd first{idle.front(), POLLIN, 0};
    ASSERT_EQ(poll(&first, 1, 2000), 1);
    char byte = 0;
    EXPECT_LE(recv(idle.front(), &byte, 1, MSG_DONTWAIT), 0);
    pollfd last{idle.back(), POLLIN, 0};
    EXPECT_EQ(poll(&last, 1, 0), 0) << "the newest idle connection was closed";
    // Counted, shown, and logged once.
    WebSession web(meter.web_port(), meter.initial_password());
    ASSERT_EQ(web.post("/api/security", {{"mode", "http"}}).status, 200u);
    const nlohmann::json c = web.get("/api/connections").json();
    EXPECT_EQ(c["modbus_tcp"]["open"], 64) << c.dump();
    EXPECT_EQ(c["modbus_tcp"]["evicted"], 300 + 1 - 64) << c.dump();
    EXPECT_EQ(c["modbus_tcp"]["refused"], 0) << c.dump();
    const std::string metrics = web.get("/metrics").body;
    EXPECT_NE(
        metrics.find("bcpm_connections_closed_total{face=\"modbus_tcp\",reason=\"evicted\"} " +
                     std::to_string(300 + 1 - 64)),
        std::string::npos)
        << metrics.substr(metrics.find("bcpm_connections"));
    EXPECT_EQ(meter.log_lines_with("connection limit (64) reached"), 1) << meter.log();
    for (const int s : idle)
        close(s);
    meter.stop();
}
