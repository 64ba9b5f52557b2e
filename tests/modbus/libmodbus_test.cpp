// Modbus TCP and RTU against the real binary, driven by libmodbus (Debian's
// library): every section against the simulator's truth and the scale
// registers, writes that persist across a restart, bad requests that get the
// right exception and change nothing, many masters at once, freshness.
#include <gtest/gtest.h>
#include <modbus/modbus.h>
#include <sys/socket.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <cmath>
#include <thread>
#include <vector>

#include "process.hpp"

using namespace openbcpm::test;

namespace {

// 120 V wye; loads chosen so every section has something to show.
std::string config(int port, const std::string& extra = "", double current_noise = 0.0,
                   const std::string& modbus_keys = "") {
    return R"(
[device]
channels = 84
[faces]
web = false
[network]
ip_address = "127.0.0.1"
[modbus]
tcp_port = )" +
           std::to_string(port) + "\n" + modbus_keys + R"(
[gateway]
rtc_control = 1
[panel.1]
location = "Test RPP-1A"
subinterval_seconds = 10
[[panel.1.channel]]
channel = 3
logical_circuit = 1
[[panel.1.channel]]
channel = 5
logical_circuit = 1
[simulation]
voltage_noise = 0.0
current_noise = )" +
           std::to_string(current_noise) + R"(
[[simulation.load]]
panel = 1
channels = [1, 3, 5]
amps = 10.0
pf = 1.0
[[simulation.load]]
panel = 1
channel = 8
amps = 12.5
pf = 0.85
[[simulation.load]]
panel = 2
channel = 2
amps = 6.0
pf = 0.5
)" + extra;
}

class Meter {
  public:
    Meter(const TempDir& dir, const std::string& cfg_text, const char* state = "state") {
        const auto cfg = dir.path / "meter.toml";
        std::ofstream(cfg) << cfg_text;
        proc_ = std::make_unique<Process>(
            std::vector<std::string>{binary(), "run", "--config", cfg.string(), "--state-dir",
                                     (dir.path / state).string()},
            (dir.path / "meter.log").string());
    }
    void stop() {
        proc_->signal(SIGTERM);
        EXPECT_EQ(proc_->wait(), 0);
    }

  private:
    std::unique_ptr<Process> proc_;
};

class Client {
  public:
    Client(int port, int unit) {
        ctx_ = modbus_new_tcp("127.0.0.1", port);
        modbus_set_response_timeout(ctx_, 2, 0);
        for (int i = 0; i < 100 && modbus_connect(ctx_) != 0; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        modbus_set_slave(ctx_, unit);
    }
    ~Client() {
        modbus_close(ctx_);
        modbus_free(ctx_);
    }
    uint16_t reg(int r) {
        uint16_t v = 0;
        EXPECT_EQ(modbus_read_registers(ctx_, r - 1, 1, &v), 1)
            << "register " << r << ": " << modbus_strerror(errno);
        return v;
    }
    int16_t sreg(int r) { return static_cast<int16_t>(reg(r)); }
    // An integer register with its scale register applied.
    double scaled(int r, int scale_reg) { return sreg(r) * std::pow(10.0, sreg(scale_reg)); }
    double scaled32(int r, int scale_reg) {
        uint16_t v[2] = {};
        EXPECT_EQ(modbus_read_registers(ctx_, r - 1, 2, v), 2);
        return static_cast<int32_t>(static_cast<uint32_t>(v[0]) << 16 | v[1]) *
               std::pow(10.0, sreg(scale_reg));
    }
    double flt(int r) {
        uint16_t v[2] = {};
        EXPECT_EQ(modbus_read_registers(ctx_, r - 1, 2, v), 2) << "float " << r;
        return std::bit_cast<float>(static_cast<uint32_t>(v[0]) << 16 | v[1]);
    }
    int write(int r, uint16_t v) { return modbus_write_register(ctx_, r - 1, v); }
    modbus_t* raw() { return ctx_; }

  private:
    modbus_t* ctx_ = nullptr;
};

void wait_for_metering() {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
}

}  // namespace

TEST(ModbusTcp, EverySectionAgreesWithTheSimulatorAndItsScales) {
    TempDir dir;
    const int port = free_tcp_port();
    Meter meter(dir, config(port));
    Client c(port, 1);
    wait_for_metering();
    const double v = 120.0, r3 = std::sqrt(3.0);
    // Manufacturer info and setup.
    EXPECT_EQ(c.reg(1), 0x4E3B);
    EXPECT_EQ(c.reg(2), 0x73CB);
    EXPECT_EQ(c.reg(5), 15172);
    EXPECT_EQ(c.reg(6), 0);
    EXPECT_EQ(c.reg(7), ('T' << 8) | 'e');
    EXPECT_EQ(c.reg(72), 10);
    EXPECT_EQ(c.reg(73), 100);
    EXPECT_EQ(c.reg(161), 225);
    EXPECT_EQ(c.reg(171), 700);
    // Voltage inputs.
    EXPECT_EQ(c.sreg(244), -1);
    EXPECT_NEAR(c.sreg(245) / 100.0, 60.0, 0.011);  // frequency, fixed scale -2
    EXPECT_NEAR(c.scaled(248, 244), v, 0.15);
    EXPECT_NEAR(c.scaled(251, 244), v * r3, 0.2);
    EXPECT_NEAR(c.flt(600), 60.0, 0.01);
    EXPECT_NEAR(c.flt(602), v, 0.1);
    EXPECT_NEAR(c.flt(604), v * r3, 0.15);
    // Channel 8 (phase A, top feed): 12.5 A at PF 0.85 - ints with their scales, floats.
    EXPECT_NEAR(c.scaled(1343, 1007), 12.5, 0.011);
    EXPECT_NEAR(c.flt(2266), 12.5, 0.01);
    EXPECT_NEAR(c.scaled(1259, 1049), v * 12.5 * 0.85 / 1000.0, 0.011);
    EXPECT_NEAR(c.flt(2098), v * 12.5 * 0.85 / 1000.0, 0.003);
    EXPECT_NEAR(c.sreg(1301) / 1000.0, 0.85, 0.002);  // PF, fixed -3
    EXPECT_NEAR(c.flt(2182), 0.85, 0.002);
    EXPECT_NEAR(c.flt(2854), v * 12.5 / 1000.0, 0.003);  // kVA
    EXPECT_GT(c.flt(2014), 0.0);                         // kWh; the integer is at 0.01 kWh
    EXPECT_NEAR(c.flt(2014), c.scaled32(1182, 1091), 0.0051);
    // Aux inputs: phase A carries channels 1 and 8 -> |10 + 12.5<-31.8| A.
    const double re = 10.0 + 12.5 * 0.85, im = -12.5 * std::sin(std::acos(0.85));
    EXPECT_NEAR(c.flt(638), std::hypot(re, im), 0.02);
    EXPECT_NEAR(c.scaled(265, 284), std::hypot(re, im), 0.02);
    EXPECT_NEAR(c.flt(640), 10.0, 0.02);                                     // phase B: channel 3
    EXPECT_NEAR(c.flt(620), (1200.0 * 3 + v * 12.5 * 0.85) / 1000.0, 0.01);  // 3ph total kW
    EXPECT_NEAR(c.scaled(256, 292), (1200.0 * 3 + v * 12.5 * 0.85) / 1000.0, 0.011);
    // Phase angles (extension): channel 8 lags 31.79 degrees; V2 at -120.
    EXPECT_NEAR(c.sreg(3004 + 7) / 10.0, -31.79, 0.2);
    EXPECT_NEAR(c.flt(3107 + 14), -31.79, 0.2);
    EXPECT_NEAR(c.flt(3103), -120.0, 0.1);
    // Logical circuit 1 = channels 1, 3, 5 (by circuit and by type).
    EXPECT_EQ(c.reg(10001), 3);
    EXPECT_EQ(c.reg(10002), 1);
    EXPECT_EQ(c.reg(10004), 5);
    EXPECT_NEAR(c.flt(10102), 3.6, 0.01);          // total kW
    EXPECT_NEAR(c.flt(10108), 10.0, 0.02);         // average current
    EXPECT_NEAR(c.flt(6000 + 2 * 46), 3.6, 0.01);  // the same in the by-type map
    EXPECT_EQ(c.reg(3201 + 2), 1);                 // channel 3's logical circuit register
    // Legacy 3-phase map once 62017 bit 3 is set: meter 1 = channels 1, 3, 5.
    ASSERT_EQ(c.write(62017, 8), 1);
    EXPECT_NEAR(c.flt(8028), 3.6, 0.01);  // KW Total
    EXPECT_NEAR(c.scaled(7084, 7014), 3.6, 0.011);
    EXPECT_NEAR(c.flt(8280), 10.0, 0.02);  // Current Phase 1
    EXPECT_NEAR(c.flt(5168), 1.2, 0.005);  // 2PH meter 1 (1, 3) KW Phase 1
    ASSERT_EQ(c.write(62017, 0), 1);
    // Diagnostics and events.
    EXPECT_EQ(c.reg(531), 1);  // first power-up of this state directory
    EXPECT_EQ(c.reg(539), 0x1001);
    EXPECT_NE(c.reg(532) & 0x8000, 0);  // Model A bit
    // Panel 2 at the next address.
    Client c2(port, 2);
    EXPECT_NEAR(c2.flt(2254), 6.0, 0.02);
    EXPECT_NEAR(c2.flt(2086), v * 6.0 * 0.5 / 1000.0, 0.003);
    meter.stop();
}

TEST(ModbusTcp, WritesPersistAcrossARestartAndBadRequestsChangeNothing) {
    TempDir dir;
    const int port = free_tcp_port();
    {
        Meter meter(dir, config(port));
        Client c(port, 1);
        wait_for_metering();
        EXPECT_EQ(c.write(119 + 7, 35), 1);  // channel 8 breaker size
        const uint16_t loc[] = {('A' << 8) | 'B', ('C' << 8)};
        EXPECT_EQ(modbus_write_registers(c.raw(), 6, 2, loc), 2);
        // Refused writes: out of range, read-only, a hole, bad reset code; nothing changes.
        EXPECT_EQ(c.write(6, 7), -1);
        EXPECT_EQ(errno, EMBXILVAL);
        EXPECT_EQ(c.write(1, 1), -1);
        EXPECT_EQ(errno, EMBXILADD);
        EXPECT_EQ(c.write(544, 1), -1);
        EXPECT_EQ(errno, EMBXILADD);
        EXPECT_EQ(c.write(295, 4), -1);
        EXPECT_EQ(errno, EMBXILVAL);
        const uint16_t mixed[] = {20, 40000};  // second value out of range: neither is written
        EXPECT_EQ(modbus_write_registers(c.raw(), 164, 2, mixed), -1);
        EXPECT_EQ(errno, EMBXILVAL);
        EXPECT_EQ(c.reg(165), 10);
        uint16_t buf[2];
        EXPECT_EQ(modbus_read_registers(c.raw(), 543, 2, buf), -1);  // 544..545: into a hole
        EXPECT_EQ(errno, EMBXILADD);
        // An unsupported function.
        const uint8_t coils[] = {0x01, 0x01, 0x00, 0x00, 0x00, 0x08};
        uint8_t rsp[MODBUS_TCP_MAX_ADU_LENGTH];
        ASSERT_GT(modbus_send_raw_request(c.raw(), coils, sizeof coils), 0);
        ASSERT_EQ(modbus_receive_confirmation(c.raw(), rsp), 9);
        EXPECT_EQ(rsp[7], 0x81);  // exception to function 01
        EXPECT_EQ(rsp[8], 0x01);  // illegal function
        EXPECT_EQ(c.reg(6), 0);
        meter.stop();
    }
    Meter meter(dir, config(port));
    Client c(port, 1);
    EXPECT_EQ(c.reg(126), 35);
    EXPECT_EQ(c.reg(7), ('A' << 8) | 'B');
    EXPECT_EQ(c.reg(8), 'C' << 8);
    EXPECT_EQ(c.reg(531), 2);  // second power-up
    meter.stop();
}

TEST(ModbusTcp, ResetsDemandAndRtcThroughRegisters) {
    TempDir dir;
    const int port = free_tcp_port();
    Meter meter(dir, config(port, "\n[storage]\ncheckpoint_ms = 200\n"));
    Client c(port, 1);
    wait_for_metering();
    EXPECT_GT(c.flt(2000), 0.0);         // channel 1 kWh
    ASSERT_EQ(c.write(1126, 10203), 1);  // channel 1: clear kWh
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_LT(c.flt(2000), 0.0001);
    ASSERT_EQ(c.write(295, 26012), 1);  // begin a new demand sub-interval now
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_NEAR(c.flt(2504), 10.0, 0.05);  // channel 1 present current demand
    // The RTC: Modbus owns it here (RTC_Control = 1).
    const uint16_t when[] = {2026, 11, 24, 12, 0, 0};
    ASSERT_EQ(modbus_write_registers(c.raw(), 3250, 6, when), 6);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(c.reg(3257), 1);
    EXPECT_EQ(c.reg(3251), 2026);
    EXPECT_EQ(c.reg(3254), 12);
    meter.stop();
}

// Requests sent together are answered in order; a write among them is
// answered once the meter shows it, and the reads behind it see it.
TEST(ModbusTcp, PipelinedRequestsAreAnsweredInOrderAndReadsBehindAWriteSeeIt) {
    TempDir dir;
    const int port = free_tcp_port();
    Meter meter(dir, config(port));
    Client c(port, 1);
    wait_for_metering();
    const double before = c.flt(2014);  // channel 8's energy, float
    ASSERT_GT(before, 0.0);
    // Read 2014..2015, reset channel 8's energy (1133 = 10203), read again, twice.
    const std::vector<uint8_t> burst{
        0, 1, 0, 0, 0, 6, 1, 0x03, 0x07, 0xDD, 0,    2,     // read
        0, 2, 0, 0, 0, 6, 1, 0x06, 0x04, 0x6C, 0x27, 0xDB,  // write
        0, 3, 0, 0, 0, 6, 1, 0x03, 0x07, 0xDD, 0,    2,     // read
        0, 4, 0, 0, 0, 6, 1, 0x03, 0x07, 0xDD, 0,    2,     // read
    };
    const int fd = modbus_get_socket(c.raw());
    ASSERT_EQ(send(fd, burst.data(), burst.size(), 0), static_cast<ssize_t>(burst.size()));
    std::vector<uint8_t> in;
    const size_t want = 3 * 13 + 12;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (in.size() < want && std::chrono::steady_clock::now() < end) {
        uint8_t buf[256];
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EAGAIN) {  // libmodbus's socket does not block
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            continue;
        }
        if (n <= 0) break;
        in.insert(in.end(), buf, buf + n);
    }
    ASSERT_EQ(in.size(), want);
    auto energy = [&](size_t at) {
        return std::bit_cast<float>(static_cast<uint32_t>(in[at + 9]) << 24 |
                                    static_cast<uint32_t>(in[at + 10]) << 16 |
                                    static_cast<uint32_t>(in[at + 11]) << 8 | in[at + 12]);
    };
    EXPECT_EQ(in[1], 1);
    EXPECT_GE(energy(0), before);
    EXPECT_EQ(in[13 + 1], 2);
    EXPECT_EQ(std::vector<uint8_t>(in.begin() + 13 + 7, in.begin() + 13 + 12),
              (std::vector<uint8_t>{0x06, 0x04, 0x6C, 0x27, 0xDB}));
    EXPECT_EQ(in[25 + 1], 3);
    EXPECT_EQ(in[38 + 1], 4);
    // After the reset: what 1.3 kW meters in well under a second, not the energy before.
    EXPECT_LT(energy(25), before / 2);
    EXPECT_LT(energy(38), before / 2);
}

TEST(ModbusTcp, ManyMastersAtOnceAndFreshValues) {
    TempDir dir;
    const int port = free_tcp_port();
    Meter meter(dir, config(port, "", 0.002));
    wait_for_metering();
    std::atomic<int> ok{0}, failed{0};
    std::vector<std::thread> masters;
    masters.reserve(16);
    for (int m = 0; m < 16; ++m) {
        masters.emplace_back([&, m] {
            Client c(port, 1 + m % 2);
            uint16_t regs[125];
            for (int i = 0; i < 50; ++i) {
                if (modbus_read_registers(c.raw(), 1999, 125, regs) == 125)
                    ++ok;
                else
                    ++failed;
            }
        });
    }
    for (auto& t : masters)
        t.join();
    EXPECT_EQ(ok.load(), 16 * 50);
    EXPECT_EQ(failed.load(), 0);

    // A value computed in a window is readable at once: with CT noise on, channel 8's
    // current changes every window (200 ms); no gap between changes may exceed 250 ms.
    Client c(port, 1);
    float last = 0;
    auto last_change = std::chrono::steady_clock::now();
    double worst = 0;
    const auto end = last_change + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < end) {
        const auto f = static_cast<float>(c.flt(2266));
        const auto now = std::chrono::steady_clock::now();
        if (f != last) {
            worst = std::max(worst, std::chrono::duration<double>(now - last_change).count());
            last = f;
            last_change = now;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    RecordProperty("worst_gap_between_updates_ms", std::to_string(worst * 1000.0));
    EXPECT_LT(worst, 0.25);
    meter.stop();
}

TEST(ModbusTcp, AtTheCapTheLongestIdleMasterMakesRoom) {
    TempDir dir;
    const int port = free_tcp_port();
    Meter meter(dir, config(port, "", 0.0, "max_connections = 2\nidle_timeout = 1\n"));
    Client a(port, 1), b(port, 1);
    EXPECT_EQ(b.reg(5), 15172);
    EXPECT_EQ(a.reg(5), 15172);  // answered last: b is now the longest idle
    // A third master is served at the cap; the longest-idle one gave up its slot.
    Client c(port, 1);
    EXPECT_EQ(c.reg(5), 15172);
    uint16_t v = 0;
    EXPECT_EQ(modbus_read_registers(b.raw(), 4, 1, &v), -1);
    // The idle timeout counts answered requests only: frames the meter drops
    // (protocol id 1) do not keep a connection; a master that polls keeps it.
    const uint8_t not_modbus[] = {0, 1, 0, 1, 0, 6, 1, 3, 0, 4, 0, 1};
    for (int i = 0; i < 8; ++i) {
        (void)send(modbus_get_socket(a.raw()), not_modbus, sizeof not_modbus, MSG_NOSIGNAL);
        EXPECT_EQ(c.reg(5), 15172);
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    EXPECT_EQ(modbus_read_registers(a.raw(), 4, 1, &v), -1);
    EXPECT_EQ(c.reg(5), 15172);
    meter.stop();
}

TEST(ModbusRtu, OverAPseudoTerminalPair) {
    TempDir dir;
    const auto a = dir.path / "ttyMeter", b = dir.path / "ttyMaster";
    Process socat({"/usr/bin/socat", "pty,raw,echo=0,link=" + a.string(),
                   "pty,raw,echo=0,link=" + b.string()},
                  (dir.path / "socat.log").string());
    for (int i = 0; i < 100 && !(std::filesystem::exists(a) && std::filesystem::exists(b)); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(std::filesystem::exists(a));
    const int port = free_tcp_port();
    Meter meter(dir, config(port, "\n[serial]\ndevice = \"" + a.string() + "\"\nbaud = 19200\n"));
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));

    modbus_t* ctx = modbus_new_rtu(b.c_str(), 19200, 'E', 8, 1);
    ASSERT_NE(ctx, nullptr);
    ASSERT_EQ(modbus_connect(ctx), 0);
    modbus_set_response_timeout(ctx, 1, 0);
    modbus_set_slave(ctx, 1);
    uint16_t regs[10] = {};
    ASSERT_EQ(modbus_read_registers(ctx, 0, 5, regs), 5) << modbus_strerror(errno);
    EXPECT_EQ(regs[0], 0x4E3B);
    EXPECT_EQ(regs[4], 15172);
    ASSERT_EQ(modbus_read_registers(ctx, 2265, 2, regs), 2);
    EXPECT_NEAR(std::bit_cast<float>(static_cast<uint32_t>(regs[0]) << 16 | regs[1]), 12.5f, 0.02f);
    EXPECT_EQ(modbus_read_registers(ctx, 543, 1, regs), -1);
    EXPECT_EQ(errno, EMBXILADD);
    modbus_set_slave(ctx, 2);
    ASSERT_EQ(modbus_read_registers(ctx, 2253, 2, regs), 2);
    EXPECT_NEAR(std::bit_cast<float>(static_cast<uint32_t>(regs[0]) << 16 | regs[1]), 6.0f, 0.02f);
    // Another address on the bus: silence.
    modbus_set_slave(ctx, 7);
    EXPECT_EQ(modbus_read_registers(ctx, 0, 1, regs), -1);
    EXPECT_EQ(errno, ETIMEDOUT);
    // A broadcast write reaches both panels and is not answered.
    modbus_set_slave(ctx, MODBUS_BROADCAST_ADDRESS);
    // (libmodbus 3.1.6 waits for an answer to a broadcast and times out: the meter rightly gives
    // none.)
    const int broadcast = modbus_write_register(ctx, 70, 2);  // register 71: sub-intervals
    EXPECT_TRUE(broadcast == 1 || errno == ETIMEDOUT) << modbus_strerror(errno);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    modbus_set_slave(ctx, 2);
    ASSERT_EQ(modbus_read_registers(ctx, 70, 1, regs), 1);
    EXPECT_EQ(regs[0], 2);
    // A damaged frame is dropped; the next good one is answered.
    const uint8_t garbage[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00};
    ASSERT_EQ(write(modbus_get_socket(ctx), garbage, sizeof garbage),
              static_cast<ssize_t>(sizeof garbage));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    modbus_flush(ctx);
    modbus_set_slave(ctx, 1);
    EXPECT_EQ(modbus_read_registers(ctx, 0, 1, regs), 1);
    modbus_close(ctx);
    modbus_free(ctx);
    meter.stop();
}
