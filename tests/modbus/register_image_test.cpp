// The register image: every register reads as the map encodes it from the
// same state, pages are rendered once per state, and whatever changes the
// state (a snapshot, a write applied, a setting or counter changed through
// any face) is in the next read.
#include "protocols/modbus/register_image.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "device/device.hpp"
#include "model/fixed_model.hpp"
#include "protocols/modbus/handler.hpp"

using namespace openbcpm;
using namespace openbcpm::modbus;

namespace {

Config image_config() {
    return parse_config(R"(
[device]
channels = 84
[simulation]
voltage_noise = 0.0
current_noise = 0.0
[[simulation.load]]
panel = 1
channel = 5
amps = 12.5
pf = 0.85
)",
                        "image-test");
}

class RegisterImageTest : public ::testing::Test {
  protected:
    RegisterImageTest() : device(image_config(), std::nullopt), image(device) {
        device.run_inline(2.0);
    }

    std::vector<uint16_t> read(int panel, uint32_t reg, size_t n) {
        std::vector<uint8_t> bytes(2 * n);
        if (image.read(panel, reg, n, bytes.data()) != points::ModbusException::None) return {};
        std::vector<uint16_t> out(n);
        for (size_t i = 0; i < n; ++i)
            out[i] = static_cast<uint16_t>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
        return out;
    }
    // The map's own reading of the meter's state now.
    std::vector<uint16_t> expected(int panel, uint32_t reg, size_t n) {
        const points::Context ctx{device.snapshot(), device.settings(), panel,
                                  device.power_up_counter(panel)};
        std::vector<uint16_t> out(n);
        if (points::ModbusMap::instance().read(ctx, reg, n, out.data()) !=
            points::ModbusException::None)
            return {};
        return out;
    }

    Device device;
    RegisterImage image;
};

}  // namespace

TEST_F(RegisterImageTest, EveryRegisterReadsAsTheMapEncodesIt) {
    const auto& layout = points::ModbusMap::instance().layout();
    ASSERT_GT(layout.size(), 10000u);
    size_t compared = 0;
    for (int panel = 1; panel <= 2; ++panel) {
        for (const auto& [reg, slot] : layout) {
            const auto want = expected(panel, reg, 1);
            if (want.empty()) continue;  // the other variant's register (62017 bit 3)
            ASSERT_EQ(read(panel, reg, 1), want) << "panel " << panel << " register " << reg;
            ++compared;
        }
    }
    EXPECT_GT(compared, 2 * 10000u);
    // Whole reads across pages: the floats of the channels, the integers from 1.
    EXPECT_EQ(read(1, 2000, 125), expected(1, 2000, 125));
    EXPECT_EQ(read(2, 1, 125), expected(2, 1, 125));
}

TEST_F(RegisterImageTest, HolesAndTheEndOfTheMapAreRefused) {
    std::vector<uint8_t> out(250);
    EXPECT_EQ(image.read(1, 544, 1, out.data()), points::ModbusException::IllegalDataAddress);
    EXPECT_EQ(image.read(1, 540, 10, out.data()), points::ModbusException::IllegalDataAddress);
    EXPECT_EQ(image.read(1, 65535, 2, out.data()), points::ModbusException::IllegalDataAddress);
    EXPECT_EQ(image.read(1, 0, 1, out.data()), points::ModbusException::IllegalDataAddress);
    EXPECT_EQ(image.read(3, 1, 1, out.data()), points::ModbusException::IllegalDataAddress);
}

TEST_F(RegisterImageTest, PagesAreRenderedOncePerState) {
    const auto first = read(1, 2000, 125);
    const uint64_t generation = image.generation();
    const uint64_t pages = image.pages_rendered();
    EXPECT_GE(pages, 2u);
    for (int i = 0; i < 100; ++i)
        EXPECT_EQ(read(1, 2000, 125), first);
    EXPECT_EQ(image.generation(), generation);
    EXPECT_EQ(image.pages_rendered(), pages);  // a read is a copy
    // A new window: a new state, rendered again on the next read.
    device.run_inline(0.5);
    const auto second = read(1, 2000, 125);
    EXPECT_EQ(image.generation(), generation + 1);
    EXPECT_GT(image.pages_rendered(), pages);
    EXPECT_EQ(second, expected(1, 2000, 125));
}

TEST_F(RegisterImageTest, ASettingChangedElsewhereIsInTheNextRead) {
    // RTC_Control (3258), a gateway setting: no meter command, no new snapshot.
    EXPECT_EQ(read(1, 3258, 1), (std::vector<uint16_t>{0}));
    const uint64_t sequence = device.snapshot().sequence;
    ASSERT_TRUE(device.write_setting("gateway.rtc_control", int64_t{1}).ok());
    EXPECT_EQ(device.snapshot().sequence, sequence);
    EXPECT_EQ(read(1, 3258, 1), (std::vector<uint16_t>{1}));
    // The location (7..70), as another face would write it.
    ASSERT_TRUE(device.write_setting("panel.2.location", std::string("AB")).ok());
    EXPECT_EQ(read(2, 7, 2), (std::vector<uint16_t>{0x4142, 0}));
}

TEST_F(RegisterImageTest, WritesThroughTheHandlerAreInTheNextRead) {
    Handler handler(device);
    auto ask = [&](std::vector<uint8_t> pdu) {
        auto r = handler.handle(1, pdu, Transport::Tcp);
        return r ? *r : std::vector<uint8_t>{};
    };
    // Channel 5's energy (float at 2008..2009) is not 0, then reset (1130 = 10203).
    const auto before = read(1, 2008, 2);
    ASSERT_EQ(before.size(), 2u);
    EXPECT_NE(before, (std::vector<uint16_t>{0, 0}));
    EXPECT_EQ(ask({0x06, 0x04, 0x69, 0x27, 0xDB}),
              (std::vector<uint8_t>{0x06, 0x04, 0x69, 0x27, 0xDB}));
    EXPECT_EQ(read(1, 2008, 2), (std::vector<uint16_t>{0, 0}));
    // The power-up counter (531): a counter, no meter command.
    EXPECT_EQ(ask({0x06, 0x02, 0x12, 0x00, 77}),
              (std::vector<uint8_t>{0x06, 0x02, 0x12, 0x00, 77}));
    EXPECT_EQ(read(1, 531, 1), (std::vector<uint16_t>{77}));
    // And the handler's own reads agree with the image and the map.
    const auto r = ask({0x03, 0x07, 0xD7, 0x00, 2});
    EXPECT_EQ(r, (std::vector<uint8_t>{0x03, 4, 0, 0, 0, 0}));
    EXPECT_EQ(expected(1, 2008, 2), (std::vector<uint16_t>{0, 0}));
}

// A model that completes every write at once (every ticket applied, as the
// fuzz targets' FixedModel says) is read like any other: one state, rendered once.
TEST(RegisterImageFixedModel, AModelThatAppliesEveryTicketIsReadOnce) {
    FixedModel model(default_config());
    RegisterImage image(model);
    std::vector<uint8_t> out(250);
    ASSERT_EQ(image.read(1, 2000, 125, out.data()), points::ModbusException::None);
    const uint64_t pages = image.pages_rendered();
    ASSERT_EQ(image.read(1, 2000, 125, out.data()), points::ModbusException::None);
    EXPECT_EQ(image.generation(), 1u);
    EXPECT_EQ(image.pages_rendered(), pages);
    // A setting written through it is in the next read (3258, RTC_Control).
    ASSERT_TRUE(model.write_setting("gateway.rtc_control", int64_t{1}).ok());
    ASSERT_EQ(image.read(1, 3258, 1, out.data()), points::ModbusException::None);
    EXPECT_EQ(out[1], 1);
    EXPECT_EQ(image.generation(), 2u);
}
