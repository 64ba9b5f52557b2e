// Encoding of the register map (scales, 32-bit and float words, invalid
// channels, text) and the checks a write passes before it is applied.
#include "points/modbus_map.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>

using namespace openbcpm;
using namespace openbcpm::points;

namespace {

class MapTest : public ::testing::Test {
  protected:
    MapTest() {
        for (auto& p : snap.panel) {
            p.present = true;
            for (auto& c : p.channel)
                c.present = true;
        }
    }
    std::vector<uint16_t> read(uint32_t reg, size_t n, int panel = 1) {
        std::vector<uint16_t> out(n);
        last = ModbusMap::instance().read(Context{snap, settings, panel, 7}, reg, n, out.data());
        return out;
    }
    ModbusException plan(uint32_t reg, std::vector<uint16_t> values) {
        return ModbusMap::instance().plan_write(Context{snap, settings, 1, 7}, reg, values,
                                                planned);
    }
    MeterSnapshot snap;
    Settings settings;
    ModbusException last = ModbusException::None;
    WritePlan planned;
};

float as_float(uint16_t msw, uint16_t lsw) {
    return std::bit_cast<float>(static_cast<uint32_t>(msw) << 16 | lsw);
}

}  // namespace

TEST_F(MapTest, IdentityAndSetupRegisters) {
    const auto r = read(1, 6);
    EXPECT_EQ(last, ModbusException::None);
    EXPECT_EQ(r[0], 0x4E3B);
    EXPECT_EQ(r[1], 0x73CB);
    EXPECT_EQ(r[4], 15172);
    EXPECT_EQ(r[5], 0);  // top feed
    EXPECT_EQ(read(73, 1)[0], 100);
    EXPECT_EQ(read(115, 1)[0], 200);
    EXPECT_EQ(read(171, 1)[0], 700);  // the register value; scale -1 makes it 70.0 %
    EXPECT_EQ(read(531, 1)[0], 7);    // power-up counter from the context
}

TEST_F(MapTest, LocationIsPackedAsciiFirstCharacterInTheMsb) {
    settings.panel(1).location = "PDU#3";
    const auto r = read(7, 4);
    EXPECT_EQ(r[0], 0x5044);  // "PD"
    EXPECT_EQ(r[1], 0x5523);  // "U#"
    EXPECT_EQ(r[2], 0x3300);  // "3" + terminator
    EXPECT_EQ(r[3], 0x0000);
}

TEST_F(MapTest, IntegersUseTheirScaleRegisters) {
    auto& c5 = snap.panel[0].channel[4];
    c5.current = 12.345;
    c5.kw = 1.2749;
    c5.pf = 0.85;
    c5.kwh = 1234.5678;
    // Current scale of a 100 A CT: -2, so 12.345 A reads 1235 (rounded) ... 1234.5 -> 1235.
    EXPECT_EQ(static_cast<int16_t>(read(1004, 1)[0]), -2);
    EXPECT_EQ(read(1340, 1)[0], 1235);
    EXPECT_EQ(static_cast<int16_t>(read(1046, 1)[0]), -2);
    EXPECT_EQ(read(1256, 1)[0], 127);
    EXPECT_EQ(read(1298, 1)[0], 850);  // PF, fixed -3
    const int e = static_cast<int16_t>(read(1088, 1)[0]);
    const auto kwh = read(1176, 2);
    const double value =
        static_cast<double>(static_cast<int32_t>(kwh[0] << 16 | kwh[1])) * std::pow(10.0, e);
    EXPECT_NEAR(value, 1234.5678, std::pow(10.0, e));
    // Floats: IEEE-754, most significant word first.
    const auto f = read(2260, 2);  // channel 5 current float
    EXPECT_FLOAT_EQ(as_float(f[0], f[1]), 12.345f);
    // Larger CTs coarsen the scale.
    settings.panel(1).ct_size[4] = 2000;
    EXPECT_EQ(static_cast<int16_t>(read(1004, 1)[0]), -1);  // 2400 A fits at 0.1 A
    EXPECT_EQ(read(1340, 1)[0], 123);
}

TEST_F(MapTest, NegativeValuesAreTwosComplement) {
    snap.panel[0].channel[0].kw = -0.5;
    EXPECT_EQ(static_cast<int16_t>(read(1252, 1)[0]), -50);
    snap.panel[0].channel[0].angle = -31.79;
    EXPECT_EQ(static_cast<int16_t>(read(3004, 1)[0]), -318);
}

TEST_F(MapTest, ChannelsTheModelLacksReadInvalid) {
    settings.model = *ModelInfo::from_channels(24);
    snap.panel[0].channel[30].present = false;  // channel 31
    const auto r = read(1366, 1);               // channel 31 current
    EXPECT_EQ(r[0], kInvalidInteger);
    const auto f = read(2312, 2);
    EXPECT_EQ((static_cast<uint32_t>(f[0]) << 16) | f[1], kInvalidFloat);
    const auto kwh = read(1228, 2);  // channel 31 kWh: both words invalid
    EXPECT_EQ(kwh[0], kInvalidInteger);
    EXPECT_EQ(kwh[1], kInvalidInteger);
}

// The mains by phase (3501..3518, floats 3601..3624): aux 1..3's energy,
// snapshot, kW demand and max kW demand, at the scales of their totals' phases,
// summing to the totals of 254, 3385, 277; aux 4 has none.
TEST_F(MapTest, MainsByPhaseExtensionRegisters) {
    PanelReadings& p = snap.panel[0];
    const double kwh[] = {123.456, 78.9, 0.5};
    const double snapshot[] = {120.0, 77.0, 0.25};
    const double demand[] = {12.34, 5.5, 0.07};
    const double max_demand[] = {20.0, 6.25, 1.0};
    GroupReadings& m = p.mains;
    m.valid = true;
    m.members = 3;
    m.channel = {43, 44, 45};
    for (size_t i = 0; i < 3; ++i) {
        ChannelReadings& c = p.channel[42 + i];
        c.kwh = kwh[i];
        c.kwh_snapshot = snapshot[i];
        c.kw_demand = demand[i];
        c.max_kw_demand = max_demand[i];
        m.kwh += kwh[i];
        m.kwh_snapshot += snapshot[i];
        m.kw_demand += demand[i];
    }
    // Aux CTs are 200 A: energy scale (291) -2, phase power scales (288..290) -2.
    EXPECT_EQ(static_cast<int16_t>(read(291, 1)[0]), -2);
    EXPECT_EQ(static_cast<int16_t>(read(288, 1)[0]), -2);
    const auto r = read(3501, 18);
    ASSERT_EQ(last, ModbusException::None);
    auto int32_at = [&](size_t i) {
        return static_cast<int32_t>(static_cast<uint32_t>(r[i]) << 16 | r[i + 1]);
    };
    const auto total = read(254, 2);
    const auto total_kwh = static_cast<int32_t>(static_cast<uint32_t>(total[0]) << 16 | total[1]);
    EXPECT_EQ(int32_at(0), 12346);
    EXPECT_EQ(int32_at(2), 7890);
    EXPECT_EQ(int32_at(4), 50);
    EXPECT_NEAR(int32_at(0) + int32_at(2) + int32_at(4), total_kwh, 1);
    EXPECT_EQ(int32_at(6), 12000);
    EXPECT_EQ(int32_at(8), 7700);
    EXPECT_EQ(int32_at(10), 25);
    const auto snap_total = read(3385, 2);
    EXPECT_EQ(int32_at(6) + int32_at(8) + int32_at(10),
              static_cast<int32_t>(static_cast<uint32_t>(snap_total[0]) << 16 | snap_total[1]));
    EXPECT_EQ(r[12], 1234);
    EXPECT_EQ(r[13], 550);
    EXPECT_EQ(r[14], 7);
    EXPECT_NEAR(r[12] + r[13] + r[14], read(277, 1)[0], 1);
    EXPECT_EQ(r[15], 2000);
    EXPECT_EQ(r[16], 625);
    EXPECT_EQ(r[17], 100);
    const auto f = read(3601, 24);
    ASSERT_EQ(last, ModbusException::None);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_FLOAT_EQ(as_float(f[2 * i], f[2 * i + 1]), static_cast<float>(kwh[i]));
        EXPECT_FLOAT_EQ(as_float(f[6 + 2 * i], f[7 + 2 * i]), static_cast<float>(snapshot[i]));
        EXPECT_FLOAT_EQ(as_float(f[12 + 2 * i], f[13 + 2 * i]), static_cast<float>(demand[i]));
        EXPECT_FLOAT_EQ(as_float(f[18 + 2 * i], f[19 + 2 * i]), static_cast<float>(max_demand[i]));
    }
    // Nothing for aux 4 (the neutral has no power) and nothing around the block.
    for (uint32_t hole : {3500U, 3519U, 3600U, 3625U}) {
        read(hole, 1);
        EXPECT_EQ(last, ModbusException::IllegalDataAddress) << hole;
    }
    // A model without the aux channel reads invalid, as every other register.
    p.channel[43].present = false;
    EXPECT_EQ(read(3503, 2)[0], kInvalidInteger);
    EXPECT_EQ(read(3514, 1)[0], kInvalidInteger);
}

TEST_F(MapTest, HolesAreIllegalAddresses) {
    read(544, 1);
    EXPECT_EQ(last, ModbusException::IllegalDataAddress);
    read(540, 10);  // runs from 543 into the hole at 544
    EXPECT_EQ(last, ModbusException::IllegalDataAddress);
    read(0, 1);
    EXPECT_EQ(last, ModbusException::IllegalDataAddress);
    read(535, 9);  // 535..543 all in the map
    EXPECT_EQ(last, ModbusException::None);
}

TEST_F(MapTest, The4000RegionFollows62017Bit3) {
    // Default (bit 3 clear): logical circuits by measurement type.
    snap.panel[0].logical[0].valid = true;
    snap.panel[0].logical[0].members = 3;
    snap.panel[0].logical[0].kw = 4.2;
    EXPECT_EQ(read(4000 + 5 * 46 + 92, 1)[0], 420);  // lc1 kW, power scale -2
    settings.panel(1).user_defined = user_bits::kLegacyMultiPhaseMap;
    snap.panel[0].two_phase[0].valid = true;
    snap.panel[0].two_phase[0].members = 2;
    snap.panel[0].two_phase[0].kw = 1.5;
    EXPECT_EQ(read(4126, 1)[0], 150);  // 2PH meter 1 KW Total
}

TEST_F(MapTest, WritesAreValidatedBeforeAnythingIsApplied) {
    EXPECT_EQ(plan(6, {3}), ModbusException::None);
    ASSERT_EQ(planned.settings.size(), 1u);
    EXPECT_EQ(planned.settings[0].first->key, "panel.1.configuration");
    EXPECT_EQ(plan(6, {4}), ModbusException::IllegalDataValue);
    EXPECT_TRUE(planned.empty());
    EXPECT_EQ(plan(1, {1}), ModbusException::IllegalDataAddress);     // read-only
    EXPECT_EQ(plan(2000, {1}), ModbusException::IllegalDataAddress);  // floats are read-only
    EXPECT_EQ(plan(544, {1}), ModbusException::IllegalDataAddress);   // hole
    // A multi-register write is all or nothing: the bad second value refuses the first too.
    EXPECT_EQ(plan(165, {20, 40000}), ModbusException::IllegalDataValue);
    EXPECT_TRUE(planned.empty());
    EXPECT_EQ(plan(165, {20, 30, 10}), ModbusException::None);
    EXPECT_EQ(planned.settings.size(), 3u);
}

TEST_F(MapTest, ResetCodesAreCheckedPerRegister) {
    EXPECT_EQ(plan(295, {26013}), ModbusException::None);
    EXPECT_EQ(plan(295, {12345}), ModbusException::IllegalDataValue);
    EXPECT_EQ(plan(294, {26013}), ModbusException::IllegalDataValue);  // aux: kWh and max only
    EXPECT_EQ(plan(1126, {10203}), ModbusException::None);
    ASSERT_EQ(planned.resets.size(), 1u);
    EXPECT_EQ(planned.resets[0].op, ResetOp::ClearEnergy);
    EXPECT_EQ(planned.resets[0].channels, 1u);  // channel 1
    EXPECT_EQ(read(295, 1)[0], 0);              // write-only registers read 0
}

TEST_F(MapTest, LocationWritesAndLatchClears) {
    EXPECT_EQ(plan(7, {0x5044, 0x5523, 0x3300}), ModbusException::None);
    ASSERT_EQ(planned.settings.size(), 1u);
    EXPECT_EQ(std::get<std::string>(planned.settings[0].second), "PDU#3");
    EXPECT_EQ(plan(7, {0x5001}), ModbusException::IllegalDataValue);  // control character
    EXPECT_EQ(plan(178, {0xFFFE}), ModbusException::None);
    ASSERT_EQ(planned.latch_clears.size(), 1u);
    EXPECT_EQ(planned.latch_clears[0].channel, 1);
    EXPECT_EQ(planned.latch_clears[0].clear_bits, 0x0001);  // only bit 0 was written 0
}

TEST_F(MapTest, RtcWritesNeedRtcControlModbusAndAValidDate) {
    EXPECT_EQ(plan(3251, {2026, 11, 24, 10, 30, 0}), ModbusException::ServerDeviceFailure);
    settings.gateway.rtc_control = 1;
    EXPECT_EQ(plan(3251, {2026, 11, 24, 10, 30, 0}), ModbusException::None);
    EXPECT_EQ(planned.rtc, 1795516200);
    EXPECT_EQ(plan(3251, {2026, 2, 31, 10, 30, 0}), ModbusException::IllegalDataValue);
    EXPECT_EQ(plan(3254, {24}), ModbusException::IllegalDataValue);
}

TEST_F(MapTest, LogicalCircuitAssignmentsKeepTheAdjacencyRule) {
    EXPECT_EQ(plan(3203, {1}), ModbusException::None);              // channel 3 -> circuit 1
    EXPECT_EQ(plan(3209, {1}), ModbusException::IllegalDataValue);  // channel 9 cannot join 1
    // In one write, later registers see the earlier ones: 3 then 5 into circuit 1.
    EXPECT_EQ(plan(3203, {1, 0, 1}), ModbusException::None);
}
