// The Modbus application against a real Device (metered inline, no threads):
// addressing of the two panels, reads, writes through validation, resets,
// device identification.
#include "protocols/modbus/handler.hpp"

#include <gtest/gtest.h>

#include <bit>

#include "device/device.hpp"

using namespace openbcpm;
using namespace openbcpm::modbus;

namespace {

Config test_config() {
    return parse_config(R"(
[device]
channels = 84
[panel.1]
location = "RPP-1A"
[simulation]
voltage_noise = 0.0
current_noise = 0.0
[[simulation.load]]
panel = 1
channel = 5
amps = 12.5
pf = 0.85
[[simulation.load]]
panel = 2
channel = 1
amps = 4.0
)",
                        "handler-test");
}

class HandlerTest : public ::testing::Test {
  protected:
    HandlerTest() : device(test_config(), std::nullopt), handler(device) { device.run_inline(2.0); }

    std::vector<uint8_t> ask(uint8_t unit, std::vector<uint8_t> pdu, Transport t = Transport::Tcp) {
        auto r = handler.handle(unit, pdu, t);
        return r ? *r : std::vector<uint8_t>{};
    }
    std::vector<uint16_t> read(uint8_t unit, uint16_t reg, uint16_t n) {
        const uint16_t a = static_cast<uint16_t>(reg - 1);
        const auto r = ask(unit, {0x03, static_cast<uint8_t>(a >> 8), static_cast<uint8_t>(a), 0,
                                  static_cast<uint8_t>(n)});
        std::vector<uint16_t> out;
        if (r.size() < 2 || r[0] != 0x03) return out;
        for (size_t i = 0; i < n; ++i)
            out.push_back(static_cast<uint16_t>(r[2 + 2 * i] << 8 | r[3 + 2 * i]));
        return out;
    }
    std::vector<uint8_t> write1(uint8_t unit, uint16_t reg, uint16_t v) {
        const uint16_t a = static_cast<uint16_t>(reg - 1);
        return ask(unit, {0x06, static_cast<uint8_t>(a >> 8), static_cast<uint8_t>(a),
                          static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)});
    }

    Device device;
    Handler handler;
};

}  // namespace

TEST_F(HandlerTest, PanelsAnswerAtModbusAddressAndTheNext) {
    EXPECT_EQ(handler.panel_of(1), 1);
    EXPECT_EQ(handler.panel_of(2), 2);
    EXPECT_EQ(handler.panel_of(3), 0);
    // Channel 5 current (float 2260) on panel 1, channel 1 current on panel 2.
    auto f = read(1, 2260, 2);
    ASSERT_EQ(f.size(), 2u);
    EXPECT_NEAR(std::bit_cast<float>(static_cast<uint32_t>(f[0]) << 16 | f[1]), 12.5f, 0.02f);
    f = read(2, 2252, 2);
    ASSERT_EQ(f.size(), 2u);
    EXPECT_NEAR(std::bit_cast<float>(static_cast<uint32_t>(f[0]) << 16 | f[1]), 4.0f, 0.02f);
    // Over TCP another unit is a gateway target that does not answer; over RTU, silence.
    EXPECT_EQ(ask(9, {0x03, 0, 0, 0, 1}), (std::vector<uint8_t>{0x83, 0x0B}));
    EXPECT_TRUE(ask(9, {0x03, 0, 0, 0, 1}, Transport::Rtu).empty());
}

TEST_F(HandlerTest, ExceptionsAsTheSpecificationSays) {
    EXPECT_EQ(ask(1, {0x01, 0, 0, 0, 1}),
              (std::vector<uint8_t>{0x81, 0x01}));  // unsupported function
    EXPECT_EQ(ask(1, {0x03, 0x02, 0x1F, 0, 1}), (std::vector<uint8_t>{0x83, 0x02}));  // 544: a hole
    EXPECT_EQ(ask(1, {0x03, 0, 0, 0, 126}), (std::vector<uint8_t>{0x83, 0x03}));      // quantity
    EXPECT_EQ(write1(1, 6, 9), (std::vector<uint8_t>{0x86, 0x03}));        // out of range
    EXPECT_EQ(write1(1, 1, 9), (std::vector<uint8_t>{0x86, 0x02}));        // read-only
    EXPECT_EQ(write1(1, 3251, 2026), (std::vector<uint8_t>{0x86, 0x04}));  // RTC owned by BACnet
    EXPECT_EQ(device.settings().panel(1).configuration, StripConfiguration::TopFeed);
}

TEST_F(HandlerTest, WritesChangeSettingsAndEchoTheRequest) {
    EXPECT_EQ(write1(1, 119 + 4, 30), (std::vector<uint8_t>{0x06, 0x00, 122, 0x00, 30}));
    EXPECT_EQ(device.settings().panel(1).breaker_size[4], 30);
    EXPECT_EQ(read(1, 123, 1), (std::vector<uint16_t>{30}));
    EXPECT_EQ(device.settings().panel(2).breaker_size[4], 20);  // the other panel is untouched
    // FC16 of a location string.
    const auto r = ask(1, {0x10, 0x00, 0x06, 0x00, 0x03, 0x06, 'P', 'D', 'U', '#', '3', 0});
    EXPECT_EQ(r, (std::vector<uint8_t>{0x10, 0x00, 0x06, 0x00, 0x03}));
    EXPECT_EQ(device.settings().panel(1).location, "PDU#3");
}

TEST_F(HandlerTest, BroadcastWritesReachEveryPanelAndAreNotAnswered) {
    EXPECT_TRUE(ask(0, {0x06, 0x00, 71 - 1, 0x00, 4}).empty());
    EXPECT_EQ(device.settings().panel(1).demand_subintervals, 4);
    EXPECT_EQ(device.settings().panel(2).demand_subintervals, 4);
    EXPECT_TRUE(ask(0, {0x03, 0, 0, 0, 1}).empty());
}

TEST_F(HandlerTest, ResetsReachTheMeter) {
    ASSERT_GT(device.snapshot().panel[0].channel[4].kwh, 0.0);
    EXPECT_EQ(write1(1, 1130, 10203),
              (std::vector<uint8_t>{0x06, 0x04, 0x69, 0x27, 0xDB}));  // channel 5 reset
    EXPECT_EQ(device.snapshot().panel[0].channel[4].kwh, 0.0);
    EXPECT_EQ(write1(1, 295, 1), (std::vector<uint8_t>{0x86, 0x03}));
}

TEST_F(HandlerTest, ReportServerIdCarriesModelSerialAndLocation) {
    const auto r = ask(1, {0x11});
    ASSERT_GE(r.size(), 4u);
    EXPECT_EQ(r[0], 0x11);
    EXPECT_EQ(r[3], 0xFF);
    const std::string text(r.begin() + 4, r.end());
    EXPECT_EQ(
        text,
        "Schneider Electric BCPME84 Branch Circuit Monitor, S/N=0x4E3B73CB, Location=\"RPP-1A\"");
    EXPECT_EQ(r[1], r.size() - 2);
}

TEST_F(HandlerTest, ReadDeviceIdentification) {
    auto r = ask(1, {0x2B, 0x0E, 0x01, 0x00});
    ASSERT_GT(r.size(), 7u);
    EXPECT_EQ(r[6], 3);  // basic: vendor, product code, revision
    EXPECT_EQ(std::string(r.begin() + 9, r.begin() + 9 + r[8]), "Schneider Electric");
    r = ask(1, {0x2B, 0x0E, 0x04, 0x81});  // one extended object: the location
    ASSERT_GT(r.size(), 7u);
    EXPECT_EQ(std::string(r.begin() + 9, r.end()), "RPP-1A");
    EXPECT_EQ(ask(1, {0x2B, 0x0E, 0x04, 0x42}), (std::vector<uint8_t>{0xAB, 0x02}));
}
