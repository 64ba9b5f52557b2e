// The snapshot's JSON (model/snapshot_json.hpp): a view of the catalogue like
// the point map, so it is built with the points library. Its keys, and the
// quantities each channel, logical circuit, the mains and the voltage inputs
// carry, are the catalogue's (points::quantities); GET /api/quantities gives
// their names and units.
#include "model/snapshot_json.hpp"

#include "points/catalogue.hpp"

namespace openbcpm {

namespace {

// The quantities and their keys are the catalogue's (points::quantities).
using points::QuantityOf;

nlohmann::json group_json(const GroupReadings& g) {
    nlohmann::json j;
    j["channels"] = std::vector<int>(g.channel.begin(), g.channel.begin() + g.members);
    j["valid"] = g.valid;
    for (const points::Quantity& q : points::quantities(QuantityOf::Circuit))
        j[q.key] = points::group_quantity(q.ref.q, g);
    return j;
}

nlohmann::json voltage_json(const MeterSnapshot& s, const Settings& settings) {
    nlohmann::json j;
    const points::Context ctx{s, settings};
    for (const points::Quantity& q : points::quantities(QuantityOf::Voltage))
        j[q.key] = points::evaluate(q.ref, ctx).value;
    return j;
}

}  // namespace

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
        pj["voltage"] = voltage_json(s, settings);
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
            for (const points::Quantity& q : points::quantities(QuantityOf::Channel)) {
                if (q.ref.q == points::Q::EvStatus)
                    cj[q.key] = pr.events.status[static_cast<size_t>(c - 1)];
                else
                    cj[q.key] = points::channel_quantity(q.ref.q, r);
            }
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
