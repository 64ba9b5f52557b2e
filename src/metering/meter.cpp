#include "metering/meter.hpp"

#include <algorithm>
#include <cmath>

namespace openbcpm {

namespace {

double wrap_degrees(double d) {
    d = std::fmod(d, 360.0);
    if (d <= -180.0) d += 360.0;
    if (d > 180.0) d -= 360.0;
    return d;
}

bool odd_even(StripConfiguration c) {
    return c != StripConfiguration::Sequential;
}

// Members of legacy 2-phase meter m (1..21), from the point map's phasing tables.
std::array<int, 2> two_phase_members(StripConfiguration cfg, int m) {
    if (!odd_even(cfg)) return {2 * m - 1, 2 * m};
    if (m == kTwoPhaseMeters) return {41, 42};
    const int j = (m - 1) / 2;
    return (m % 2 == 1) ? std::array<int, 2>{4 * j + 1, 4 * j + 3}
                        : std::array<int, 2>{4 * j + 2, 4 * j + 4};
}

// Members of legacy 3-phase meter m (1..14).
std::array<int, 3> three_phase_members(StripConfiguration cfg, int m) {
    if (!odd_even(cfg)) return {3 * m - 2, 3 * m - 1, 3 * m};
    const int j = (m - 1) / 2;
    const int first = (m % 2 == 1) ? 6 * j + 1 : 6 * j + 2;
    return {first, first + 2, first + 4};
}

void clear_group_instantaneous_max(GroupReadings& g) {
    g.max_kw = 0.0;
    g.max_current = 0.0;
}
void clear_group_demand_max(GroupReadings& g) {
    g.max_kw_demand = 0.0;
    g.max_current_demand = 0.0;
}

template <class F>
void for_each_group(PanelReadings& p, F&& f) {
    for (auto& g : p.logical)
        f(g);
    for (auto& g : p.two_phase)
        f(g);
    for (auto& g : p.three_phase)
        f(g);
    f(p.mains);
}

}  // namespace

MeteringConfig metering_config(const Settings& s) {
    MeteringConfig m;
    m.panels = s.model.panels;
    m.channels_per_panel = s.model.channels_per_panel;
    m.strip_size = s.model.strip_size;
    for (int panel = 1; panel <= kMaxPanels; ++panel) {
        const PanelSettings& ps = s.panel(panel);
        PanelMeteringConfig& pc = m.panel[static_cast<size_t>(panel - 1)];
        pc.configuration = ps.configuration;
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            const auto i = static_cast<size_t>(c - 1);
            pc.phase[i] = c == kNeutralAuxChannel ? -1 : static_cast<int>(effective_phase(ps, c));
            pc.logical_circuit[i] = static_cast<uint8_t>(ps.logical_circuit[i]);
            pc.events.breaker_size[i] = ps.breaker_size[i];
        }
        pc.subintervals = ps.demand_subintervals;
        pc.subinterval_seconds = ps.subinterval_seconds;
        pc.relative_angles = (ps.user_defined & user_bits::kRelativePhaseAngles) != 0;
        pc.rtc_demand = (ps.user_defined & user_bits::kRtcDemandInterval) != 0;
        EventConfig& e = pc.events;
        e.hh_delay = ps.hh_delay;
        e.h_delay = ps.h_delay;
        e.l_delay = ps.l_delay;
        e.ll_delay = ps.ll_delay;
        e.on_time = ps.on_time;
        e.off_time = ps.off_time;
        e.hh = ps.hh_threshold;
        e.h = ps.h_threshold;
        e.l = ps.l_threshold;
        e.ll = ps.ll_threshold;
        e.nl_high = ps.nl_high_threshold;
        e.nl_low = ps.nl_low_threshold;
        e.nl_hysteresis = ps.nl_hysteresis;
        e.over_voltage_timer = ps.over_voltage_timer;
        e.under_voltage_timer = ps.under_voltage_timer;
        e.over_voltage = ps.over_voltage_threshold;
        e.under_voltage = ps.under_voltage_threshold;
        e.voltage_hysteresis = ps.voltage_hysteresis;
    }
    return m;
}

Meter::Meter(const ModelInfo& model, const MeteringConfig& config, double nominal_frequency)
    : model_(model), config_(config), window_(nominal_frequency) {
    for (int panel = 1; panel <= kMaxPanels; ++panel) {
        PanelReadings& p = state_.panel[static_cast<size_t>(panel - 1)];
        p.present = model_.has_panel(panel);
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            p.channel[static_cast<size_t>(c - 1)].present = p.present && model_.has_channel(c);
        }
        rebuild_groups(panel, false);
    }
    configure(config);
}

void Meter::configure(const MeteringConfig& config) {
    const MeteringConfig old = config_;
    config_ = config;
    for (int panel = 1; panel <= kMaxPanels; ++panel) {
        const auto pi = static_cast<size_t>(panel - 1);
        const PanelMeteringConfig& pc = config_.panel[pi];
        const PanelMeteringConfig& was = old.panel[pi];
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            const auto i = static_cast<size_t>(c - 1);
            window_.set_channel_phase(panel, c, pc.phase[i]);
            state_.panel[pi].channel[i].phase = pc.phase[i];
        }
        // A new demand definition starts demand afresh.
        if (pc.subintervals != was.subintervals ||
            pc.subinterval_seconds != was.subinterval_seconds || pc.rtc_demand != was.rtc_demand) {
            apply(ResetCommand{panel, ResetOp::ResetDemand, ResetCommand::kAllChannels});
        }
        rebuild_groups(panel, true);
        update_groups(panel, false);
    }
}

void Meter::rebuild_groups(int panel, bool reset_changed) {
    const auto pi = static_cast<size_t>(panel - 1);
    PanelReadings& p = state_.panel[pi];
    const PanelMeteringConfig& pc = config_.panel[pi];
    auto assign = [&](GroupReadings& g, std::span<const int> members) {
        std::array<int, 3> ch{};
        std::copy(members.begin(), members.end(), ch.begin());
        bool valid = p.present && !members.empty();
        for (int c : members)
            valid = valid && p.channel[static_cast<size_t>(c - 1)].present;
        const auto n = static_cast<int>(members.size());
        if (reset_changed && (g.members != n || g.channel != ch)) {
            clear_group_instantaneous_max(g);
            clear_group_demand_max(g);
        }
        g.members = n;
        g.channel = ch;
        g.valid = valid;
    };
    for (int lc = 1; lc <= kLogicalCircuits; ++lc) {
        std::array<int, 3> members{};
        size_t n = 0;
        bool too_many = false;
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            if (pc.logical_circuit[static_cast<size_t>(c - 1)] != lc) continue;
            if (n == members.size()) {
                too_many = true;
                break;
            }
            members[n++] = c;
        }
        std::span<const int> span(members.data(), n);
        assign(p.logical[static_cast<size_t>(lc - 1)], span);
        if (too_many ||
            (n > 0 && !can_form_logical_circuit(pc.configuration, config_.strip_size, span))) {
            p.logical[static_cast<size_t>(lc - 1)].valid = false;
        }
    }
    for (int m = 1; m <= kTwoPhaseMeters; ++m) {
        const auto members = two_phase_members(pc.configuration, m);
        assign(p.two_phase[static_cast<size_t>(m - 1)], members);
    }
    for (int m = 1; m <= kThreePhaseMeters; ++m) {
        const auto members = three_phase_members(pc.configuration, m);
        assign(p.three_phase[static_cast<size_t>(m - 1)], members);
    }
    const std::array<int, 3> mains{kFirstAuxChannel, kFirstAuxChannel + 1, kFirstAuxChannel + 2};
    assign(p.mains, mains);
}

void Meter::update(const WindowResult& w) {
    state_.sequence += 1;
    state_.time = w.start_time + w.duration;
    if (state_.rtc_set) state_.rtc = static_cast<int64_t>(std::floor(rtc_offset_ + state_.time));

    VoltageReadings& v = state_.voltage;
    double ln_sum = 0.0, ll_sum = 0.0;
    int ln_n = 0, ll_n = 0;
    for (size_t p = 0; p < 3; ++p) {
        v.present[p] = w.voltage_present[p];
        v.ln[p] = w.voltage[p];
        v.angle[p] = w.voltage_angle[p];
        if (v.present[p]) {
            ln_sum += v.ln[p];
            ++ln_n;
        }
    }
    for (size_t p = 0; p < 3; ++p) {
        const bool both = v.present[p] && v.present[(p + 1) % 3];
        v.ll[p] = both ? w.voltage_ll[p] : 0.0;
        if (both) {
            ll_sum += v.ll[p];
            ++ll_n;
        }
    }
    v.ln_average = ln_n ? ln_sum / ln_n : 0.0;
    v.ll_average = ll_n ? ll_sum / ll_n : 0.0;
    v.frequency = w.frequency_valid ? w.frequency : 0.0;
    v.frequency_valid = w.frequency_valid;

    for (int panel = 1; panel <= kMaxPanels; ++panel) {
        if (state_.panel[static_cast<size_t>(panel - 1)].present) update_panel(panel, w);
    }
}

void Meter::update_panel(int panel, const WindowResult& w) {
    const auto pi = static_cast<size_t>(panel - 1);
    PanelReadings& p = state_.panel[pi];
    const PanelMeteringConfig& pc = config_.panel[pi];
    PanelDemand& d = demand_[pi];
    const double dt = w.duration;

    std::array<double, kChannelsPerPanel> currents{};
    std::array<bool, kChannelsPerPanel> present{};
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        const auto i = static_cast<size_t>(c - 1);
        ChannelReadings& r = p.channel[i];
        present[i] = r.present;
        if (!r.present) continue;
        const ChannelWindow& cw = w.channel[pi][i];
        r.current = cw.current;
        r.kw = cw.power / 1000.0;
        r.kva = cw.apparent / 1000.0;
        r.pf = r.kva > 0.0 ? r.kw / r.kva : 0.0;
        r.has_angle = cw.has_angle;
        r.angle = 0.0;
        if (cw.has_angle) {
            r.angle = cw.angle;
            if (pc.relative_angles && r.phase >= 0) {
                r.angle = wrap_degrees(cw.angle - w.voltage_angle[static_cast<size_t>(r.phase)]);
            }
        }
        // Delivered energy: reverse flow is not counted (docs/metering.md).
        if (r.kw > 0.0) r.kwh += r.kw * dt / 3600.0;
        r.max_current = std::max(r.max_current, r.current);
        r.max_kw = std::max(r.max_kw, r.kw);
        currents[i] = r.current;
    }

    // Demand: accumulate this window, then see whether a sub-interval ended.
    bool demand_running = true;
    if (pc.rtc_demand && !state_.rtc_set) demand_running = false;
    bool closed = false;
    if (demand_running) {
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            const auto i = static_cast<size_t>(c - 1);
            d.channel[i].current_integral += p.channel[i].current * dt;
            d.channel[i].power_integral += p.channel[i].kw * dt;
        }
        d.elapsed += dt;
        if (pc.rtc_demand && pc.subinterval_seconds > 0) {
            const int64_t slot = state_.rtc / pc.subinterval_seconds;
            if (d.rtc_slot < 0) {
                d.rtc_slot = slot;
                d.discard_partial = true;
            } else if (slot != d.rtc_slot) {
                d.rtc_slot = slot;
                close_subinterval(panel, !d.discard_partial);
                d.discard_partial = false;
                closed = true;
            }
        } else if (pc.subinterval_seconds > 0 && d.elapsed >= pc.subinterval_seconds - 1e-6) {
            close_subinterval(panel, true);
            closed = true;
        }
    }
    p.subinterval_elapsed = d.elapsed;

    events_.update(panel, pc.events, dt, state_.time, state_.rtc_set ? state_.rtc : 0, currents,
                   present, state_.voltage.ll,
                   {state_.voltage.present[0] && state_.voltage.present[1],
                    state_.voltage.present[1] && state_.voltage.present[2],
                    state_.voltage.present[2] && state_.voltage.present[0]},
                   p.events);

    uint16_t health = health_bits::kBranchPowerModelA;
    if (!w.frequency_valid) health |= health_bits::kFrequencyOutOfRange;
    if (w.voltage_clipped[0]) health |= health_bits::kClippingA;
    if (w.voltage_clipped[1]) health |= health_bits::kClippingB;
    if (w.voltage_clipped[2]) health |= health_bits::kClippingC;
    if (w.current_clipped) health |= health_bits::kCurrentClipping;
    p.health = health;

    if (!closed) update_groups(panel, false);
}

void Meter::close_subinterval(int panel, bool keep) {
    const auto pi = static_cast<size_t>(panel - 1);
    PanelReadings& p = state_.panel[pi];
    PanelDemand& d = demand_[pi];
    const int n = std::clamp(config_.panel[pi].subintervals, 1, 6);
    if (keep && d.elapsed > 0.0) {
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            const auto i = static_cast<size_t>(c - 1);
            DemandState& ds = d.channel[i];
            ChannelReadings& r = p.channel[i];
            ds.current_ring[static_cast<size_t>(ds.next)] = ds.current_integral / d.elapsed;
            ds.power_ring[static_cast<size_t>(ds.next)] = ds.power_integral / d.elapsed;
            ds.next = (ds.next + 1) % n;
            ds.count = std::min(ds.count + 1, n);
            double i_sum = 0.0, p_sum = 0.0;
            for (int k = 0; k < ds.count; ++k) {
                i_sum += ds.current_ring[static_cast<size_t>(k)];
                p_sum += ds.power_ring[static_cast<size_t>(k)];
            }
            if (r.present) {
                r.current_demand = i_sum / ds.count;
                r.kw_demand = p_sum / ds.count;
                r.max_current_demand = std::max(r.max_current_demand, r.current_demand);
                r.max_kw_demand = std::max(r.max_kw_demand, r.kw_demand);
                r.kwh_snapshot = r.kwh;
            }
        }
        p.demand_updates += 1;
    }
    for (auto& ds : d.channel) {
        ds.current_integral = 0.0;
        ds.power_integral = 0.0;
    }
    d.elapsed = 0.0;
    update_groups(panel, keep);
}

void Meter::update_groups(int panel, bool demand_updated, bool track_maxima) {
    PanelReadings& p = state_.panel[static_cast<size_t>(panel - 1)];
    for_each_group(p, [&](GroupReadings& g) {
        if (!g.valid) {
            g.kw = g.kva = g.pf = g.current = g.kwh = g.kwh_snapshot = g.kw_demand =
                g.current_demand = 0.0;
            return;
        }
        double kw = 0, kva = 0, current = 0, kwh = 0, snap = 0, kw_demand = 0, current_demand = 0;
        for (int k = 0; k < g.members; ++k) {
            const ChannelReadings& r =
                p.channel[static_cast<size_t>(g.channel[static_cast<size_t>(k)] - 1)];
            kw += r.kw;
            kva += r.kva;
            current += r.current;
            kwh += r.kwh;
            snap += r.kwh_snapshot;
            kw_demand += r.kw_demand;
            current_demand += r.current_demand;
        }
        g.kw = kw;
        g.kva = kva;
        g.pf = kva > 0.0 ? kw / kva : 0.0;
        g.current = current / g.members;
        g.kwh = kwh;
        g.kwh_snapshot = snap;
        g.kw_demand = kw_demand;
        g.current_demand = current_demand / g.members;
        if (!track_maxima) return;
        g.max_kw = std::max(g.max_kw, g.kw);
        g.max_current = std::max(g.max_current, g.current);
        if (demand_updated) {
            g.max_kw_demand = std::max(g.max_kw_demand, g.kw_demand);
            g.max_current_demand = std::max(g.max_current_demand, g.current_demand);
        }
    });
}

void Meter::clear_group_maxima_touching(int panel, uint64_t channels, bool instantaneous,
                                        bool demand) {
    PanelReadings& p = state_.panel[static_cast<size_t>(panel - 1)];
    for_each_group(p, [&](GroupReadings& g) {
        bool touches = false;
        for (int k = 0; k < g.members; ++k) {
            touches = touches || (channels >> (g.channel[static_cast<size_t>(k)] - 1)) & 1u;
        }
        if (!touches) return;
        if (instantaneous) clear_group_instantaneous_max(g);
        if (demand) clear_group_demand_max(g);
    });
}

void Meter::apply(const ResetCommand& cmd) {
    const int first = cmd.panel == 0 ? 1 : cmd.panel;
    const int last = cmd.panel == 0 ? kMaxPanels : cmd.panel;
    for (int panel = first; panel <= last; ++panel) {
        if (panel < 1 || panel > kMaxPanels) continue;
        const auto pi = static_cast<size_t>(panel - 1);
        PanelReadings& p = state_.panel[pi];
        auto selected = [&](int c) { return (cmd.channels >> (c - 1)) & 1u; };
        switch (cmd.op) {
            case ResetOp::ClearEnergy:
                for (int c = 1; c <= kChannelsPerPanel; ++c) {
                    if (selected(c)) p.channel[static_cast<size_t>(c - 1)].kwh = 0.0;
                }
                break;
            case ResetOp::ClearMaxima:
                for (int c = 1; c <= kChannelsPerPanel; ++c) {
                    if (!selected(c)) continue;
                    p.channel[static_cast<size_t>(c - 1)].max_current = 0.0;
                    p.channel[static_cast<size_t>(c - 1)].max_kw = 0.0;
                }
                clear_group_maxima_touching(panel, cmd.channels, true, false);
                break;
            case ResetOp::ClearMaxDemand:
                for (int c = 1; c <= kChannelsPerPanel; ++c) {
                    if (!selected(c)) continue;
                    p.channel[static_cast<size_t>(c - 1)].max_current_demand = 0.0;
                    p.channel[static_cast<size_t>(c - 1)].max_kw_demand = 0.0;
                }
                clear_group_maxima_touching(panel, cmd.channels, false, true);
                break;
            case ResetOp::ResetDemand: {
                PanelDemand& d = demand_[pi];
                d.elapsed = 0.0;
                d.rtc_slot = -1;
                d.discard_partial = false;
                for (auto& ds : d.channel)
                    ds = DemandState{};
                for (auto& r : p.channel)
                    r.current_demand = r.kw_demand = 0.0;
                break;
            }
            case ResetOp::NewSubinterval:
                if (!(config_.panel[pi].rtc_demand && !state_.rtc_set))
                    close_subinterval(panel, true);
                break;
            case ResetOp::ClearLatches:
                if (cmd.channels == ResetCommand::kAllChannels) {
                    events_.clear_all_latches(panel, state_.time, state_.rtc_set ? state_.rtc : 0,
                                              p.events);
                } else {
                    for (int c = 1; c <= kChannelsPerPanel; ++c) {
                        if (selected(c)) {
                            events_.clear_latches(panel, c, event_bits::kLatchingMask, state_.time,
                                                  state_.rtc_set ? state_.rtc : 0, p.events);
                        }
                    }
                }
                break;
        }
        if (p.present) update_groups(panel, false, false);
    }
}

void Meter::apply(const LatchClearCommand& cmd) {
    if (cmd.panel < 1 || cmd.panel > kMaxPanels) return;
    PanelReadings& p = state_.panel[static_cast<size_t>(cmd.panel - 1)];
    // A 0 written to a latched bit clears it: clear_bits holds the zeros of the written value.
    events_.clear_latches(cmd.panel, cmd.channel, cmd.clear_bits, state_.time,
                          state_.rtc_set ? state_.rtc : 0, p.events);
}

void Meter::set_rtc(int64_t unix_seconds) {
    rtc_offset_ = static_cast<double>(unix_seconds) - state_.time;
    state_.rtc_set = true;
    state_.rtc = unix_seconds;
    for (auto& d : demand_) {
        d.rtc_slot = -1;
        d.discard_partial = false;
    }
}

void Meter::restore(const MeterSnapshot& saved) {
    for (int panel = 1; panel <= kMaxPanels; ++panel) {
        const auto pi = static_cast<size_t>(panel - 1);
        PanelReadings& p = state_.panel[pi];
        const PanelReadings& s = saved.panel[pi];
        if (!p.present) continue;
        for (size_t i = 0; i < kChannelsPerPanel; ++i) {
            ChannelReadings& r = p.channel[i];
            const ChannelReadings& o = s.channel[i];
            r.kwh = o.kwh;
            r.kwh_snapshot = o.kwh_snapshot;
            r.max_current = o.max_current;
            r.max_kw = o.max_kw;
            r.max_current_demand = o.max_current_demand;
            r.max_kw_demand = o.max_kw_demand;
        }
        auto copy_max = [](GroupReadings& g, const GroupReadings& o) {
            g.max_kw = o.max_kw;
            g.max_kw_demand = o.max_kw_demand;
            g.max_current = o.max_current;
            g.max_current_demand = o.max_current_demand;
        };
        for (size_t i = 0; i < p.logical.size(); ++i)
            copy_max(p.logical[i], s.logical[i]);
        for (size_t i = 0; i < p.two_phase.size(); ++i)
            copy_max(p.two_phase[i], s.two_phase[i]);
        for (size_t i = 0; i < p.three_phase.size(); ++i)
            copy_max(p.three_phase[i], s.three_phase[i]);
        copy_max(p.mains, s.mains);
        // Latched event bits, the global counters and the most recent channels are NV.
        for (size_t i = 0; i < kChannelsPerPanel; ++i) {
            p.events.status[i] = s.events.status[i] & event_bits::kLatchingMask;
        }
        for (size_t v = 0; v < 3; ++v) {
            p.events.voltage_status[v] =
                s.events.voltage_status[v] &
                (event_bits::kVoltageHighLatching | event_bits::kVoltageLowLatching);
        }
        p.events.global_counter = s.events.global_counter;
        p.events.recent_latching_channel = s.events.recent_latching_channel;
        p.events.recent_non_latching_channel = s.events.recent_non_latching_channel;
        events_.reset_volatile(panel);
        update_groups(panel, false);
    }
}

}  // namespace openbcpm
