// The one write path's rules (points/write_plan.hpp): settings validated once
// on a trial copy, values between register steps refused, reset scopes and
// codes, latch-clear masks of the current and voltage status words, the
// power-up counter, RTC fields assembled and RTC_Control; every refusal
// leaves the plan empty (nothing to apply).
#include "points/write_plan.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace openbcpm;
using namespace openbcpm::points;

namespace {

const Point& point(const char* id) {
    const Point* p = Catalogue::instance().find(id);
    if (!p) throw std::logic_error(std::string("no point ") + id);
    return *p;
}

WriteItem item(const char* id, WriteValue v, double scale = 1.0, int panel = 1) {
    WriteItem i;
    i.point = &point(id);
    i.panel = panel;
    i.value = std::move(v);
    i.scale = scale;
    return i;
}

class PlanTest : public ::testing::Test {
  protected:
    PlanTest() {
        for (auto& p : snap.panel) {
            p.present = true;
            for (auto& c : p.channel)
                c.present = true;
        }
        snap.rtc = 1'795'516'200;  // 2026-11-24 10:30:00 UTC
    }
    PlanResult plan(std::vector<WriteItem> items, WriteSource source = WriteSource::Other) {
        request.source = source;
        request.items = std::move(items);
        return plan_writes(request, settings, snap, out);
    }
    MeterSnapshot snap;
    Settings settings;
    WriteRequest request;
    WritePlan out;
};

}  // namespace

TEST(WholeStep, OnlyWholeRegisterStepsAreValues) {
    EXPECT_EQ(whole_step(72.5, 0.1), 725);
    EXPECT_EQ(whole_step(static_cast<double>(72.5F), 0.1), 725);
    EXPECT_EQ(whole_step(static_cast<double>(70.1F), 0.1), 701);  // a REAL's rounding is fine
    EXPECT_EQ(whole_step(static_cast<double>(3276.7F), 0.1), 32767);
    EXPECT_FALSE(whole_step(72.55, 0.1));
    EXPECT_FALSE(whole_step(static_cast<double>(72.55F), 0.1));
    EXPECT_FALSE(whole_step(static_cast<double>(50.04F), 0.1));
    EXPECT_FALSE(whole_step(static_cast<double>(600.4F), 1.0));
    EXPECT_FALSE(whole_step(0.5, 1.0));
    EXPECT_FALSE(whole_step(std::nan(""), 1.0));
    EXPECT_FALSE(whole_step(1e300, 1.0));
    EXPECT_EQ(whole_step(-3.0, 1.0), -3);
}

TEST_F(PlanTest, ASettingIsValidatedByTheSettingsTable) {
    ASSERT_TRUE(plan({item("hh_threshold", int64_t{725})}).ok());
    ASSERT_EQ(out.settings.size(), 1u);
    EXPECT_EQ(out.settings[0].first->key, "panel.1.hh_threshold");
    EXPECT_EQ(out.trial.panel(1).hh_threshold, 725);
    EXPECT_EQ(settings.panel(1).hh_threshold, 700);  // the settings themselves are untouched
    EXPECT_TRUE(out.meter_commands());               // a metering setting goes to the meter

    const PlanResult r = plan({item("hh_threshold", int64_t{1001})});
    EXPECT_EQ(r.refusal, Refusal::OutOfRange);
    EXPECT_TRUE(out.empty());
}

TEST_F(PlanTest, AValueBetweenRegisterStepsIsRefusedNotRounded) {
    // BACnet AV102 (high-high threshold, %) at 0.1 % per register count.
    for (double v : {72.55, static_cast<double>(72.55F), static_cast<double>(50.04F)}) {
        const PlanResult r = plan({item("hh_threshold", v, 0.1)});
        EXPECT_EQ(r.refusal, Refusal::NotWholeStep) << v;
        EXPECT_NE(r.message.find("hh_threshold"), std::string::npos) << r.message;
        EXPECT_TRUE(out.empty());
    }
    // AV4 (CT size of channel 4, A), one ampere per count.
    EXPECT_EQ(plan({item("ch4.ct_size", static_cast<double>(600.4F))}).refusal,
              Refusal::NotWholeStep);
    EXPECT_TRUE(plan({item("hh_threshold", static_cast<double>(72.5F), 0.1)}).ok());
    EXPECT_EQ(out.trial.panel(1).hh_threshold, 725);
    EXPECT_TRUE(plan({item("ch4.ct_size", 600.0)}).ok());
    EXPECT_EQ(out.trial.panel(1).ct_size[3], 600);
}

TEST_F(PlanTest, ABatchIsJudgedInOrderAndRefusedWhole) {
    // sub-interval 7200 s is fine until the RTC interval bit comes in the same batch.
    auto sub = item("subinterval_seconds", int64_t{7200});
    auto user = item("user_defined", int64_t{user_bits::kRtcDemandInterval});
    EXPECT_TRUE(plan({sub}).ok());
    const PlanResult r = plan({sub, user});
    EXPECT_EQ(r.refusal, Refusal::Inconsistent);
    EXPECT_EQ(r.item, 1u);
    EXPECT_TRUE(out.empty());
    // A refusal after commands takes the commands back too.
    EXPECT_FALSE(plan({item("global_reset", int64_t{reset_codes::kClearEnergy}),
                       item("hh_threshold", int64_t{5000})})
                     .ok());
    EXPECT_TRUE(out.resets.empty());
}

TEST_F(PlanTest, TypesAndReadOnlyPoints) {
    EXPECT_EQ(plan({item("hh_threshold", std::string("7"))}).refusal, Refusal::WrongType);
    EXPECT_EQ(plan({item("location", int64_t{7})}).refusal, Refusal::WrongType);
    EXPECT_TRUE(plan({item("location", std::string("PDU#3"))}).ok());
    EXPECT_EQ(plan({item("location", std::string("bad\x01"))}).refusal, Refusal::Inconsistent);
    EXPECT_EQ(plan({item("ch1.current", int64_t{1})}).refusal, Refusal::NotWritable);
    EXPECT_EQ(plan({item("hh_threshold", int64_t{700}, 1.0, 3)}).refusal, Refusal::NotWritable);
    WriteItem by_key;
    by_key.setting = find_setting("gateway.modbus_address");
    by_key.value = int64_t{5};
    EXPECT_TRUE(plan({by_key}).ok());
    EXPECT_FALSE(out.meter_commands());  // a gateway setting: nothing for the meter
    by_key.value = 5.5;
    EXPECT_EQ(plan({by_key}).refusal, Refusal::NotWholeStep);
}

TEST_F(PlanTest, ResetCodesAndScopes) {
    using namespace reset_codes;
    ASSERT_TRUE(plan({item("global_reset", int64_t{kResetDemand})}).ok());
    ASSERT_EQ(out.resets.size(), 1u);
    EXPECT_EQ(out.resets[0].op, ResetOp::ResetDemand);
    EXPECT_EQ(out.resets[0].channels, ResetCommand::kAllChannels);
    EXPECT_EQ(plan({item("aux_reset", int64_t{kResetDemand})}).refusal, Refusal::OutOfRange);
    EXPECT_EQ(plan({item("global_reset", int64_t{12345})}).refusal, Refusal::OutOfRange);
    ASSERT_TRUE(plan({item("ch5.reset", int64_t{kClearEnergy})}).ok());
    ASSERT_EQ(out.resets.size(), 1u);
    EXPECT_EQ(out.resets[0].op, ResetOp::ClearEnergy);
    EXPECT_EQ(out.resets[0].channels, uint64_t{1} << 4);
    EXPECT_EQ(out.resets[0].panel, 1);
    EXPECT_EQ(plan({item("ch5.reset", 10203.5)}).refusal, Refusal::NotWholeStep);
}

TEST_F(PlanTest, LatchClearMasks) {
    // A 0 written to a latched bit clears it; the rest of the word is status.
    ASSERT_TRUE(plan({item("ch3.event_status", int64_t{0xFFFE})}).ok());
    ASSERT_EQ(out.latch_clears.size(), 1u);
    EXPECT_EQ(out.latch_clears[0].channel, 3);
    EXPECT_EQ(out.latch_clears[0].clear_bits, 0x0001);
    ASSERT_TRUE(plan({item("ch3.event_status", int64_t{0})}).ok());
    EXPECT_EQ(out.latch_clears[0].clear_bits, event_bits::kLatchingMask);
    ASSERT_TRUE(plan({item("ch3.event_status", int64_t{0xFFFF})}).ok());
    EXPECT_TRUE(out.latch_clears.empty());  // nothing to clear: taken, no command
    ASSERT_TRUE(plan({item("voltage_bc.event_status", int64_t{0})}).ok());
    ASSERT_EQ(out.latch_clears.size(), 1u);
    EXPECT_EQ(out.latch_clears[0].channel, kVoltageEventChannelBase + 2);
    EXPECT_EQ(out.latch_clears[0].clear_bits,
              event_bits::kVoltageHighLatching | event_bits::kVoltageLowLatching);
    EXPECT_EQ(plan({item("ch3.event_status", int64_t{0x10000})}).refusal, Refusal::OutOfRange);
}

TEST_F(PlanTest, PowerUpCounter) {
    ASSERT_TRUE(plan({item("power_up_counter", int64_t{32767})}).ok());
    ASSERT_EQ(out.power_up.size(), 1u);
    EXPECT_EQ(out.power_up[0], (std::pair<int, int>{1, 32767}));
    EXPECT_EQ(plan({item("power_up_counter", int64_t{32768})}).refusal, Refusal::OutOfRange);
    EXPECT_EQ(plan({item("power_up_counter", int64_t{-1})}).refusal, Refusal::OutOfRange);
}

TEST_F(PlanTest, RtcFieldsAreAssembledAndFollowRtcControl) {
    settings.gateway.rtc_control = 1;  // Modbus has the clock
    ASSERT_TRUE(plan({item("rtc.year", int64_t{2026}), item("rtc.month", int64_t{11}),
                      item("rtc.day", int64_t{24}), item("rtc.hour", int64_t{10}),
                      item("rtc.minute", int64_t{30}), item("rtc.second", int64_t{0})},
                     WriteSource::Modbus)
                    .ok());
    EXPECT_EQ(out.rtc, 1'795'516'200);
    // One field goes into the RTC as it is now.
    ASSERT_TRUE(plan({item("rtc.minute", int64_t{45})}, WriteSource::Modbus).ok());
    EXPECT_EQ(out.rtc, 1'795'516'200 + 15 * 60);
    EXPECT_EQ(
        plan({item("rtc.month", int64_t{2}), item("rtc.day", int64_t{31})}, WriteSource::Modbus)
            .refusal,
        Refusal::OutOfRange);  // 31 February is refused, not rolled over
    EXPECT_EQ(plan({item("rtc.hour", int64_t{24})}, WriteSource::Modbus).refusal,
              Refusal::OutOfRange);
    EXPECT_EQ(plan({item("rtc.hour", int64_t{5})}, WriteSource::Bacnet).refusal,
              Refusal::AccessDenied);
    settings.gateway.rtc_control = 0;  // BACnet has it
    EXPECT_EQ(plan({item("rtc.hour", int64_t{5})}, WriteSource::Modbus).refusal,
              Refusal::AccessDenied);
    EXPECT_TRUE(out.empty());
    ASSERT_TRUE(plan({item("rtc.hour", int64_t{5})}, WriteSource::Bacnet).ok());
    EXPECT_EQ(out.rtc, 1'795'516'200 - 5 * 3600);
}
