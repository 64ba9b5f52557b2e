// The web face of a site (src/web/routes_site.cpp) against a fake Site of
// three real Devices, over real sockets on 127.0.0.1: GET /api/site lists
// every meter with its status and a link to its own GUI, the session says
// there is a site (the menu's Site entry), the site page is served, and
// /metrics?scope=site has every meter's series with a `meter` label, each
// family declared once, the meters' parts made on their own event loops.
// A single meter (no site) answers 404 to all three and its /metrics is as
// before. Also the pure parts: site_json and MetricsText.
#include "model/site.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fstream>
#include <future>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "../../temp_dir.hpp"
#include "config/config.hpp"
#include "device/device.hpp"
#include "web/metrics_text.hpp"
#include "web/routes_site.hpp"
#include "web/web_face.hpp"

using namespace openbcpm;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

// A Device seen through another MeterModel that also answers site(): what a
// meter of a fleet looks like to its faces.
class SiteMember final : public MeterModel {
  public:
    SiteMember(Device& d, Site* site) : d_(d), site_(site) {}
    Site* site() const override { return site_; }

    const Settings& settings() const override { return d_.settings(); }
    const Config& config() const override { return d_.config(); }
    const MeterSnapshot& snapshot() override { return d_.snapshot(); }
    int power_up_counter(int panel) const override { return d_.power_up_counter(panel); }
    points::SubmitResult submit(const points::WriteRequest& r) override { return d_.submit(r); }
    void when_applied(uint64_t t, std::function<void()> fn) override {
        d_.when_applied(t, std::move(fn));
    }
    bool applied(uint64_t t) const override { return d_.applied(t); }
    void set_loop_poster(std::function<void(std::function<void()>)> post) override {
        d_.set_loop_poster(std::move(post));
    }
    WriteResult write_setting(const SettingDef& def, const SettingValue& v) override {
        return d_.write_setting(def, v);
    }
    WriteResult write_setting(std::string_view key, const SettingValue& v) override {
        return d_.write_setting(key, v);
    }
    WriteResult write_settings(
        const std::vector<std::pair<const SettingDef*, SettingValue>>& batch) override {
        return d_.write_settings(batch);
    }
    bool set_rtc(int64_t s, RtcSource source) override { return d_.set_rtc(s, source); }
    bool simulating() const override { return d_.simulating(); }
    bool sim_set_load(int p, int ch, double a, std::optional<double> pf) override {
        return d_.sim_set_load(p, ch, a, pf);
    }
    bool sim_trip(int p, int ch, bool t) override { return d_.sim_trip(p, ch, t); }
    bool sim_ramp(int p, int ch, double a, double s) override { return d_.sim_ramp(p, ch, a, s); }
    bool sim_voltage(int m, double v, double s) override { return d_.sim_voltage(m, v, s); }
    bool sim_frequency(double hz) override { return d_.sim_frequency(hz); }
    bool sim_speed(double s) override { return d_.sim_speed(s); }
    double speed() const override { return d_.speed(); }
    Subscription subscribe(EventListener l) override { return d_.subscribe(std::move(l)); }
    bool request_restart(RestartKind k) override { return d_.request_restart(k); }
    bool serves_panel(FaceProtocol f, int p) const override { return d_.serves_panel(f, p); }
    int profiles_not_served() const override { return d_.profiles_not_served(); }
    int start_protocol_mode() const override { return d_.start_protocol_mode(); }
    int start_operating_mode() const override { return d_.start_operating_mode(); }
    Store* store() override { return d_.store(); }
    StoreHealth storage_health() const override { return d_.storage_health(); }
    const StoreRecovery& storage_recovery() const override { return d_.storage_recovery(); }
    size_t events_pending() const override { return d_.events_pending(); }
    uint64_t events_unrecorded() const override { return d_.events_unrecorded(); }
    uint64_t events_dropped() const override { return d_.events_dropped(); }
    std::filesystem::path state_dir() const override { return d_.state_dir(); }
    double lag_seconds() const override { return d_.lag_seconds(); }
    ConnectionStats& connection_stats() override { return d_.connection_stats(); }
    std::chrono::steady_clock::time_point started() const override { return d_.started(); }

  protected:
    // Subscriptions come from the Device and go back to it.
    void unsubscribe(uint64_t) override {}
    void hold_snapshot(int delta) override {
        if (delta > 0)
            pins_.push_back(d_.pin_snapshot());
        else
            pins_.pop_back();
    }

  private:
    Device& d_;
    Site* site_;
    std::vector<SnapshotPin> pins_;
};

// Meter k at 127.0.0.1 (this one, served by the web face under test) or at
// 127.0.1.k, each on its own event loop thread, as a fleet may run them.
class FakeSite final : public Site {
  public:
    struct Member {
        SiteMeter meter;
        MeterModel* model = nullptr;              // null: configured but not running
        boost::asio::io_context* loop = nullptr;  // where the model may be used
    };
    FakeSite(boost::asio::io_context& caller, int count) : caller_(caller), count_(count) {}
    void add(Member m) { members_.push_back(std::move(m)); }

    SiteShape shape() const override { return {count_, 0, 1}; }
    std::vector<SiteMeter> meters() const override {
        std::vector<SiteMeter> out;
        for (const Member& m : members_)
            out.push_back(m.meter);
        return out;
    }
    void visit(std::function<void(const SiteMeter&, MeterModel&)> fn,
               std::function<void()> done) override {
        auto left = std::make_shared<std::atomic<int>>(0);
        for (const Member& m : members_)
            if (m.model) ++*left;
        auto shared_fn = std::make_shared<decltype(fn)>(std::move(fn));
        auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
        if (*left == 0) return boost::asio::post(caller_, *shared_done);
        for (const Member& m : members_) {
            if (!m.model) continue;
            boost::asio::post(*m.loop, [this, &m, left, shared_fn, shared_done] {
                visited_on[m.meter.index] = std::this_thread::get_id();
                (*shared_fn)(m.meter, *m.model);
                if (--*left == 0) boost::asio::post(caller_, *shared_done);
            });
        }
    }
    std::map<int, std::thread::id> visited_on;

  private:
    boost::asio::io_context& caller_;
    int count_;
    std::vector<Member> members_;
};

struct HttpReply {
    unsigned status = 0;
    std::string body;
    std::string content_type;
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// A loop with a thread of its own.
struct Loop {
    boost::asio::io_context io;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard{
        io.get_executor()};
    std::thread thread{[this] { io.run(); }};
    ~Loop() {
        guard.reset();
        thread.join();
    }
};

Config meter_config(int k) {
    Config c = default_config();
    c.settings.gateway.ip_address = k == 0 ? "127.0.0.1" : "127.0.1." + std::to_string(k);
    c.settings.identity.serial_number = 0x4E3B73CBu + static_cast<uint32_t>(k);
    c.settings.gateway.device_id_offset = 50000 + 10 * k;
    return c;
}

class WebSite : public ::testing::Test {
  protected:
    // Three meters; `with_site` false: the first alone, as a single meter.
    void start(bool with_site) {
        for (int k = 0; k < 3; ++k) {
            dirs_.push_back(std::make_unique<test::TempDir>());
            devices_.push_back(std::make_unique<Device>(meter_config(k), dirs_.back()->path));
            devices_.back()->run_inline(2.0);
        }
        if (with_site) {
            site_ = std::make_unique<FakeSite>(web_loop_.io, 4);
            for (int k = 0; k < 3; ++k) {
                FakeSite::Member m;
                m.meter.index = k;
                m.meter.running = true;
                fill_site_meter_status(m.meter, devices_[k]->settings(), devices_[k]->snapshot());
                m.model = devices_[k].get();
                m.loop = k == 0 ? &web_loop_.io : &other_loops_[k - 1].io;
                site_->add(m);
            }
            FakeSite::Member down;  // configured, failed to start
            down.meter.index = 3;
            down.meter.address = "127.0.1.3";
            site_->add(down);
        }
        model_ = std::make_unique<SiteMember>(*devices_[0], site_.get());
        WebOptions options;
        options.address = "127.0.0.1";
        options.port = 0;
        face_ = std::make_unique<WebFace>(web_loop_.io, *model_, options);
        face_->start();
        port_ = face_->port();
        std::ifstream in(dirs_[0]->path / "initial-admin-password");
        std::string password;
        std::getline(in, password);
        const HttpReply r =
            request(http::verb::post, "/api/login",
                    nlohmann::json{{"username", "admin"}, {"password", password}}.dump());
        ASSERT_EQ(r.status, 200u) << r.body;
        csrf_ = r.json()["csrf"];
        ASSERT_EQ(request(http::verb::post, "/api/security",
                          nlohmann::json{{"mode", "https-self-signed"}}.dump())
                      .status,
                  200u);
    }
    void TearDown() override {
        if (face_) {
            std::promise<void> stopped;
            boost::asio::post(web_loop_.io, [&] {
                face_->stop();
                stopped.set_value();
            });
            stopped.get_future().wait();
        }
    }

    HttpReply request(http::verb method, const std::string& target, const std::string& body = {}) {
        boost::asio::io_context io;
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
        if (!cookie_.empty()) req.set(http::field::cookie, cookie_);
        if (method == http::verb::post) {
            req.set(http::field::content_type, "application/json");
            if (!csrf_.empty()) req.set("X-CSRF-Token", csrf_);
        }
        req.body() = body;
        req.prepare_payload();
        ssl::context ctx(ssl::context::tls_client);
        ctx.set_verify_mode(ssl::verify_none);
        beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
        beast::get_lowest_layer(stream).connect(
            tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
        stream.handshake(ssl::stream_base::client);
        http::write(stream, req);
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64u << 20);
        if (method == http::verb::head) parser.skip(true);
        http::read(stream, buffer, parser);
        http::response<http::string_body> res = parser.release();
        HttpReply out{res.result_int(), res.body(), std::string(res[http::field::content_type])};
        if (auto set = res.find(http::field::set_cookie); set != res.end()) {
            const std::string v(set->value());
            cookie_ = v.substr(0, v.find(';'));
        }
        return out;
    }

    Loop web_loop_;
    std::array<Loop, 2> other_loops_;
    std::vector<std::unique_ptr<test::TempDir>> dirs_;
    std::vector<std::unique_ptr<Device>> devices_;
    std::unique_ptr<FakeSite> site_;
    std::unique_ptr<SiteMember> model_;
    std::unique_ptr<WebFace> face_;
    uint16_t port_ = 0;
    std::string cookie_, csrf_;
};

// Samples of `family` in a Prometheus text: labels -> value.
std::map<std::string, double> samples(const std::string& text, const std::string& family) {
    std::map<std::string, double> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(family, 0) != 0) continue;
        const auto rest = line.substr(family.size());
        if (rest.empty() || (rest[0] != '{' && rest[0] != ' ')) continue;
        const auto space = rest.rfind(' ');
        out[rest.substr(0, space)] = std::stod(rest.substr(space + 1));
    }
    return out;
}

}  // namespace

TEST_F(WebSite, ApiSiteListsEveryMeterWithItsStatusAndItsOwnGuiLink) {
    start(true);
    const HttpReply r = request(http::verb::get, "/api/site");
    ASSERT_EQ(r.status, 200u) << r.body;
    const auto j = r.json();
    EXPECT_EQ(j["count"], 4);
    EXPECT_EQ(j["shard"], 0);
    EXPECT_EQ(j["shards"], 1);
    EXPECT_EQ(j["self"], 0);
    ASSERT_EQ(j["meters"].size(), 4u);
    for (int k = 0; k < 3; ++k) {
        const auto& m = j["meters"][static_cast<size_t>(k)];
        const Device& d = *devices_[static_cast<size_t>(k)];
        EXPECT_EQ(m["index"], k);
        EXPECT_EQ(m["address"], meter_config(k).settings.gateway.ip_address);
        // The quick-start default's web port, 8443 (443 would be left out).
        EXPECT_EQ(m["web_url"],
                  fmt::format("https://{}:{}/", meter_config(k).settings.gateway.ip_address,
                              meter_config(k).settings.gateway.web_port));
        EXPECT_EQ(meter_config(k).settings.gateway.web_port, 8443);
        EXPECT_EQ(m["serial_number"], fmt::format("{:08X}", 0x4E3B73CBu + k));
        EXPECT_EQ(m["model"], "BCPME84");
        EXPECT_EQ(m["bacnet_devices"],
                  nlohmann::json::array({50000 + 10 * k, 50001 + 10 * k, 50002 + 10 * k}));
        EXPECT_EQ(m["modbus_units"], nlohmann::json::array({1, 2}));
        EXPECT_EQ(m["running"], true);
        // The mains of both panels of the snapshot the site last looked at.
        const MeterSnapshot& s = const_cast<Device&>(d).snapshot();
        EXPECT_NEAR(m["kw"].get<double>(), s.panel[0].mains.kw + s.panel[1].mains.kw, 1e-9);
        EXPECT_GT(m["kw"].get<double>(), 1.0);
        EXPECT_NEAR(m["kwh"].get<double>(), s.panel[0].mains.kwh + s.panel[1].mains.kwh, 1e-9);
        EXPECT_EQ(m["latched_events"], 0);
    }
    EXPECT_EQ(j["meters"][3]["running"], false);

    // The session tells the menu to link the site page, and the page is there.
    EXPECT_EQ(request(http::verb::get, "/api/session").json()["site"], true);
    const HttpReply page = request(http::verb::get, "/site");
    EXPECT_EQ(page.status, 200u);
    EXPECT_NE(page.body.find("/static/site.js"), std::string::npos);
}

TEST_F(WebSite, SiteMetricsHaveEveryMetersSeriesWithAMeterLabelFromTheSameCode) {
    start(true);
    const HttpReply single = request(http::verb::get, "/metrics");
    ASSERT_EQ(single.status, 200u);
    const HttpReply r = request(http::verb::get, "/metrics?scope=site");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    // Every meter's part was made on its own loop.
    ASSERT_EQ(site_->visited_on.size(), 3u);
    EXPECT_EQ(site_->visited_on[0], web_loop_.thread.get_id());
    EXPECT_EQ(site_->visited_on[1], other_loops_[0].thread.get_id());
    EXPECT_EQ(site_->visited_on[2], other_loops_[1].thread.get_id());

    // Each family once, its samples right after it; every sample has a meter label.
    std::set<std::string> declared;
    std::string current;
    std::istringstream in(r.body);
    std::string line;
    size_t lines = 0;
    while (std::getline(in, line)) {
        ++lines;
        if (line.rfind("# TYPE ", 0) == 0) {
            current = line.substr(7, line.find(' ', 7) - 7);
            EXPECT_TRUE(declared.insert(current).second) << current << " declared twice";
            continue;
        }
        if (line.rfind("# ", 0) == 0) continue;
        EXPECT_EQ(line.rfind(current, 0), 0u) << line << " outside its family " << current;
        EXPECT_NE(line.find("{meter=\""), std::string::npos) << line;
    }
    // The families of the single-meter metrics that come from the model, no more;
    // the web face's own counters are not the site's.
    std::set<std::string> single_families;
    std::istringstream sin(single.body);
    while (std::getline(sin, line)) {
        if (line.rfind("# TYPE ", 0) == 0)
            single_families.insert(line.substr(7, line.find(' ', 7) - 7));
    }
    for (const std::string& f : single_families) {
        if (f.rfind("bcpm_web_", 0) == 0)
            EXPECT_FALSE(declared.count(f)) << f;
        else
            EXPECT_TRUE(declared.count(f)) << f;
    }
    EXPECT_TRUE(declared.count("bcpm_meter_up"));
    EXPECT_TRUE(declared.count("bcpm_meter_info"));

    // Same values as each meter's own: its serial, its channels.
    const auto up = samples(r.body, "bcpm_meter_up");
    EXPECT_EQ(up.at("{meter=\"0\"}"), 1.0);
    EXPECT_EQ(up.at("{meter=\"2\"}"), 1.0);
    EXPECT_EQ(up.at("{meter=\"3\"}"), 0.0);
    const auto info = samples(r.body, "bcpm_meter_info");
    EXPECT_TRUE(
        info.count("{meter=\"1\",address=\"127.0.1.1\",serial=\"4E3B73CC\",model=\"BCPME84\"}"));
    const auto mine = samples(single.body, "bcpm_channel_current_amperes");
    const auto site = samples(r.body, "bcpm_channel_current_amperes");
    ASSERT_FALSE(mine.empty());
    EXPECT_EQ(site.size(), 3 * mine.size());
    for (const auto& [labels, v] : mine) {
        // {panel="1",channel="7"} -> {meter="0",panel="1",channel="7"}
        const std::string key = "{meter=\"0\"," + labels.substr(1);
        ASSERT_TRUE(site.count(key)) << key;
        EXPECT_NEAR(site.at(key), v, 1e-9);  // the Device is not running: same snapshot
    }
    EXPECT_GT(lines, 3000u);

    // The bound: meters=A-B picks whose series come, at most
    // kSiteMetricsMaxMeters of them; up and info still name every meter.
    const HttpReply one = request(http::verb::get, "/metrics?scope=site&meters=1-1");
    ASSERT_EQ(one.status, 200u) << one.body;
    const auto one_site = samples(one.body, "bcpm_channel_current_amperes");
    EXPECT_EQ(one_site.size(), mine.size());
    for (const auto& [labels, v] : one_site)
        EXPECT_EQ(labels.rfind("{meter=\"1\",", 0), 0u) << labels;
    EXPECT_EQ(samples(one.body, "bcpm_meter_up").size(), up.size());
    EXPECT_EQ(samples(request(http::verb::get, "/metrics?scope=site&meters=2").body,
                      "bcpm_channel_current_amperes")
                  .size(),
              mine.size());
    const std::string widest =
        "/metrics?scope=site&meters=0-" + std::to_string(web::kSiteMetricsMaxMeters - 1);
    EXPECT_EQ(request(http::verb::get, widest).status, 200u);
    for (const std::string& bad :
         {"0-" + std::to_string(web::kSiteMetricsMaxMeters), std::string("2-1"), std::string("x"),
          std::string("1-"), std::string("-1"), std::string("1-2-3")}) {
        const HttpReply refused = request(http::verb::get, "/metrics?scope=site&meters=" + bad);
        EXPECT_EQ(refused.status, 400u) << bad;
        EXPECT_NE(refused.body.find("at most 50 meters"), std::string::npos) << refused.body;
    }

    // Unknown scopes are refused.
    EXPECT_EQ(request(http::verb::get, "/metrics?scope=panel").status, 400u);
    // HEAD has the length and no body.
    EXPECT_EQ(request(http::verb::head, "/metrics?scope=site").body, "");
}

TEST_F(WebSite, ASingleMeterHasNoSite) {
    start(false);
    EXPECT_EQ(request(http::verb::get, "/api/site").status, 404u);
    EXPECT_EQ(request(http::verb::get, "/site").status, 404u);
    EXPECT_EQ(request(http::verb::get, "/metrics?scope=site").status, 404u);
    EXPECT_EQ(request(http::verb::get, "/api/session").json()["site"], false);
    const HttpReply m = request(http::verb::get, "/metrics");
    ASSERT_EQ(m.status, 200u);
    EXPECT_EQ(m.body.find("meter=\""), std::string::npos);
    EXPECT_NE(m.body.find("bcpm_web_requests_total "), std::string::npos);
}

TEST(SiteJson, LinksInTheRequestsSchemeWithThePortOnlyWhenNotTheDefault) {
    SiteMeter a;
    a.index = 5;
    a.address = "127.0.1.6";
    a.web_port = 443;
    a.serial_number = 0xAB;
    a.panels = 1;
    a.device_id_offset = 1000;
    a.modbus_address = 7;
    SiteMeter b = a;
    b.index = 6;
    b.address = "127.0.1.7";
    b.web_port = 8443;
    const auto https = web::site_json({10, 1, 2}, {a, b}, "127.0.1.7", true);
    EXPECT_EQ(https["meters"][0]["web_url"], "https://127.0.1.6/");
    EXPECT_EQ(https["meters"][1]["web_url"], "https://127.0.1.7:8443/");
    EXPECT_EQ(https["meters"][0]["serial_number"], "000000AB");
    EXPECT_EQ(https["meters"][0]["bacnet_devices"], nlohmann::json::array({1000, 1007}));
    EXPECT_EQ(https["meters"][0]["modbus_units"], nlohmann::json::array({7}));
    EXPECT_EQ(https["self"], 6);
    EXPECT_EQ(https["count"], 10);
    EXPECT_EQ(https["shard"], 1);
    EXPECT_EQ(https["shards"], 2);
    const auto plain = web::site_json({10, 1, 2}, {a, b}, "127.0.0.1", false);
    EXPECT_EQ(plain["meters"][0]["web_url"], "http://127.0.1.6:443/");
    EXPECT_TRUE(plain["self"].is_null());
}

TEST(MetricsText, AppendKeepsEachFamilyOnceWithItsSamplesAndTheMeterLabelFirst) {
    web::MetricsText a("meter=\"0\""), b("meter=\"1\""), all;
    for (web::MetricsText* t : {&a, &b}) {
        t->family("x_total", "counter", "X");
        t->family("y", "gauge", "Y");
        t->sample("y", "panel=\"1\"", 2.5);
        t->sample("x_total", "", 1);
    }
    all.family("z", "gauge", "Z");
    all.sample("z", "", 0);
    all.append(a);
    all.append(b);
    EXPECT_EQ(all.str(),
              "# HELP z Z\n# TYPE z gauge\nz 0\n"
              "# HELP x_total X\n# TYPE x_total counter\n"
              "x_total{meter=\"0\"} 1\nx_total{meter=\"1\"} 1\n"
              "# HELP y Y\n# TYPE y gauge\n"
              "y{meter=\"0\",panel=\"1\"} 2.5\ny{meter=\"1\",panel=\"1\"} 2.5\n");
}
