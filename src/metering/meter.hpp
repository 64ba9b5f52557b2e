// The whole meter's computation: metering windows, then per channel and per
// multi-channel group the derived values (demand, maxima, energy, snapshots),
// and the over-threshold events. No I/O, no locks, no allocation per window.
#pragma once

#include <array>
#include <cstdint>

#include "core/settings.hpp"
#include "events/event_engine.hpp"
#include "metering/snapshot.hpp"
#include "metering/window_meter.hpp"
#include "sources/sample_source.hpp"

namespace openbcpm {

// What the meter needs of the settings, as plain data (settings own strings).
struct PanelMeteringConfig {
    StripConfiguration configuration = StripConfiguration::TopFeed;
    std::array<int, kChannelsPerPanel> phase{};                // voltage input, -1 none
    std::array<uint8_t, kChannelsPerPanel> logical_circuit{};  // 0 none
    int subintervals = 1;
    int subinterval_seconds = 900;  // 0 = sync to comms
    bool relative_angles = false;
    bool rtc_demand = false;
    EventConfig events{};
};

struct MeteringConfig {
    int panels = 2;
    int channels_per_panel = 42;
    int strip_size = 21;
    std::array<PanelMeteringConfig, kMaxPanels> panel{};
};

MeteringConfig metering_config(const Settings& settings);

enum class ResetOp : uint8_t {
    ClearEnergy,     // 10203
    ClearMaxima,     // 29877: max current and max kW
    ClearMaxDemand,  // 20097
    ResetDemand,     // 26013
    NewSubinterval,  // 26012
    ClearLatches,    // 31010 (channels: which latches); voltage latches too when channels == all
};

struct ResetCommand {
    int panel = 1;
    ResetOp op = ResetOp::ClearEnergy;
    uint64_t channels = kAllChannels;  // bit c-1 for channel c
    static constexpr uint64_t kAllChannels = (uint64_t{1} << kChannelsPerPanel) - 1;
};

// Clears individual latched event bits of one channel (a 0 written to its status bit).
struct LatchClearCommand {
    int panel = 1;
    int channel = 1;  // 1..46, or 47..49 for the L-L voltage status registers
    uint16_t clear_bits = 0;
};

class Meter {
  public:
    Meter(const ModelInfo& model, const MeteringConfig& config, double nominal_frequency);

    void configure(const MeteringConfig& config);
    void apply(const ResetCommand& command);
    void apply(const LatchClearCommand& command);
    // Sets the RTC: seconds since 1970 UTC at the present metered time.
    void set_rtc(int64_t unix_seconds);

    // Copies the non-volatile part of `saved` (energy, maxima, NV counters and
    // latches) into the live state. Call before the first block.
    void restore(const MeterSnapshot& saved);

    // Meters one block of samples; calls on_window(snapshot) after each window.
    template <class OnWindow>
    void process(const SampleBlock& block, OnWindow&& on_window) {
        window_.process(block, [&](const WindowResult& w) {
            update(w);
            on_window(static_cast<const MeterSnapshot&>(state_));
        });
    }

    const MeterSnapshot& snapshot() const { return state_; }
    const MeteringConfig& config() const { return config_; }
    EventEngine& events() { return events_; }

  private:
    struct DemandState {
        double current_integral = 0.0;  // A*s over the present sub-interval
        double power_integral = 0.0;    // kW*s
        std::array<double, 6> current_ring{};
        std::array<double, 6> power_ring{};
        int count = 0;  // sub-intervals in the ring
        int next = 0;
    };
    struct PanelDemand {
        double elapsed = 0.0;          // s in the present sub-interval
        bool discard_partial = false;  // the first RTC sub-interval starts mid-way
        int64_t rtc_slot = -1;         // RTC sub-interval number last seen
        std::array<DemandState, kChannelsPerPanel> channel{};
    };

    void update(const WindowResult& w);
    void update_panel(int panel, const WindowResult& w);
    void close_subinterval(int panel, bool keep);
    // Recomputes the groups from their members; track_maxima=false after a reset,
    // so cleared maxima read 0 until the next window as the channels' do.
    void update_groups(int panel, bool demand_updated, bool track_maxima = true);
    void rebuild_groups(int panel, bool reset_changed);
    void clear_group_maxima_touching(int panel, uint64_t channels, bool instantaneous, bool demand);

    ModelInfo model_;
    MeteringConfig config_;
    WindowMeter window_;
    EventEngine events_;
    MeterSnapshot state_{};
    std::array<PanelDemand, kMaxPanels> demand_{};
    double rtc_offset_ = 0.0;  // rtc = offset + metered time
};

}  // namespace openbcpm
