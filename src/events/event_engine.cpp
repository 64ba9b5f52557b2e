#include "events/event_engine.hpp"

#include <algorithm>

namespace openbcpm {

namespace {
constexpr uint16_t kCounterMax = 32767;

constexpr std::array<uint16_t, 4> kLevelBits{event_bits::kHighHigh, event_bits::kHigh,
                                             event_bits::kLow, event_bits::kLowLow};

// Timers add up window lengths; a hair of tolerance keeps 50 x 0.2 s equal to 10 s.
constexpr double kTimerSlack = 1e-6;
bool elapsed(double timer, int delay) {
    return timer + kTimerSlack >= delay;
}

uint16_t bump(uint16_t c) {
    return c >= kCounterMax ? uint16_t{1} : static_cast<uint16_t>(c + 1);
}
}  // namespace

void EventEngine::emit(const EventRecord& r) {
    if (record_count_ < records_.size()) {
        records_[record_count_++] = r;
    } else {
        ++dropped_;
    }
}

void EventEngine::count_latch(PanelEvents& state, int channel, LatchLevel level) {
    const auto l = static_cast<size_t>(level);
    auto& c = state.counter[l][static_cast<size_t>(channel - 1)];
    c = bump(c);
    state.global_counter[l] = bump(state.global_counter[l]);
    state.recent_latching_channel = static_cast<uint16_t>(channel);
}

void EventEngine::refresh_globals(PanelEvents& state) {
    uint16_t latching = 0, non_latching = 0, n_latched = 0, n_non_latched = 0;
    for (uint16_t s : state.status) {
        latching |= s & event_bits::kLatchingMask;
        if (s & event_bits::kNonLatchingHigh) non_latching |= event_bits::kGlobalNonLatchingHigh;
        if (s & event_bits::kNonLatchingLow) non_latching |= event_bits::kGlobalNonLatchingLow;
        if (s & event_bits::kLatchingMask) ++n_latched;
        if (s & event_bits::kNonLatchingMask) ++n_non_latched;
    }
    for (uint16_t v : state.voltage_status) {
        if (v & event_bits::kVoltageHighLatching) latching |= event_bits::kGlobalHighVoltage;
        if (v & event_bits::kVoltageLowLatching) latching |= event_bits::kGlobalLowVoltage;
        if (v & event_bits::kVoltageHighNonLatching)
            non_latching |= event_bits::kGlobalNonLatchingHighVoltage;
        if (v & event_bits::kVoltageLowNonLatching)
            non_latching |= event_bits::kGlobalNonLatchingLowVoltage;
    }
    state.global_latching = latching;
    state.global_non_latching = non_latching;
    state.channels_latched = n_latched;
    state.channels_non_latched = n_non_latched;
}

void EventEngine::update(int panel, const EventConfig& cfg, double dt, double now, int64_t rtc,
                         const std::array<double, kChannelsPerPanel>& currents,
                         const std::array<bool, kChannelsPerPanel>& present,
                         const std::array<double, 3>& ll_volts,
                         const std::array<bool, 3>& ll_present, PanelEvents& state) {
    auto& timers = timers_[static_cast<size_t>(panel - 1)];
    const std::array<int, 4> thresholds{cfg.hh, cfg.h, cfg.l, cfg.ll};
    const std::array<int, 4> delays{cfg.hh_delay, cfg.h_delay, cfg.l_delay, cfg.ll_delay};

    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        const auto i = static_cast<size_t>(c - 1);
        ChannelTimers& t = timers[i];
        uint16_t& status = state.status[i];
        const int breaker = cfg.breaker_size[i];
        if (!present[i] || breaker <= 0) {
            // Disabled: no new events; latched bits wait for their clear.
            t = ChannelTimers{};
            if (status & event_bits::kNonLatchingMask) {
                status &= static_cast<uint16_t>(~event_bits::kNonLatchingMask);
            }
            continue;
        }
        const double amps = currents[i];
        // Thresholds are in tenths of a percent of the breaker size.
        const double per_mille = amps / breaker * 1000.0;
        auto threshold_amps = [&](int level) { return level * breaker / 1000.0; };
        auto make = [&](EventKind kind, uint16_t bit, double threshold) {
            EventRecord r;
            r.time = now;
            r.rtc = rtc;
            r.panel = static_cast<uint8_t>(panel);
            r.channel = static_cast<uint8_t>(c);
            r.kind = kind;
            r.bit = bit;
            r.value = amps;
            r.threshold = threshold;
            return r;
        };

        // ON state: the current stays above Low-Low for the ON time.
        const bool above_ll = per_mille > cfg.ll;
        if (!t.on_state) {
            t.on_timer = above_ll ? t.on_timer + dt : 0.0;
            if (above_ll && elapsed(t.on_timer, cfg.on_time)) {
                t.on_state = true;
                t.off_timer = 0.0;
                t.level_timer = {};
            }
        }
        if (t.on_state) {
            for (size_t lvl = 0; lvl < 4; ++lvl) {
                const int th = thresholds[lvl];
                const bool high = lvl < 2;
                const bool beyond = th > 0 && (high ? per_mille > th : per_mille < th);
                t.level_timer[lvl] = beyond ? t.level_timer[lvl] + dt : 0.0;
                if (beyond && elapsed(t.level_timer[lvl], delays[lvl]) &&
                    !(status & kLevelBits[lvl])) {
                    status |= kLevelBits[lvl];
                    count_latch(state, c, static_cast<LatchLevel>(lvl));
                    emit(make(EventKind::Latched, kLevelBits[lvl], threshold_amps(th)));
                }
            }
            // OFF: below Low-Low for the OFF time after ON was declared.
            const bool below_ll = cfg.ll > 0 && per_mille < cfg.ll;
            t.off_timer = below_ll ? t.off_timer + dt : 0.0;
            if (below_ll && elapsed(t.off_timer, cfg.off_time)) {
                if (!(status & event_bits::kOff)) {
                    status |= event_bits::kOff;
                    count_latch(state, c, LatchLevel::Off);
                    emit(make(EventKind::Latched, event_bits::kOff, threshold_amps(cfg.ll)));
                }
                t.on_state = false;
                t.on_timer = 0.0;
                t.off_timer = 0.0;
                t.level_timer = {};
            }
        }

        // Non-latching levels follow the current, with hysteresis on the way back.
        const double hyst = cfg.nl_hysteresis / 1000.0;
        if (cfg.nl_high > 0) {
            const bool active = status & event_bits::kNonLatchingHigh;
            if (!active && per_mille > cfg.nl_high) {
                status |= event_bits::kNonLatchingHigh;
                state.recent_non_latching_channel = static_cast<uint16_t>(c);
                emit(make(EventKind::NonLatchingOn, event_bits::kNonLatchingHigh,
                          threshold_amps(cfg.nl_high)));
            } else if (active && per_mille < cfg.nl_high * (1.0 - hyst)) {
                status &= static_cast<uint16_t>(~event_bits::kNonLatchingHigh);
                emit(make(EventKind::NonLatchingOff, event_bits::kNonLatchingHigh,
                          threshold_amps(cfg.nl_high)));
            }
        } else if (status & event_bits::kNonLatchingHigh) {
            status &= static_cast<uint16_t>(~event_bits::kNonLatchingHigh);
            emit(make(EventKind::NonLatchingOff, event_bits::kNonLatchingHigh, 0.0));
        }
        if (cfg.nl_low > 0) {
            const bool active = status & event_bits::kNonLatchingLow;
            if (!active && per_mille < cfg.nl_low) {
                status |= event_bits::kNonLatchingLow;
                state.recent_non_latching_channel = static_cast<uint16_t>(c);
                emit(make(EventKind::NonLatchingOn, event_bits::kNonLatchingLow,
                          threshold_amps(cfg.nl_low)));
            } else if (active && per_mille > cfg.nl_low * (1.0 + hyst)) {
                status &= static_cast<uint16_t>(~event_bits::kNonLatchingLow);
                emit(make(EventKind::NonLatchingOff, event_bits::kNonLatchingLow,
                          threshold_amps(cfg.nl_low)));
            }
        } else if (status & event_bits::kNonLatchingLow) {
            status &= static_cast<uint16_t>(~event_bits::kNonLatchingLow);
            emit(make(EventKind::NonLatchingOff, event_bits::kNonLatchingLow, 0.0));
        }
    }

    // L-L voltages: thresholds in 0.1 V, a timer to latch, hysteresis for the non-latching bits.
    auto& vt = voltage_timers_[static_cast<size_t>(panel - 1)];
    const double over = cfg.over_voltage / 10.0;
    const double under = cfg.under_voltage / 10.0;
    const double vhyst = cfg.voltage_hysteresis / 1000.0;
    for (size_t p = 0; p < 3; ++p) {
        uint16_t& status = state.voltage_status[p];
        const double v = ll_volts[p];
        auto make = [&](EventKind kind, uint16_t bit, double threshold) {
            EventRecord r;
            r.time = now;
            r.rtc = rtc;
            r.panel = static_cast<uint8_t>(panel);
            r.channel = static_cast<uint8_t>(kVoltageEventChannelBase + 1 + p);
            r.kind = kind;
            r.bit = bit;
            r.value = v;
            r.threshold = threshold;
            return r;
        };
        if (!ll_present[p]) {
            vt[p] = VoltageTimers{};
            status &= static_cast<uint16_t>(
                ~(event_bits::kVoltageHighNonLatching | event_bits::kVoltageLowNonLatching));
            continue;
        }
        const bool is_over = over > 0.0 && v > over;
        const bool is_under = under > 0.0 && v < under;
        vt[p].over = is_over ? vt[p].over + dt : 0.0;
        vt[p].under = is_under ? vt[p].under + dt : 0.0;
        if (is_over && elapsed(vt[p].over, cfg.over_voltage_timer) &&
            !(status & event_bits::kVoltageHighLatching)) {
            status |= event_bits::kVoltageHighLatching;
            emit(make(EventKind::Latched, event_bits::kVoltageHighLatching, over));
        }
        if (is_under && elapsed(vt[p].under, cfg.under_voltage_timer) &&
            !(status & event_bits::kVoltageLowLatching)) {
            status |= event_bits::kVoltageLowLatching;
            emit(make(EventKind::Latched, event_bits::kVoltageLowLatching, under));
        }
        const bool nl_high = status & event_bits::kVoltageHighNonLatching;
        if (over > 0.0 && !nl_high && v > over) {
            status |= event_bits::kVoltageHighNonLatching;
            emit(make(EventKind::NonLatchingOn, event_bits::kVoltageHighNonLatching, over));
        } else if (nl_high && (over <= 0.0 || v < over * (1.0 - vhyst))) {
            status &= static_cast<uint16_t>(~event_bits::kVoltageHighNonLatching);
            emit(make(EventKind::NonLatchingOff, event_bits::kVoltageHighNonLatching, over));
        }
        const bool nl_low = status & event_bits::kVoltageLowNonLatching;
        if (under > 0.0 && !nl_low && v < under) {
            status |= event_bits::kVoltageLowNonLatching;
            emit(make(EventKind::NonLatchingOn, event_bits::kVoltageLowNonLatching, under));
        } else if (nl_low && (under <= 0.0 || v > under * (1.0 + vhyst))) {
            status &= static_cast<uint16_t>(~event_bits::kVoltageLowNonLatching);
            emit(make(EventKind::NonLatchingOff, event_bits::kVoltageLowNonLatching, under));
        }
    }
    refresh_globals(state);
}

void EventEngine::clear_latches(int panel, int channel, uint16_t bits, double now, int64_t rtc,
                                PanelEvents& state) {
    uint16_t* status = nullptr;
    uint16_t latch_mask = event_bits::kLatchingMask;
    if (channel >= 1 && channel <= kChannelsPerPanel) {
        status = &state.status[static_cast<size_t>(channel - 1)];
    } else if (channel > kVoltageEventChannelBase && channel <= kVoltageEventChannelBase + 3) {
        status = &state.voltage_status[static_cast<size_t>(channel - kVoltageEventChannelBase - 1)];
        latch_mask = event_bits::kVoltageHighLatching | event_bits::kVoltageLowLatching;
    }
    if (!status) return;
    const uint16_t cleared = *status & bits & latch_mask;
    if (!cleared) return;
    *status &= static_cast<uint16_t>(~cleared);
    for (uint16_t bit = 1; bit != 0 && bit <= latch_mask; bit = static_cast<uint16_t>(bit << 1)) {
        if (!(cleared & bit)) continue;
        EventRecord r;
        r.time = now;
        r.rtc = rtc;
        r.panel = static_cast<uint8_t>(panel);
        r.channel = static_cast<uint8_t>(channel);
        r.kind = EventKind::LatchCleared;
        r.bit = bit;
        emit(r);
    }
    refresh_globals(state);
}

void EventEngine::clear_all_latches(int panel, double now, int64_t rtc, PanelEvents& state) {
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        clear_latches(panel, c, event_bits::kLatchingMask, now, rtc, state);
    }
    for (int p = 1; p <= 3; ++p) {
        clear_latches(panel, kVoltageEventChannelBase + p,
                      event_bits::kVoltageHighLatching | event_bits::kVoltageLowLatching, now, rtc,
                      state);
    }
    refresh_globals(state);
}

void EventEngine::reset_volatile(int panel) {
    timers_[static_cast<size_t>(panel - 1)] = {};
    voltage_timers_[static_cast<size_t>(panel - 1)] = {};
}

}  // namespace openbcpm
