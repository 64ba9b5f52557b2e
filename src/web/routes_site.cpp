// The web face of a site (model/site.hpp): the site page, GET /api/site and
// the site-level metrics (/metrics?scope=site). A single meter has no site:
// all three answer 404 and nothing else of the face changes.
#include "web/routes_site.hpp"

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "model/site.hpp"
#include "web/metrics_text.hpp"
#include "web/routes_internal.hpp"
#include "web/server.hpp"

namespace openbcpm::web {

using namespace route_util;

namespace {

constexpr std::string_view kNoSite =
    "this meter is not part of a site (no [fleet] section in its configuration)";

// scheme://address[:port]/ of a meter of the site, in the scheme the request came with.
std::string meter_url(const SiteMeter& m, bool tls) {
    std::string url = std::string(tls ? "https://" : "http://") + m.address;
    if (m.web_port != (tls ? 443 : 80)) url += ":" + std::to_string(m.web_port);
    return url + "/";
}

}  // namespace

nlohmann::json site_json(const SiteShape& shape, const std::vector<SiteMeter>& meters,
                         const std::string& self_address, bool tls) {
    nlohmann::json list = nlohmann::json::array();
    std::optional<int> self;
    for (const SiteMeter& m : meters) {
        if (m.address == self_address) self = m.index;
        nlohmann::json devices = nlohmann::json::array({m.device_id_offset});
        nlohmann::json units = nlohmann::json::array();
        for (int p = 0; p < m.panels; ++p) {
            devices.push_back(m.device_id_offset + static_cast<uint32_t>(m.modbus_address + p));
            units.push_back(m.modbus_address + p);
        }
        list.push_back({{"index", m.index},
                        {"address", m.address},
                        {"web_port", m.web_port},
                        {"web_url", meter_url(m, tls)},
                        {"serial_number", fmt::format("{:08X}", m.serial_number)},
                        {"model", m.model},
                        {"panels", m.panels},
                        {"location", m.location},
                        {"bacnet_devices", std::move(devices)},
                        {"modbus_units", std::move(units)},
                        {"latched_events", m.latched_events},
                        {"kw", m.kw},
                        {"kwh", m.kwh},
                        {"running", m.running}});
    }
    return {{"count", shape.count},
            {"shard", shape.shard},
            {"shards", shape.shards},
            {"self", self ? nlohmann::json(*self) : nlohmann::json(nullptr)},
            {"meters", std::move(list)}};
}

Reply WebServer::page_site(Context& c) {
    if (!device_.site()) return error(c, http::status::not_found, std::string(kNoSite));
    return asset(c, "/site");
}

Reply WebServer::api_site(Context& c) {
    Site* site = device_.site();
    if (!site) return error(c, http::status::not_found, std::string(kNoSite));
    std::vector<SiteMeter> meters = site->meters();
    std::sort(meters.begin(), meters.end(),
              [](const SiteMeter& a, const SiteMeter& b) { return a.index < b.index; });
    return respond(
        c, http::status::ok,
        site_json(site->shape(), meters, device_.settings().gateway.ip_address, c.connection.tls));
}

Reply WebServer::site_metrics(Context& c, Response head) {
    Site* site = device_.site();
    if (!site) return error(c, http::status::not_found, std::string(kNoSite));
    // Each meter's series are made on its own loop into its own text; the
    // whole is put together, family by family, on this loop.
    struct Parts {
        std::mutex mutex;
        std::vector<std::pair<int, MetricsText>> texts;
    };
    auto parts = std::make_shared<Parts>();
    std::vector<SiteMeter> meters = site->meters();
    // Bounded: each meter's series are about 100 KB, so one answer carries
    // those of at most kSiteMetricsMaxMeters meters (meters=A-B, indices,
    // inclusive; by default the first ones); bcpm_meter_up and _info name
    // every meter of the process (docs/deployment.md).
    int lo = meters.empty() ? 0 : meters.front().index;
    int hi = meters.empty() ? -1 : meters[std::min(meters.size(), kSiteMetricsMaxMeters) - 1].index;
    if (auto range = field(c.target.query, "meters")) {
        int a = -1, b = -1;
        char dash = 0, extra = 0;
        const int n = std::sscanf(range->c_str(), "%d%c%d%c", &a, &dash, &b, &extra);
        if (n == 1) b = a;
        const bool ok = (n == 1 || (n == 3 && dash == '-')) && a >= 0 && b >= a;
        if (!ok || static_cast<size_t>(b - a) >= kSiteMetricsMaxMeters) {
            return error(c, http::status::bad_request,
                         fmt::format("meters=A-B: meter indices, A <= B, at most {} meters",
                                     kSiteMetricsMaxMeters));
        }
        lo = a;
        hi = b;
    }
    Reply reply{std::move(head), {}, {}};
    reply.body_later = [site, parts, lo, hi, meters = std::move(meters)](
                           std::function<void(std::string)> finish) mutable {
        site->visit(
            [parts, lo, hi](const SiteMeter& m, MeterModel& model) {
                if (m.index < lo || m.index > hi) return;
                MetricsText text(fmt::format("meter=\"{}\"", m.index));
                meter_metrics(text, model);
                std::lock_guard lock(parts->mutex);
                parts->texts.emplace_back(m.index, std::move(text));
            },
            [parts, meters = std::move(meters), finish = std::move(finish)] {
                MetricsText all;
                // Which meters this process runs, and which of them are up.
                all.family("bcpm_meter_up", "gauge",
                           "1 for a meter of the site this process runs, 0 when it is not running");
                all.family("bcpm_meter_info", "gauge",
                           "Identity of a meter of the site (value 1): address, serial, model");
                for (const SiteMeter& m : meters) {
                    const std::string label = fmt::format("meter=\"{}\"", m.index);
                    all.sample("bcpm_meter_up", label, m.running ? 1.0 : 0.0);
                    all.sample("bcpm_meter_info",
                               fmt::format("{},address=\"{}\",serial=\"{:08X}\",model=\"{}\"",
                                           label, m.address, m.serial_number, m.model),
                               1.0);
                }
                std::lock_guard lock(parts->mutex);
                std::sort(parts->texts.begin(), parts->texts.end(),
                          [](const auto& a, const auto& b) { return a.first < b.first; });
                for (const auto& [index, text] : parts->texts)
                    all.append(text);
                finish(all.str());
            });
    };
    return reply;
}

}  // namespace openbcpm::web
