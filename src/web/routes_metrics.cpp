// The web face: the stream, connection counters and Prometheus metrics.
#include <spdlog/spdlog.h>

#include "model/snapshot_json.hpp"
#include "points/catalogue.hpp"
#include "points/write_plan.hpp"
#include "web/assets.hpp"
#include "web/bdt.hpp"
#include "web/gui_parameters.hpp"
#include "web/http_parse.hpp"
#include "web/metrics_text.hpp"
#include "web/routes_gui.hpp"
#include "web/routes_internal.hpp"
#include "web/server.hpp"

namespace openbcpm::web {

using namespace route_util;

Reply WebServer::api_stream_info(Context& c) {
    return error(c, http::status::upgrade_required,
                 "/api/stream is a WebSocket: connect with ws:// or wss://");
}

namespace {
nlohmann::json counters_json(const ConnectionCounters& k) {
    return {{"open", k.open},       {"accepted", k.accepted},   {"refused", k.refused},
            {"evicted", k.evicted}, {"timed_out", k.timed_out}, {"stalled", k.stalled}};
}
}  // namespace

Reply WebServer::api_connections(Context& c) {
    const ConnectionStats& stats = device_.connection_stats();
    const ModbusConfig& modbus = device_.config().modbus;
    nlohmann::json m = counters_json(stats.modbus_tcp);
    m["max_connections"] = modbus.max_connections;
    m["idle_timeout"] = modbus.idle_timeout_s;
    nlohmann::json w = counters_json(stats.web);
    w["max_connections"] = options_.max_connections;
    w["max_connections_per_address"] = options_.max_connections_per_address;
    return respond(c, http::status::ok, {{"modbus_tcp", std::move(m)}, {"web", std::move(w)}});
}

void meter_metrics(MetricsText& m, MeterModel& device) {
    const MeterSnapshot& snap = device.snapshot();
    const Settings& s = device.settings();
    static const char* ln[] = {"A", "B", "C"};
    static const char* ll[] = {"AB", "BC", "CA"};
    m.family("bcpm_voltage_ln_volts", "gauge", "Line-to-neutral voltage");
    for (size_t i = 0; i < 3; ++i)
        m.sample("bcpm_voltage_ln_volts", fmt::format("phase=\"{}\"", ln[i]), snap.voltage.ln[i]);
    m.family("bcpm_voltage_ll_volts", "gauge", "Line-to-line voltage");
    for (size_t i = 0; i < 3; ++i)
        m.sample("bcpm_voltage_ll_volts", fmt::format("pair=\"{}\"", ll[i]), snap.voltage.ll[i]);
    m.family("bcpm_frequency_hertz", "gauge", "Line frequency");
    m.sample("bcpm_frequency_hertz", "", snap.voltage.frequency);
    // Every quantity of a channel and of the mains as the catalogue has it
    // (points::quantities): its name from points::prometheus_name, its value
    // in the unit table's base unit (kW -> W).
    for (const points::Quantity& q : points::quantities(points::QuantityOf::Channel)) {
        const std::string name = points::prometheus_name("channel", q);
        const std::string help = points::quantity_label(q) + " of a branch or aux input (ch<n>." +
                                 q.key + " in the point catalogue)";
        const double factor = points::unit_info(q.unit).prometheus_factor;
        m.family(name.c_str(), points::prometheus_counter(q) ? "counter" : "gauge", help.c_str());
        for (int p = 1; p <= s.model.panels; ++p) {
            const PanelReadings& pr = snap.panel[static_cast<size_t>(p - 1)];
            for (int ch = 1; ch <= kChannelsPerPanel; ++ch) {
                const ChannelReadings& r = pr.channel[static_cast<size_t>(ch - 1)];
                if (!r.present) continue;
                const double v = q.ref.q == points::Q::EvStatus
                                     ? pr.events.status[static_cast<size_t>(ch - 1)]
                                     : points::channel_quantity(q.ref.q, r) * factor;
                m.sample(name, fmt::format("panel=\"{}\",channel=\"{}\"", p, ch), v);
            }
        }
    }
    for (const points::Quantity& q : points::quantities(points::QuantityOf::Mains)) {
        const std::string name = points::prometheus_name("mains", q);
        const std::string help = "Mains (aux 1..3): " + points::quantity_label(q) + " (mains." +
                                 q.key + " in the point catalogue)";
        const double factor = points::unit_info(q.unit).prometheus_factor;
        m.family(name.c_str(), points::prometheus_counter(q) ? "counter" : "gauge", help.c_str());
        for (int p = 1; p <= s.model.panels; ++p) {
            const GroupReadings& g = snap.panel[static_cast<size_t>(p - 1)].mains;
            m.sample(name, fmt::format("panel=\"{}\"", p),
                     points::group_quantity(q.ref.q, g) * factor);
        }
    }
    m.family("bcpm_panel_health", "gauge", "Device health bits of a panel");
    for (int p = 1; p <= s.model.panels; ++p) {
        const PanelReadings& pr = snap.panel[static_cast<size_t>(p - 1)];
        m.sample("bcpm_panel_health", fmt::format("panel=\"{}\"", p), pr.health);
    }
    m.family("bcpm_windows_total", "counter", "Metering windows since start");
    m.sample("bcpm_windows_total", "", static_cast<double>(snap.sequence));
    m.family("bcpm_meter_lag_seconds", "gauge", "How far metering lags behind the source clock");
    m.sample("bcpm_meter_lag_seconds", "", device.lag_seconds());
    m.family("bcpm_events_dropped_total", "counter", "Events lost because the queue was full");
    m.sample("bcpm_events_dropped_total", "", static_cast<double>(device.events_dropped()));
    m.family("bcpm_simulation_speed", "gauge", "Simulated seconds per real second");
    m.sample("bcpm_simulation_speed", "", device.speed());
    const ConnectionStats& stats = device.connection_stats();
    const std::pair<const char*, const ConnectionCounters*> faces[] = {
        {"modbus_tcp", &stats.modbus_tcp}, {"web", &stats.web}};
    m.family("bcpm_connections_open", "gauge", "Open connections of a stream face");
    for (const auto& [face, k] : faces)
        m.sample("bcpm_connections_open", fmt::format("face=\"{}\"", face),
                 static_cast<double>(k->open));
    m.family("bcpm_connections_accepted_total", "counter", "Connections accepted");
    for (const auto& [face, k] : faces)
        m.sample("bcpm_connections_accepted_total", fmt::format("face=\"{}\"", face),
                 static_cast<double>(k->accepted));
    m.family("bcpm_connections_refused_total", "counter",
             "Connections closed at once: over a connection cap, or not accepted");
    for (const auto& [face, k] : faces)
        m.sample("bcpm_connections_refused_total", fmt::format("face=\"{}\"", face),
                 static_cast<double>(k->refused));
    m.family("bcpm_connections_closed_total", "counter",
             "Connections the meter closed: evicted (a newcomer at the cap took the slot), "
             "timed_out (idle, or a request head too slow), stalled (answers not read in time)");
    for (const auto& [face, k] : faces) {
        for (const auto& [reason, n] :
             {std::pair{"evicted", k->evicted}, std::pair{"timed_out", k->timed_out},
              std::pair{"stalled", k->stalled}}) {
            m.sample("bcpm_connections_closed_total",
                     fmt::format("face=\"{}\",reason=\"{}\"", face, reason),
                     static_cast<double>(n));
        }
    }
}

Reply WebServer::metrics(Context& c) {
    Response r{http::status::ok, c.request.version()};
    r.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    r.keep_alive(c.request.keep_alive());
    const std::string scope = field(c.target.query, "scope").value_or("meter");
    if (scope == "site") return site_metrics(c, std::move(r));  // routes_site.cpp
    if (scope != "meter")
        return error(c, http::status::bad_request, "scope is meter (the default) or site");
    MetricsText m;
    meter_metrics(m, device_);
    m.family("bcpm_web_requests_total", "counter", "HTTP requests handled by the web face");
    m.sample("bcpm_web_requests_total", "", static_cast<double>(requests_));
    m.family("bcpm_web_requests_refused_total", "counter",
             "Requests refused for missing login, CSRF or origin");
    m.sample("bcpm_web_requests_refused_total", "", static_cast<double>(refused_));
    m.family("bcpm_web_logins_failed_total", "counter", "Failed logins");
    m.sample("bcpm_web_logins_failed_total", "", static_cast<double>(logins_failed_));
    m.family("bcpm_web_sessions", "gauge", "Live login sessions");
    m.sample("bcpm_web_sessions", "", static_cast<double>(sessions_.size()));
    r.body() = m.str();
    r.prepare_payload();
    return {std::move(r), {}, {}};
}

}  // namespace openbcpm::web
