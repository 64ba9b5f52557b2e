// The over-threshold event engine of the point map: four latching levels with
// delays behind an ON state, the OFF declaration, two non-latching levels with
// hysteresis, L-L voltage events, counters. Runs once per metering window.
#pragma once

#include <array>
#include <cstdint>

#include "core/device_model.hpp"
#include "events/event_state.hpp"

namespace openbcpm {

struct EventConfig {
    std::array<int, kChannelsPerPanel> breaker_size{};  // A; 0 disables the channel
    // Delays in seconds (regs 165..170).
    int hh_delay = 10, h_delay = 10, l_delay = 10, ll_delay = 10, on_time = 10, off_time = 30;
    // Thresholds in 0.1 % of breaker size (regs 171..177); 0 disables a level.
    int hh = 700, h = 600, l = 75, ll = 25, nl_high = 600, nl_low = 50, nl_hysteresis = 50;
    // L-L voltage events (regs 236..240): thresholds in 0.1 V, hysteresis 0.1 %.
    int over_voltage_timer = 10, under_voltage_timer = 10;
    int over_voltage = 0, under_voltage = 0, voltage_hysteresis = 50;
};

enum class EventKind : uint8_t {
    Latched,         // a latching level (or OFF) latched
    LatchCleared,    // a latched bit was cleared by a write or reset
    NonLatchingOn,   // a non-latching level became active
    NonLatchingOff,  // ... and inactive again
};

// One change of event state, published to storage, BACnet and SNMP.
struct EventRecord {
    double time = 0.0;  // metered seconds since start
    int64_t rtc = 0;    // RTC seconds since 1970 (or 0 when not set)
    uint8_t panel = 1;
    uint8_t channel = 0;  // 1..46; 47..49 = L-L voltage A-B, B-C, C-A
    EventKind kind = EventKind::Latched;
    uint16_t bit = 0;        // the status bit concerned (event_bits)
    double value = 0.0;      // A (channels) or V (voltages) at the change
    double threshold = 0.0;  // A or V of the level crossed (0 for clears)
};

inline constexpr uint8_t kVoltageEventChannelBase = kChannelsPerPanel;  // 47 = A-B

class EventEngine {
  public:
    static constexpr size_t kMaxRecordsPerWindow = 512;

    // Evaluates one window for a panel. currents: A per channel (index c-1);
    // present: which channels exist; ll_volts: A-B, B-C, C-A.
    void update(int panel, const EventConfig& cfg, double dt, double now, int64_t rtc,
                const std::array<double, kChannelsPerPanel>& currents,
                const std::array<bool, kChannelsPerPanel>& present,
                const std::array<double, 3>& ll_volts, const std::array<bool, 3>& ll_present,
                PanelEvents& state);

    // A 0 written to latched bits clears them; non-latching bits ignore writes.
    void clear_latches(int panel, int channel, uint16_t bits, double now, int64_t rtc,
                       PanelEvents& state);
    void clear_all_latches(int panel, double now, int64_t rtc, PanelEvents& state);
    // Per-channel counters and timers start from zero (power-up).
    void reset_volatile(int panel);

    // Records produced since the last drain (bounded; oldest kept, overflow counted).
    const EventRecord* records() const { return records_.data(); }
    size_t record_count() const { return record_count_; }
    uint64_t dropped() const { return dropped_; }
    void drain() { record_count_ = 0; }

  private:
    struct ChannelTimers {
        bool on_state = false;
        double on_timer = 0.0;
        double off_timer = 0.0;
        std::array<double, 4> level_timer{};  // HH, H, L, LL
    };
    struct VoltageTimers {
        double over = 0.0, under = 0.0;
    };
    void emit(const EventRecord& r);
    void count_latch(PanelEvents& state, int channel, LatchLevel level);
    static void refresh_globals(PanelEvents& state);

    std::array<std::array<ChannelTimers, kChannelsPerPanel>, kMaxPanels> timers_{};
    std::array<std::array<VoltageTimers, 3>, kMaxPanels> voltage_timers_{};
    std::array<EventRecord, kMaxRecordsPerWindow> records_{};
    size_t record_count_ = 0;
    uint64_t dropped_ = 0;
};

}  // namespace openbcpm
