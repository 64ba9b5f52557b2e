// The over-threshold state machine on an accelerated clock: every level, delay,
// hysteresis, ON/OFF transition, clear and counter rollover.
#include "events/event_engine.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace openbcpm;

namespace {

constexpr double kStep = 0.2;  // s per evaluation, like a metering window

class Events : public ::testing::Test {
  protected:
    Events() {
        cfg.breaker_size.fill(20);  // thresholds in 0.1 % of 20 A: 700 -> 14 A
        present.fill(true);
    }
    // Holds channel 1 at `amps` for `seconds`.
    void hold(double amps, double seconds, int channel = 1) {
        const auto steps = static_cast<int>(std::ceil(seconds / kStep - 1e-9));
        for (int i = 0; i < steps; ++i) {
            currents[static_cast<size_t>(channel - 1)] = amps;
            now += kStep;
            engine.update(1, cfg, kStep, now, 0, currents, present, volts, volts_present, state);
        }
    }
    uint16_t status(int channel = 1) const {
        return state.status[static_cast<size_t>(channel - 1)];
    }
    uint16_t counter(LatchLevel l, int channel = 1) const {
        return state.counter[static_cast<size_t>(l)][static_cast<size_t>(channel - 1)];
    }

    EventEngine engine;
    EventConfig cfg;
    PanelEvents state;
    std::array<double, kChannelsPerPanel> currents{};
    std::array<bool, kChannelsPerPanel> present{};
    std::array<double, 3> volts{208.0, 208.0, 208.0};
    std::array<bool, 3> volts_present{true, true, true};
    double now = 0.0;
};

}  // namespace

TEST_F(Events, HighHighLatchesOnlyAfterOnTimeAndDelay) {
    // 15 A is 75 % of 20 A: over high-high (70 %) and high (60 %).
    hold(15.0, 9.8);  // ON time (10 s) not yet elapsed
    EXPECT_EQ(status() & event_bits::kLatchingMask, 0);
    hold(15.0, 0.2);  // ON declared at 10 s; the delays start now
    EXPECT_EQ(status() & event_bits::kHighHigh, 0);
    hold(15.0, 9.2);
    EXPECT_EQ(status() & event_bits::kHighHigh, 0);
    hold(15.0, 1.2);
    EXPECT_NE(status() & event_bits::kHighHigh, 0);
    EXPECT_NE(status() & event_bits::kHigh, 0);
    EXPECT_EQ(counter(LatchLevel::HighHigh), 1);
    EXPECT_EQ(state.global_counter[0], 1);
    EXPECT_EQ(state.recent_latching_channel, 1);
    EXPECT_NE(state.global_latching & event_bits::kHighHigh, 0);
    EXPECT_EQ(state.channels_latched, 1);
    // Latched: stays after the current drops back.
    hold(5.0, 5.0);
    EXPECT_NE(status() & event_bits::kHighHigh, 0);
    EXPECT_EQ(counter(LatchLevel::HighHigh), 1);  // counted once per latch
}

TEST_F(Events, ADipBelowTheThresholdRestartsTheDelay) {
    hold(5.0, 10.2);  // ON
    hold(15.0, 8.0);
    hold(5.0, 0.2);  // back to normal: "a return to a non-alarm state is instantaneous"
    hold(15.0, 8.0);
    EXPECT_EQ(status() & event_bits::kHighHigh, 0);
    hold(15.0, 2.2);
    EXPECT_NE(status() & event_bits::kHighHigh, 0);
}

TEST_F(Events, LowLevelsAndTheOffStateAfterATrip) {
    hold(5.0, 10.2);  // 25 %: ON
    hold(0.0, 10.2);  // breaker trip: below low (7.5 %) and low-low (2.5 %)
    EXPECT_NE(status() & event_bits::kLow, 0);
    EXPECT_NE(status() & event_bits::kLowLow, 0);
    EXPECT_EQ(status() & event_bits::kOff, 0);  // OFF time is 30 s
    hold(0.0, 20.0);
    EXPECT_NE(status() & event_bits::kOff, 0);
    EXPECT_EQ(counter(LatchLevel::Off), 1);
    EXPECT_EQ(counter(LatchLevel::Low), 1);
    EXPECT_EQ(counter(LatchLevel::LowLow), 1);
    EXPECT_EQ(state.global_counter[static_cast<size_t>(LatchLevel::Off)], 1);
}

TEST_F(Events, NoLatchingEventsBeforeOnState) {
    hold(0.0, 60.0);  // a channel that never ran: no low/low-low/off
    EXPECT_EQ(status() & event_bits::kLatchingMask, 0);
}

TEST_F(Events, NonLatchingLevelsFollowTheCurrentWithHysteresis) {
    present.fill(false);
    present[0] = true;
    cfg.nl_high = 600;       // 12 A
    cfg.nl_hysteresis = 50;  // clears under 11.4 A
    hold(12.2, 0.2);
    EXPECT_NE(status() & event_bits::kNonLatchingHigh, 0);
    EXPECT_NE(state.global_non_latching & event_bits::kGlobalNonLatchingHigh, 0);
    EXPECT_EQ(state.recent_non_latching_channel, 1);
    hold(11.6, 0.2);
    EXPECT_NE(status() & event_bits::kNonLatchingHigh, 0);  // inside the hysteresis band
    hold(11.3, 0.2);
    EXPECT_EQ(status() & event_bits::kNonLatchingHigh, 0);
    // Low: under 5 % (1 A), clears over 1.05 A.
    hold(0.9, 0.2);
    EXPECT_NE(status() & event_bits::kNonLatchingLow, 0);
    hold(1.04, 0.2);
    EXPECT_NE(status() & event_bits::kNonLatchingLow, 0);
    hold(1.06, 0.2);
    EXPECT_EQ(status() & event_bits::kNonLatchingLow, 0);
    EXPECT_EQ(state.channels_non_latched, 0);
    hold(0.5, 0.2);
    EXPECT_EQ(state.channels_non_latched, 1);
    EXPECT_NE(state.global_non_latching & event_bits::kGlobalNonLatchingLow, 0);
}

TEST_F(Events, IdleChannelsShowTheNonLatchingLowLevel) {
    hold(5.0, 0.2);  // channel 1 at 25 %; the 45 others read 0 A
    EXPECT_EQ(state.channels_non_latched, static_cast<uint16_t>(kChannelsPerPanel - 1));
    EXPECT_EQ(status(1) & event_bits::kNonLatchingMask, 0);
    EXPECT_NE(status(2) & event_bits::kNonLatchingLow, 0);
}

TEST_F(Events, ZeroBreakerSizeOrThresholdDisables) {
    cfg.breaker_size[0] = 0;
    hold(50.0, 30.0);
    EXPECT_EQ(status(), 0);
    cfg.breaker_size[0] = 20;
    cfg.hh = 0;  // high-high off for every channel
    hold(15.0, 25.0);
    EXPECT_EQ(status() & event_bits::kHighHigh, 0);
    EXPECT_NE(status() & event_bits::kHigh, 0);
}

TEST_F(Events, ClearingByWritingZeroAndByTheGlobalReset) {
    hold(15.0, 20.4);
    ASSERT_NE(status() & event_bits::kHighHigh, 0);
    ASSERT_NE(status() & event_bits::kHigh, 0);
    // A write of 0 to bit 0 only clears high-high; a 1 keeps high latched.
    const uint16_t written = event_bits::kHigh;
    engine.clear_latches(1, 1, static_cast<uint16_t>(~written), now, 0, state);
    EXPECT_EQ(status() & event_bits::kHighHigh, 0);
    EXPECT_NE(status() & event_bits::kHigh, 0);
    EXPECT_EQ(state.channels_latched, 1);
    engine.clear_all_latches(1, now, 0, state);  // 31010
    EXPECT_EQ(status() & event_bits::kLatchingMask, 0);
    EXPECT_EQ(state.global_latching, 0);
    EXPECT_EQ(state.channels_latched, 0);
    // Still over: latches again after the delay, and counts again.
    hold(15.0, 10.2);
    EXPECT_NE(status() & event_bits::kHighHigh, 0);
    EXPECT_EQ(counter(LatchLevel::HighHigh), 2);
}

TEST_F(Events, CountersRollOverToOne) {
    state.counter[0][0] = 32767;
    state.global_counter[0] = 32767;
    hold(15.0, 20.4);
    EXPECT_EQ(counter(LatchLevel::HighHigh), 1);
    EXPECT_EQ(state.global_counter[0], 1);
}

TEST_F(Events, VoltageEventsLatchAfterTheirTimerWithHysteresisOnTheNonLatchingBits) {
    cfg.over_voltage = 2200;   // 220.0 V
    cfg.under_voltage = 1900;  // 190.0 V
    cfg.over_voltage_timer = 5;
    cfg.under_voltage_timer = 5;
    cfg.voltage_hysteresis = 20;  // 2 %
    volts = {225.0, 208.0, 180.0};
    hold(5.0, 0.2);
    EXPECT_NE(state.voltage_status[0] & event_bits::kVoltageHighNonLatching, 0);
    EXPECT_NE(state.voltage_status[2] & event_bits::kVoltageLowNonLatching, 0);
    EXPECT_EQ(state.voltage_status[0] & event_bits::kVoltageHighLatching, 0);
    hold(5.0, 5.0);
    EXPECT_NE(state.voltage_status[0] & event_bits::kVoltageHighLatching, 0);
    EXPECT_NE(state.global_latching & event_bits::kGlobalHighVoltage, 0);
    EXPECT_NE(state.global_latching & event_bits::kGlobalLowVoltage, 0);
    volts = {217.0, 208.0, 208.0};  // inside 2 % of 220: the non-latching bit holds
    hold(5.0, 0.2);
    EXPECT_NE(state.voltage_status[0] & event_bits::kVoltageHighNonLatching, 0);
    volts = {214.0, 208.0, 208.0};
    hold(5.0, 0.2);
    EXPECT_EQ(state.voltage_status[0] & event_bits::kVoltageHighNonLatching, 0);
    EXPECT_NE(state.voltage_status[0] & event_bits::kVoltageHighLatching,
              0);  // latched until cleared
    engine.clear_latches(1, kVoltageEventChannelBase + 1, 0xFFFF, now, 0, state);
    EXPECT_EQ(state.voltage_status[0], 0);
}

TEST_F(Events, RecordsArePublishedForEveryChange) {
    hold(15.0, 20.4);
    size_t latched = 0;
    for (size_t i = 0; i < engine.record_count(); ++i) {
        const EventRecord& r = engine.records()[i];
        if (r.kind == EventKind::Latched && r.channel == 1) {
            ++latched;
            EXPECT_NEAR(r.value, 15.0, 1e-9);
        }
    }
    EXPECT_EQ(latched, 2u);  // high-high and high
}
