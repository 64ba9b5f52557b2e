// The web face: trends. The recorder's feed on the event loop, and
// GET /api/trends (JSON for the charts, CSV for an export). docs/trends.md.
#include "web/routes_trends.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdlib>
#include <ctime>

#include "web/routes_internal.hpp"
#include "web/server.hpp"

namespace openbcpm::web {

namespace {
double wall_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}
}  // namespace

TrendFeed::TrendFeed(boost::asio::io_context& io, MeterModel& device, history::TrendOptions options)
    : device_(device), timer_(io), recorder_(std::move(options)) {}

void TrendFeed::start() {
    stopped_ = false;
    poll();
}

void TrendFeed::stop() {
    if (stopped_) return;
    stopped_ = true;
    timer_.cancel();
    recorder_.finish();
}

void TrendFeed::schedule() {
    timer_.expires_after(kPoll);
    timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->poll();
    });
}

void TrendFeed::poll() {
    if (stopped_) return;
    recorder_.record(device_.snapshot(), wall_now());
    recorder_.flush();
    schedule();
}

std::shared_ptr<TrendFeed> make_trend_feed(boost::asio::io_context& io, MeterModel& device) {
    history::TrendOptions options;
    if (!device.state_dir().empty()) options.file = device.state_dir() / "trends.sqlite";
    // A meter of a site keeps fewer windows in memory unless told: hundreds of
    // meters share the host (docs/fleet.md), and minute rows serve the rest of the hour.
    const TrendsConfig& trends = device.config().trends;
    const int minutes = trends.memory_minutes.value_or(device.site() ? 5 : 60);
    options.windows = static_cast<size_t>(minutes) * history::kWindowsPerMinute;
    options.store.days = trends.keep_days;
    options.store.max_bytes = static_cast<uint64_t>(trends.max_mb) * 1024u * 1024u;
    return std::make_shared<TrendFeed>(io, device, std::move(options));
}

using namespace route_util;

namespace {

inline constexpr size_t kMaxSeries = 16;
inline constexpr size_t kDefaultPoints = 1500;
inline constexpr size_t kMaxPoints = 20000;
inline constexpr size_t kMaxCsvRows = 100000;

std::optional<double> number_of(const std::string& text) {
    if (text.empty() || text.size() > 32) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

// The series a request names: series=a,b,c or panel/channel/quantity.
std::optional<std::vector<std::string>> series_keys(const Fields& q, std::string& why) {
    std::vector<std::string> keys;
    if (auto s = field(q, "series"); s && !s->empty()) {
        size_t start = 0;
        while (start <= s->size()) {
            const size_t comma = s->find(',', start);
            const size_t end = comma == std::string::npos ? s->size() : comma;
            keys.push_back(s->substr(start, end - start));
            if (keys.size() > kMaxSeries) {
                why = fmt::format("name at most {} series", kMaxSeries);
                return std::nullopt;
            }
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
        return keys;
    }
    const auto quantity = field(q, "quantity");
    if (!quantity || quantity->empty()) return keys;  // none: the list of series
    const auto panel = field(q, "panel").value_or("");
    const auto channel = field(q, "channel").value_or("");
    if (*quantity == "frequency" || quantity->starts_with("v.")) {
        keys.push_back(*quantity);
    } else if (!channel.empty()) {
        keys.push_back(fmt::format("p{}.ch{}.{}", panel, channel, *quantity));
    } else {
        keys.push_back(fmt::format("p{}.{}", panel, *quantity));
    }
    return keys;
}

std::string iso_time(double t) {
    const auto whole = static_cast<std::time_t>(std::floor(t));
    const int millis = static_cast<int>(std::lround((t - std::floor(t)) * 1000.0)) % 1000;
    std::tm tm{};
    gmtime_r(&whole, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return fmt::format("{}.{:03}Z", buf, millis);
}

std::string csv_number(float v) {
    if (std::isnan(v)) return {};
    return fmt::format("{}", v);
}

nlohmann::json floats(const std::vector<float>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (float x : v) {
        if (std::isnan(x))
            a.push_back(nullptr);
        else
            a.push_back(x);
    }
    return a;
}

}  // namespace

Reply WebServer::api_trends(Context& c) {
    if (!trends_) return error(c, http::status::service_unavailable, "trends are not recorded");
    history::TrendRecorder& rec = trends_->recorder();
    const Fields& q = c.target.query;
    const std::string format = field(q, "format").value_or("json");
    if (format != "json" && format != "csv")
        return error(c, http::status::bad_request, "format is json or csv");
    std::string why;
    auto keys = series_keys(q, why);
    if (!keys) return error(c, http::status::bad_request, why);
    const history::TrendStore* store = rec.store();
    if (keys->empty()) {
        // No series named: what there is.
        nlohmann::json list = nlohmann::json::array();
        for (const auto& d : rec.series())
            list.push_back({{"key", d.key}, {"unit", d.unit}});
        nlohmann::json body = {
            {"now", rec.now()},
            {"series", list},
            {"memory",
             {{"windows", rec.ring() ? rec.ring()->size() : 0},
              {"capacity", rec.ring() ? rec.ring()->capacity() : 0},
              {"oldest", rec.ring() && rec.ring()->size() ? rec.ring()->time(0) : 0.0},
              {"bytes", rec.memory_bytes()}}},
            {"storage",
             {{"file", store != nullptr},
              {"ok", store && store->ok()},
              {"error", store ? store->error() : std::string()},
              {"failures", store ? store->failures() : 0},
              {"oldest", store ? store->oldest().value_or(0) : 0},
              {"newest", store ? store->newest().value_or(0) : 0},
              {"bytes", store ? store->file_bytes() : 0},
              {"rows", store && store->ok() ? store->rows() : 0},
              {"max_rows", store ? store->max_rows(rec.series().size()) : 0},
              {"max_bytes", store ? store->options().max_bytes : 0},
              {"days", store ? store->options().days : 0}}}};
        return respond(c, http::status::ok, body);
    }
    // Just after a start the series are not known until the first metering
    // window: not a bad query, a moment too early.
    if (rec.series().empty()) {
        Reply r = error(c, http::status::service_unavailable,
                        "the trends start with the first metering window; try again in a second");
        r.response.set(http::field::retry_after, "1");
        return r;
    }
    for (const auto& k : *keys) {
        if (!rec.find(k))
            return error(c, http::status::bad_request,
                         "unknown series '" + k + "' (GET /api/trends lists them)");
    }
    const double now = rec.now();
    double to = now, from = now - 3600.0;
    if (auto v = field(q, "to"); v && !v->empty()) {
        auto n = number_of(*v);
        if (!n) return error(c, http::status::bad_request, "to is Unix seconds");
        to = *n;
    }
    if (auto v = field(q, "from"); v && !v->empty()) {
        auto n = number_of(*v);
        if (!n) return error(c, http::status::bad_request, "from is Unix seconds");
        from = *n;
    } else if (auto sp = field(q, "span"); sp && !sp->empty()) {
        auto n = number_of(*sp);
        if (!n || *n < 0) return error(c, http::status::bad_request, "span is seconds");
        from = to - *n;
    } else {
        from = to - 3600.0;
    }
    if (from > to) return error(c, http::status::bad_request, "from must not be after to");
    size_t max_points = format == "csv" ? 0 : kDefaultPoints;
    if (auto v = field(q, "points"); v && !v->empty()) {
        auto n = number_of(*v);
        if (!n || *n < 1 || *n > static_cast<double>(kMaxPoints) || std::floor(*n) != *n)
            return error(c, http::status::bad_request,
                         fmt::format("points must be 1 to {}", kMaxPoints));
        max_points = static_cast<size_t>(*n);
    }
    if (max_points == 0) max_points = kMaxCsvRows;
    const history::TrendResult r = rec.query(*keys, from, to, max_points);

    if (format == "csv") {
        std::string out = "time,unix,windows";
        for (const auto& k : r.keys)
            out += fmt::format(",{0},{0}.min,{0}.max", k);
        out += "\r\n";
        for (size_t i = 0; i < r.t.size(); ++i) {
            out += fmt::format("{},{:.3f},{}", iso_time(r.t[i]), r.t[i], r.windows[i]);
            for (size_t k = 0; k < r.keys.size(); ++k) {
                out += ',' + csv_number(r.avg[k][i]) + ',' + csv_number(r.min[k][i]) + ',' +
                       csv_number(r.max[k][i]);
            }
            out += "\r\n";
        }
        Response resp{http::status::ok, c.request.version()};
        resp.set(http::field::content_type, "text/csv; charset=utf-8");
        resp.set(http::field::content_disposition,
                 fmt::format("attachment; filename=\"trends-{}-{}.csv\"",
                             static_cast<int64_t>(std::floor(from)),
                             static_cast<int64_t>(std::floor(to))));
        resp.body() = std::move(out);
        resp.keep_alive(c.request.keep_alive());
        resp.prepare_payload();
        return {std::move(resp), {}, {}};
    }
    const std::string values = field(q, "values").value_or("all");
    if (values != "all" && values != "avg")
        return error(c, http::status::bad_request, "values is all or avg");
    nlohmann::json series = nlohmann::json::array();
    for (size_t k = 0; k < r.keys.size(); ++k) {
        nlohmann::json s = {{"key", r.keys[k]}, {"unit", r.units[k]}, {"avg", floats(r.avg[k])}};
        if (values == "all") {
            s["min"] = floats(r.min[k]);
            s["max"] = floats(r.max[k]);
        }
        series.push_back(std::move(s));
    }
    return respond(c, http::status::ok,
                   {{"from", from},
                    {"to", to},
                    {"now", now},
                    {"t", r.t},
                    {"windows", r.windows},
                    {"from_memory", r.from_memory},
                    {"from_minutes", r.from_minutes},
                    {"storage_ok", !store || store->ok()},
                    {"series", series}});
}

}  // namespace openbcpm::web
