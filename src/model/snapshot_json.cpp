#include "model/snapshot_json.hpp"

namespace openbcpm {

namespace {

nlohmann::json group_json(const GroupReadings& g) {
    nlohmann::json j;
    j["channels"] = std::vector<int>(g.channel.begin(), g.channel.begin() + g.members);
    j["valid"] = g.valid;
    j["kw"] = g.kw;
    j["kva"] = g.kva;
    j["pf"] = g.pf;
    j["current"] = g.current;
    j["kwh"] = g.kwh;
    j["kwh_snapshot"] = g.kwh_snapshot;
    j["kw_demand"] = g.kw_demand;
    j["current_demand"] = g.current_demand;
    j["max_kw"] = g.max_kw;
    j["max_kw_demand"] = g.max_kw_demand;
    j["max_current"] = g.max_current;
    j["max_current_demand"] = g.max_current_demand;
    return j;
}

}  // namespace

std::string_view event_kind_name(EventKind kind) {
    switch (kind) {
        case EventKind::Latched:
            return "latched";
        case EventKind::LatchCleared:
            return "cleared";
        case EventKind::NonLatchingOn:
            return "active";
        case EventKind::NonLatchingOff:
            return "inactive";
    }
    return "latched";
}

std::string event_bit_name(uint8_t channel, uint16_t bit) {
    if (channel > kVoltageEventChannelBase) {
        switch (bit) {
            case event_bits::kVoltageHighLatching:
                return "over-voltage (latching)";
            case event_bits::kVoltageLowLatching:
                return "under-voltage (latching)";
            case event_bits::kVoltageHighNonLatching:
                return "over-voltage";
            case event_bits::kVoltageLowNonLatching:
                return "under-voltage";
            default:
                return "voltage";
        }
    }
    switch (bit) {
        case event_bits::kHighHigh:
            return "high-high";
        case event_bits::kHigh:
            return "high";
        case event_bits::kLow:
            return "low";
        case event_bits::kLowLow:
            return "low-low";
        case event_bits::kOff:
            return "off";
        case event_bits::kNonLatchingHigh:
            return "non-latching high";
        case event_bits::kNonLatchingLow:
            return "non-latching low";
        default:
            return "unknown";
    }
}

nlohmann::json event_json(const EventRecord& r) {
    nlohmann::json j;
    j["time"] = r.time;
    j["rtc"] = r.rtc;
    j["panel"] = r.panel;
    if (r.channel > kVoltageEventChannelBase) {
        static const char* pairs[] = {"ab", "bc", "ca"};
        j["voltage"] = pairs[(r.channel - kVoltageEventChannelBase - 1) % 3];
    } else {
        j["channel"] = r.channel;
    }
    j["kind"] = event_kind_name(r.kind);
    j["level"] = event_bit_name(r.channel, r.bit);
    j["bit"] = r.bit;
    j["value"] = r.value;
    j["threshold"] = r.threshold;
    return j;
}

nlohmann::json snapshot_json(const MeterSnapshot& s, const Settings& settings) {
    nlohmann::json root;
    root["model"] = settings.model.model_name();
    root["time"] = s.time;
    root["windows"] = s.sequence;
    root["rtc_set"] = s.rtc_set;
    root["rtc"] = s.rtc;
    nlohmann::json panels = nlohmann::json::array();
    for (int p = 1; p <= settings.model.panels; ++p) {
        const PanelReadings& pr = s.panel[static_cast<size_t>(p - 1)];
        const PanelSettings& ps = settings.panel(p);
        nlohmann::json pj;
        pj["panel"] = p;
        pj["location"] = ps.location;
        pj["configuration"] = to_string(ps.configuration);
        const VoltageReadings& v = s.voltage;
        pj["voltage"] = {{"an", v.ln[0]},
                         {"bn", v.ln[1]},
                         {"cn", v.ln[2]},
                         {"ln_average", v.ln_average},
                         {"ab", v.ll[0]},
                         {"bc", v.ll[1]},
                         {"ca", v.ll[2]},
                         {"ll_average", v.ll_average},
                         {"frequency", v.frequency},
                         {"angle_a", v.angle[0]},
                         {"angle_b", v.angle[1]},
                         {"angle_c", v.angle[2]}};
        pj["health"] = pr.health;
        pj["demand_updates"] = pr.demand_updates;
        nlohmann::json channels = nlohmann::json::array();
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            const ChannelReadings& r = pr.channel[static_cast<size_t>(c - 1)];
            if (!r.present) continue;
            nlohmann::json cj;
            cj["channel"] = c;
            cj["aux"] = is_aux_channel(c);
            cj["phase"] = r.phase >= 0 ? std::string(1, kPhaseLetters[static_cast<size_t>(r.phase)])
                                       : std::string("N");
            cj["current"] = r.current;
            cj["angle"] = r.angle;
            cj["kw"] = r.kw;
            cj["kva"] = r.kva;
            cj["pf"] = r.pf;
            cj["kwh"] = r.kwh;
            cj["kwh_snapshot"] = r.kwh_snapshot;
            cj["current_demand"] = r.current_demand;
            cj["kw_demand"] = r.kw_demand;
            cj["max_current"] = r.max_current;
            cj["max_kw"] = r.max_kw;
            cj["max_current_demand"] = r.max_current_demand;
            cj["max_kw_demand"] = r.max_kw_demand;
            cj["event_status"] = pr.events.status[static_cast<size_t>(c - 1)];
            channels.push_back(std::move(cj));
        }
        pj["channels"] = std::move(channels);
        nlohmann::json circuits = nlohmann::json::array();
        for (int lc = 1; lc <= kLogicalCircuits; ++lc) {
            const GroupReadings& g = pr.logical[static_cast<size_t>(lc - 1)];
            if (g.members == 0) continue;
            nlohmann::json gj = group_json(g);
            gj["circuit"] = lc;
            circuits.push_back(std::move(gj));
        }
        pj["logical_circuits"] = std::move(circuits);
        pj["mains"] = group_json(pr.mains);
        const PanelEvents& e = pr.events;
        pj["events"] = {{"global_latching", e.global_latching},
                        {"global_non_latching", e.global_non_latching},
                        {"recent_latching_channel", e.recent_latching_channel},
                        {"recent_non_latching_channel", e.recent_non_latching_channel},
                        {"channels_latched", e.channels_latched},
                        {"channels_non_latched", e.channels_non_latched},
                        {"voltage_status", e.voltage_status},
                        {"global_counters", e.global_counter}};
        panels.push_back(std::move(pj));
    }
    root["panels"] = std::move(panels);
    return root;
}

}  // namespace openbcpm
