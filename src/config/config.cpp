#include "config/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace openbcpm {

ConfigError::ConfigError(std::string file, int line, std::string key, std::string reason)
    : std::runtime_error(file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " +
                         (key.empty() ? "" : key + ": ") + reason),
      file_(std::move(file)),
      line_(line),
      key_(std::move(key)),
      reason_(std::move(reason)) {}

namespace {

class Parser {
  public:
    explicit Parser(std::string origin) : origin_(std::move(origin)) {}

    [[noreturn]] void fail(const toml::node* node, const std::string& key,
                           const std::string& reason) const {
        const int line = node ? static_cast<int>(node->source().begin.line) : 0;
        throw ConfigError(origin_, line, key, reason);
    }

    const toml::table& table(const toml::node& n, const std::string& key) const {
        if (const auto* t = n.as_table()) return *t;
        fail(&n, key, "must be a table");
    }

    int64_t integer(const toml::node& n, const std::string& key) const {
        if (auto v = n.value_exact<int64_t>()) return *v;
        fail(&n, key, "must be an integer");
    }

    double number(const toml::node& n, const std::string& key) const {
        if (auto v = n.value_exact<double>()) return *v;
        if (auto v = n.value_exact<int64_t>()) return static_cast<double>(*v);
        fail(&n, key, "must be a number");
    }

    double number_in(const toml::node& n, const std::string& key, double lo, double hi) const {
        const double v = number(n, key);
        if (!(v >= lo && v <= hi)) {
            std::ostringstream os;
            os << "must be between " << lo << " and " << hi;
            fail(&n, key, os.str());
        }
        return v;
    }

    std::string string(const toml::node& n, const std::string& key) const {
        if (auto v = n.value_exact<std::string>()) return *v;
        fail(&n, key, "must be a string");
    }

    bool boolean(const toml::node& n, const std::string& key) const {
        if (auto v = n.value_exact<bool>()) return *v;
        fail(&n, key, "must be true or false");
    }

    // Writes a setting through the one validated path every face uses.
    void set(Config& cfg, const toml::node& n, const std::string& key, const std::string& setting,
             const SettingValue& value) const {
        const SettingDef* def = find_setting(setting);
        if (!def) fail(&n, key, "unknown setting");
        // A setting of a panel the model lacks is held, not an error: the model may grow.
        if (def->panel <= cfg.settings.model.panels) {
            // Type and range now; how the value fits the others (a logical circuit
            // and the strip configuration, the device IDs) once the whole file is
            // read, so that the order of the keys does not matter.
            SettingDef alone = *def;
            alone.check = nullptr;
            refuse_unless_ok(n, key, *def, validate_setting(cfg.settings, alone, value));
            if (def->check) consistency_[setting] = {&n, key, def, value};
        }
        def->set(cfg.settings, value);
        cfg.explicit_settings[setting] = value;
    }

    [[noreturn]] void refuse(const toml::node& n, const std::string& key, const SettingDef& def,
                             const WriteResult& r) const {
        std::string why = r.message;
        const auto colon = why.find(": ");
        if (colon != std::string::npos && why.compare(0, colon, def.key) == 0)
            why = why.substr(colon + 2);
        else if (why.rfind(def.key + " ", 0) == 0)
            why = why.substr(def.key.size() + 1);
        fail(&n, key, why);
    }

    void refuse_unless_ok(const toml::node& n, const std::string& key, const SettingDef& def,
                          const WriteResult& r) const {
        if (!r.ok()) refuse(n, key, def, r);
    }

    // The settings of the file as a whole: each one that depends on others is
    // checked against the final values of all of them.
    void check_consistency(const Config& cfg) const {
        for (const auto& [setting, c] : consistency_) {
            if (auto why = c.def->check(cfg.settings, c.value))
                refuse(*c.node, c.key, *c.def, {WriteError::Inconsistent, *why});
        }
        consistency_.clear();
    }

    void set_from_node(Config& cfg, const toml::node& n, const std::string& key,
                       const std::string& setting) const {
        const SettingDef* def = find_setting(setting);
        if (!def) fail(&n, key, "unknown key");
        if (def->is_string) {
            set(cfg, n, key, setting, string(n, key));
        } else if (auto b = n.value_exact<bool>()) {
            set(cfg, n, key, setting, int64_t{*b ? 1 : 0});
        } else {
            set(cfg, n, key, setting, integer(n, key));
        }
    }

    std::optional<Phase> phase(const toml::node& n, const std::string& key) const {
        const std::string s = string(n, key);
        if (s == "A" || s == "a") return Phase::A;
        if (s == "B" || s == "b") return Phase::B;
        if (s == "C" || s == "c") return Phase::C;
        fail(&n, key, "must be \"A\", \"B\" or \"C\"");
    }

    std::vector<Harmonic> harmonics(const toml::node& n, const std::string& key) const {
        const auto* arr = n.as_array();
        if (!arr)
            fail(&n, key, "must be an array of [order, fraction] or [order, fraction, phase_deg]");
        std::vector<Harmonic> out;
        out.reserve(arr->size());
        for (const auto& item : *arr) {
            const auto* h = item.as_array();
            if (!h || h->size() < 2 || h->size() > 3) {
                fail(&item, key,
                     "each harmonic is [order, fraction] or [order, fraction, phase_deg]");
            }
            Harmonic x;
            x.order = static_cast<int>(integer(*h->get(0), key));
            if (x.order < 2 || x.order > 25) fail(&item, key, "harmonic order must be 2 to 25");
            x.fraction = number_in(*h->get(1), key, 0.0, 1.0);
            if (h->size() == 3) x.phase_deg = number(*h->get(2), key);
            out.push_back(x);
        }
        if (out.size() > 7) fail(&n, key, "at most 7 harmonics");
        return out;
    }

    // A THD figure spread over the odd harmonics the way switch-mode supplies draw them.
    static std::vector<Harmonic> thd_harmonics(double thd) {
        const std::array<std::pair<int, double>, 4> shape{
            {{3, 0.8}, {5, 0.5}, {7, 0.3}, {9, 0.15}}};
        double norm = 0.0;
        for (auto [o, w] : shape)
            norm += w * w;
        std::vector<Harmonic> out;
        out.reserve(shape.size());
        for (auto [o, w] : shape)
            out.push_back({o, thd * w / std::sqrt(norm), 0.0});
        return out;
    }

    void parse_device(Config& cfg, const toml::table& t) const {
        for (auto&& [k, v] : t) {
            const std::string key = "device." + std::string(k.str());
            if (k == "channels") {
                const auto m = ModelInfo::from_channels(static_cast<int>(integer(v, key)));
                if (!m) fail(&v, key, "must be 24, 36, 42, 48, 72 or 84");
                cfg.settings.model = *m;
            } else if (k == "serial_number") {
                int64_t sn = 0;
                if (auto s = v.value_exact<std::string>()) {
                    try {
                        size_t used = 0;
                        sn = static_cast<int64_t>(std::stoull(*s, &used, 16));
                        if (used != s->size()) throw std::invalid_argument("tail");
                    } catch (const std::exception&) {
                        fail(&v, key, "must be up to 8 hex digits");
                    }
                } else {
                    sn = integer(v, key);
                }
                if (sn < 0 || sn > 0xFFFFFFFFll) fail(&v, key, "must fit in 32 bits");
                cfg.settings.identity.serial_number = static_cast<uint32_t>(sn);
            } else if (k == "firmware_rs" || k == "firmware_os") {
                const int64_t fw = integer(v, key);
                if (fw < 0 || fw > 32767) fail(&v, key, "must be 0 to 32767");
                (k == "firmware_rs" ? cfg.settings.identity.firmware_rs
                                    : cfg.settings.identity.firmware_os) = static_cast<int>(fw);
            } else {
                fail(&v, key, "unknown key");
            }
        }
    }

    void parse_gateway(Config& cfg, const toml::table& t) const {
        for (auto&& [k, v] : t) {
            const std::string name(k.str());
            const std::string key = "gateway." + name;
            if (name == "modbus_parity") {
                const auto p = parity_from_string(string(v, key));
                if (!p) fail(&v, key, "must be \"none\", \"even\" or \"odd\"");
                set(cfg, v, key, "gateway.modbus_parity", int64_t{static_cast<int>(*p)});
            } else {
                set_from_node(cfg, v, key, "gateway." + name);
            }
        }
    }

    // [network], [modbus], [bacnet], [snmp], [web], [serial]: keys map onto gateway settings.
    void parse_face(Config& cfg, const std::string& section, const toml::table& t) const {
        static const std::map<std::string, std::string> names{
            {"network.ip_address", "gateway.ip_address"},
            {"network.netmask", "gateway.netmask"},
            {"network.default_gateway", "gateway.default_gateway"},
            {"modbus.tcp_port", "gateway.modbus_tcp_port"},
            {"bacnet.ip_port", "gateway.bacnet_ip_port"},
            {"bacnet.device_id_offset", "gateway.device_id_offset"},
            {"bacnet.virt_router_net", "gateway.virt_router_net"},
            {"bacnet.bbmd_enable", "gateway.bbmd_enable"},
            {"bacnet.udp_gso", "gateway.bacnet_udp_gso"},
            {"bacnet.mstp_max_master", "gateway.mstp_max_master"},
            {"bacnet.mstp_mac_addr", "gateway.mstp_mac_addr"},
            {"bacnet.password", "gateway.bacnet_password"},
            {"snmp.port", "gateway.snmp_port"},
            {"snmp.notif_port", "gateway.snmp_notif_port"},
            {"snmp.notif_ip", "gateway.snmp_notif_ip"},
            {"snmp.read_community", "gateway.read_community"},
            {"snmp.write_community", "gateway.write_community"},
            {"snmp.trap_community", "gateway.trap_community"},
            {"web.port", "gateway.web_port"},
            {"serial.device", "gateway.serial_device"},
            {"serial.baud", "gateway.upstream_baud"},
        };
        for (auto&& [k, v] : t) {
            const std::string key = section + "." + std::string(k.str());
            if (section == "modbus" && k == "max_connections") {
                const int64_t n = integer(v, key);
                if (n < 1 || n > 1024) fail(&v, key, "must be 1 to 1024");
                cfg.modbus.max_connections = static_cast<int>(n);
                continue;
            }
            if (section == "modbus" && k == "idle_timeout") {
                const int64_t n = integer(v, key);
                if (n < 0 || n > 86400) fail(&v, key, "must be 0 (never) to 86400 seconds");
                cfg.modbus.idle_timeout_s = static_cast<int>(n);
                continue;
            }
            if (section == "web" && parse_web(cfg.web, k.str(), v, key)) continue;
            auto it = names.find(key);
            if (it == names.end()) fail(&v, key, "unknown key");
            set_from_node(cfg, v, key, it->second);
        }
    }

    // The [web] keys that are not gateway settings; false for the others.
    bool parse_web(WebConfig& web, std::string_view name, const toml::node& v,
                   const std::string& key) const {
        if (name == "max_connections" || name == "max_connections_per_address") {
            const int64_t n = integer(v, key);
            if (n < 1 || n > 4096) fail(&v, key, "must be 1 to 4096");
            (name == "max_connections" ? web.max_connections : web.max_connections_per_address) =
                static_cast<int>(n);
            return true;
        }
        if (name == "allow_plain_http") {
            web.allow_plain_http = boolean(v, key);
            return true;
        }
        if (name != "host_names") return false;
        const auto* arr = v.as_array();
        if (!arr) fail(&v, key, "must be an array of host names");
        web.host_names.clear();
        for (const auto& item : *arr) {
            const std::string host = string(item, key);
            // A DNS name or an IP address, as a browser puts it in a URL.
            const bool ok = !host.empty() && host.size() <= 253 &&
                            host.find_first_not_of(
                                "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == std::string::npos;
            if (!ok) fail(&item, key, "\"" + host + "\" is not a host name or address");
            web.host_names.push_back(host);
        }
        return true;
    }

    void parse_panel(Config& cfg, int panel, const toml::table& t) const {
        const std::string pk = "panel." + std::to_string(panel);
        // Bulk per-channel values first, so [[panel.N.channel]] entries override them.
        auto bulk = [&](const char* name, const char* setting, int from, int to) {
            if (const toml::node* n = t.get(name)) {
                const int64_t value = integer(*n, pk + "." + name);
                for (int c = from; c <= to; ++c) {
                    set(cfg, *n, pk + "." + name, pk + "." + setting + "." + std::to_string(c),
                        value);
                }
            }
        };
        bulk("ct_size", "ct_size", 1, kMaxBranchChannels);
        bulk("aux_ct_size", "ct_size", kFirstAuxChannel, kChannelsPerPanel);
        bulk("breaker_size", "breaker_size", 1, kMaxBranchChannels);
        bulk("aux_breaker_size", "breaker_size", kFirstAuxChannel, kChannelsPerPanel);

        int user_bits_value = cfg.settings.panel(panel).user_defined;
        bool user_bits_set = false;
        const toml::node* user_bits_node = nullptr;
        auto flag = [&](const toml::node& v, const std::string& key, uint16_t bit) {
            user_bits_value = boolean(v, key) ? (user_bits_value | bit) : (user_bits_value & ~bit);
            user_bits_set = true;
            user_bits_node = &v;
        };
        for (auto&& [k, v] : t) {
            const std::string name(k.str());
            const std::string key = pk + "." + name;
            if (name == "ct_size" || name == "aux_ct_size" || name == "breaker_size" ||
                name == "aux_breaker_size") {
                continue;
            }
            if (name == "configuration") {
                if (auto s = v.value_exact<std::string>()) {
                    const auto c = strip_configuration_from_string(*s);
                    if (!c) fail(&v, key, "must be top-feed, bottom-feed, sequential or odd-even");
                    set(cfg, v, key, pk + ".configuration", int64_t{static_cast<int>(*c)});
                } else {
                    set(cfg, v, key, pk + ".configuration", integer(v, key));
                }
            } else if (name == "user_phase_assignment") {
                flag(v, key, user_bits::kUserPhaseAssignment);
            } else if (name == "relative_phase_angles") {
                flag(v, key, user_bits::kRelativePhaseAngles);
            } else if (name == "rtc_demand") {
                flag(v, key, user_bits::kRtcDemandInterval);
            } else if (name == "legacy_multiphase_map") {
                flag(v, key, user_bits::kLegacyMultiPhaseMap);
            } else if (name == "channel") {
                const auto* arr = v.as_array();
                if (!arr) fail(&v, key, "must be an array of tables ([[" + key + "]])");
                for (const auto& item : *arr)
                    parse_channel(cfg, panel, table(item, key));
            } else {
                set_from_node(cfg, v, key, pk + "." + name);
            }
        }
        if (user_bits_set)
            set(cfg, *user_bits_node, pk, pk + ".user_defined", int64_t{user_bits_value});
    }

    void parse_channel(Config& cfg, int panel, const toml::table& t) const {
        const std::string pk = "panel." + std::to_string(panel);
        const toml::node* ch = t.get("channel");
        if (!ch) fail(&t, pk + ".channel", "each entry needs channel = N");
        const int64_t c = integer(*ch, pk + ".channel.channel");
        if (c < 1 || c > kChannelsPerPanel) fail(ch, pk + ".channel.channel", "must be 1 to 46");
        const std::string cs = std::to_string(c);
        for (auto&& [k, v] : t) {
            const std::string name(k.str());
            const std::string key = pk + ".channel." + name;
            if (name == "channel") continue;
            if (name == "phase") {
                const Phase p = *phase(v, key);
                set(cfg, v, key, pk + ".phase." + cs, int64_t{static_cast<int>(p)});
            } else if (name == "ct_size" || name == "breaker_size" || name == "logical_circuit") {
                set(cfg, v, key, pk + "." + name + "." + cs, integer(v, key));
            } else {
                fail(&v, key, "unknown key (ct_size, breaker_size, phase, logical_circuit)");
            }
        }
    }

    LoadSchedule schedule(const toml::table& t, const std::string& pk) const {
        LoadSchedule s;
        const toml::node* kind = t.get("schedule");
        if (!kind) return s;
        const std::string k = string(*kind, pk + ".schedule");
        if (k == "constant") {
            s.kind = ScheduleKind::Constant;
        } else if (k == "daily") {
            s.kind = ScheduleKind::Daily;
            const toml::node* d = t.get("daily");
            if (!d || !d->as_array())
                fail(kind, pk + ".daily", "a daily schedule needs daily = [24 multipliers]");
            for (const auto& x : *d->as_array())
                s.daily.push_back(number_in(x, pk + ".daily", 0.0, 10.0));
            if (s.daily.size() != 24) fail(d, pk + ".daily", "must hold 24 hourly multipliers");
        } else if (k == "steps") {
            s.kind = ScheduleKind::Steps;
            const toml::node* d = t.get("steps");
            if (!d || !d->as_array())
                fail(kind, pk + ".steps", "a steps schedule needs steps = [[seconds, amps], ...]");
            for (const auto& x : *d->as_array()) {
                const auto* pair = x.as_array();
                if (!pair || pair->size() != 2)
                    fail(&x, pk + ".steps", "each step is [seconds, amps]");
                s.steps.emplace_back(number_in(*pair->get(0), pk + ".steps", 0.0, 1e9),
                                     number_in(*pair->get(1), pk + ".steps", 0.0, 10000.0));
            }
        } else if (k == "random-walk") {
            s.kind = ScheduleKind::RandomWalk;
            if (const toml::node* n = t.get("walk_sigma"))
                s.walk_sigma = number_in(*n, pk + ".walk_sigma", 0.0, 1.0);
            if (const toml::node* n = t.get("walk_min"))
                s.walk_min = number_in(*n, pk + ".walk_min", 0.0, 10.0);
            if (const toml::node* n = t.get("walk_max"))
                s.walk_max = number_in(*n, pk + ".walk_max", 0.0, 10.0);
            if (s.walk_min > s.walk_max) fail(kind, pk + ".walk_min", "must not exceed walk_max");
        } else if (k == "inrush") {
            s.kind = ScheduleKind::Inrush;
            if (const toml::node* n = t.get("inrush_multiplier")) {
                s.inrush_multiplier = number_in(*n, pk + ".inrush_multiplier", 1.0, 20.0);
            }
            if (const toml::node* n = t.get("inrush_tau"))
                s.inrush_tau = number_in(*n, pk + ".inrush_tau", 0.001, 60.0);
            if (const toml::node* n = t.get("inrush_at"))
                s.inrush_at = number_in(*n, pk + ".inrush_at", 0.0, 1e9);
        } else {
            fail(kind, pk + ".schedule", "must be constant, daily, steps, random-walk or inrush");
        }
        return s;
    }

    void parse_load(Config& cfg, const toml::table& t, size_t index) const {
        const std::string pk = "simulation.load[" + std::to_string(index) + "]";
        static const std::set<std::string> known{
            "panel",      "channel",  "channels",  "amps",
            "pf",         "thd",      "harmonics", "noise",
            "phase",      "schedule", "daily",     "steps",
            "walk_sigma", "walk_min", "walk_max",  "inrush_multiplier",
            "inrush_tau", "inrush_at"};
        for (auto&& [k, v] : t) {
            if (!known.count(std::string(k.str())))
                fail(&v, pk + "." + std::string(k.str()), "unknown key");
        }
        LoadSpec base;
        if (const toml::node* n = t.get("panel")) {
            base.panel = static_cast<int>(integer(*n, pk + ".panel"));
            if (base.panel < 1 || base.panel > kMaxPanels) fail(n, pk + ".panel", "must be 1 or 2");
        }
        if (const toml::node* n = t.get("amps"))
            base.amps = number_in(*n, pk + ".amps", 0.0, 10000.0);
        if (const toml::node* n = t.get("pf")) {
            base.pf = number_in(*n, pk + ".pf", -1.0, 1.0);
            if (base.pf == 0.0) fail(n, pk + ".pf", "must not be 0 (use a small value)");
        }
        if (const toml::node* n = t.get("thd"))
            base.harmonics = thd_harmonics(number_in(*n, pk + ".thd", 0.0, 1.0));
        if (const toml::node* n = t.get("harmonics"))
            base.harmonics = harmonics(*n, pk + ".harmonics");
        if (const toml::node* n = t.get("noise"))
            base.noise = number_in(*n, pk + ".noise", 0.0, 1.0);
        if (const toml::node* n = t.get("phase")) base.phase = phase(*n, pk + ".phase");
        base.schedule = schedule(t, pk);

        std::vector<int> channels;
        if (const toml::node* n = t.get("channel"))
            channels.push_back(static_cast<int>(integer(*n, pk + ".channel")));
        if (const toml::node* n = t.get("channels")) {
            const auto* arr = n->as_array();
            if (!arr) fail(n, pk + ".channels", "must be an array of channel numbers");
            for (const auto& x : *arr)
                channels.push_back(static_cast<int>(integer(x, pk + ".channels")));
        }
        if (channels.empty()) fail(&t, pk, "needs channel = N or channels = [...]");
        for (int c : channels) {
            if (c < 1 || c > kChannelsPerPanel - 1) {
                fail(t.get("channel") ? t.get("channel") : t.get("channels"), pk + ".channel",
                     "must be 1 to 45 (aux 4 reads the neutral, it carries no load of its own)");
            }
            LoadSpec l = base;
            l.channel = c;
            cfg.simulation.loads.push_back(std::move(l));
        }
    }

    void parse_event(Config& cfg, const toml::table& t, size_t index) const {
        const std::string pk = "simulation.event[" + std::to_string(index) + "]";
        static const std::set<std::string> known{"at",    "action",   "panel",    "channel",
                                                 "amps",  "pf",       "duration", "magnitude",
                                                 "phase", "frequency"};
        for (auto&& [k, v] : t) {
            if (!known.count(std::string(k.str())))
                fail(&v, pk + "." + std::string(k.str()), "unknown key");
        }
        ScenarioEvent e;
        const toml::node* at = t.get("at");
        if (!at) fail(&t, pk + ".at", "each event needs at = <simulated seconds>");
        e.at = number_in(*at, pk + ".at", 0.0, 1e9);
        const toml::node* action = t.get("action");
        if (!action) fail(&t, pk + ".action", "each event needs an action");
        const std::string a = string(*action, pk + ".action");
        static const std::map<std::string, ScenarioAction> actions{
            {"set-load", ScenarioAction::SetLoad},
            {"trip", ScenarioAction::Trip},
            {"restore", ScenarioAction::Restore},
            {"ramp", ScenarioAction::Ramp},
            {"sag", ScenarioAction::Sag},
            {"swell", ScenarioAction::Swell},
            {"set-frequency", ScenarioAction::SetFrequency}};
        auto it = actions.find(a);
        if (it == actions.end()) {
            fail(action, pk + ".action",
                 "must be set-load, trip, restore, ramp, sag, swell or set-frequency");
        }
        e.action = it->second;
        if (const toml::node* n = t.get("panel")) {
            e.panel = static_cast<int>(integer(*n, pk + ".panel"));
            if (e.panel < 1 || e.panel > kMaxPanels) fail(n, pk + ".panel", "must be 1 or 2");
        }
        const bool needs_channel =
            e.action == ScenarioAction::SetLoad || e.action == ScenarioAction::Trip ||
            e.action == ScenarioAction::Restore || e.action == ScenarioAction::Ramp;
        if (needs_channel) {
            const toml::node* n = t.get("channel");
            if (!n) fail(&t, pk + ".channel", "this action needs channel = N");
            e.channel = static_cast<int>(integer(*n, pk + ".channel"));
            if (e.channel < 1 || e.channel > kChannelsPerPanel - 1)
                fail(n, pk + ".channel", "must be 1 to 45");
        }
        if (e.action == ScenarioAction::SetLoad || e.action == ScenarioAction::Ramp) {
            const toml::node* n = t.get("amps");
            if (!n) fail(&t, pk + ".amps", "this action needs amps");
            e.amps = number_in(*n, pk + ".amps", 0.0, 10000.0);
        }
        if (const toml::node* n = t.get("pf")) e.pf = number_in(*n, pk + ".pf", -1.0, 1.0);
        if (const toml::node* n = t.get("duration"))
            e.duration = number_in(*n, pk + ".duration", 0.0, 1e9);
        if (e.action == ScenarioAction::Sag || e.action == ScenarioAction::Swell) {
            const toml::node* n = t.get("magnitude");
            if (!n)
                fail(&t, pk + ".magnitude", "sag and swell need magnitude (0.7 = 70 % of nominal)");
            e.magnitude = number_in(*n, pk + ".magnitude", 0.0, 2.0);
            if (const toml::node* p = t.get("phase")) {
                const std::string s = string(*p, pk + ".phase");
                if (s == "all")
                    e.phase_mask = 0b111;
                else
                    e.phase_mask = 1 << static_cast<int>(*phase(*p, pk + ".phase"));
            }
        }
        if (e.action == ScenarioAction::SetFrequency) {
            const toml::node* n = t.get("frequency");
            if (!n) fail(&t, pk + ".frequency", "set-frequency needs frequency");
            e.frequency = number_in(*n, pk + ".frequency", 40.0, 70.0);
        }
        cfg.simulation.events.push_back(e);
    }

    void parse_simulation(Config& cfg, const toml::table& t) const {
        SimulationConfig& s = cfg.simulation;
        for (auto&& [k, v] : t) {
            const std::string name(k.str());
            const std::string key = "simulation." + name;
            if (name == "seed") {
                const int64_t seed = integer(v, key);
                if (seed < 0) fail(&v, key, "must not be negative");
                s.seed = static_cast<uint64_t>(seed);
            } else if (name == "speed") {
                s.speed = number_in(v, key, 0.001, 100000.0);
            } else if (name == "wiring") {
                const auto w = wiring_from_string(string(v, key));
                if (!w)
                    fail(&v, key,
                         "must be wye, split-phase, single-phase, delta or high-leg-delta");
                s.wiring = *w;
            } else if (name == "voltage_ln") {
                s.voltage_ln = number_in(v, key, 90.0, 300.0);
            } else if (name == "frequency") {
                s.frequency = number_in(v, key, 45.0, 65.0);
            } else if (name == "imbalance") {
                const auto* arr = v.as_array();
                if (!arr || arr->size() != 3)
                    fail(&v, key, "must be [a, b, c] magnitude multipliers");
                for (size_t i = 0; i < 3; ++i)
                    s.imbalance[i] = number_in(*arr->get(i), key, 0.5, 1.5);
            } else if (name == "voltage_thd") {
                s.voltage_harmonics = thd_harmonics(number_in(v, key, 0.0, 0.5));
            } else if (name == "voltage_harmonics") {
                s.voltage_harmonics = harmonics(v, key);
            } else if (name == "voltage_noise") {
                s.voltage_noise = number_in(v, key, 0.0, 0.1);
            } else if (name == "current_noise") {
                s.current_noise = number_in(v, key, 0.0, 0.1);
            } else if (name == "start_hour") {
                s.start_time_of_day = number_in(v, key, 0.0, 24.0);
            } else if (name == "load") {
                const auto* arr = v.as_array();
                if (!arr) fail(&v, key, "use [[simulation.load]] tables");
                size_t i = 0;
                for (const auto& item : *arr)
                    parse_load(cfg, table(item, key), i++);
            } else if (name == "event") {
                const auto* arr = v.as_array();
                if (!arr) fail(&v, key, "use [[simulation.event]] tables");
                size_t i = 0;
                for (const auto& item : *arr)
                    parse_event(cfg, table(item, key), i++);
            } else {
                fail(&v, key, "unknown key");
            }
        }
    }

    void parse_source(Config& cfg, const toml::table& t) const {
        for (auto&& [k, v] : t) {
            const std::string key = "source." + std::string(k.str());
            if (k == "kind") {
                cfg.source.kind = string(v, key);
                if (cfg.source.kind != "simulator" && cfg.source.kind != "replay") {
                    fail(&v, key, "must be simulator or replay");
                }
            } else if (k == "file") {
                cfg.source.replay_file = string(v, key);
            } else if (k == "loop") {
                cfg.source.replay_loop = boolean(v, key);
            } else {
                fail(&v, key, "unknown key");
            }
        }
        if (cfg.source.kind == "replay" && cfg.source.replay_file.empty()) {
            fail(&t, "source.file", "a replay source needs file = \"recording.obr\"");
        }
    }

    void parse_storage(Config& cfg, const toml::table& t) const {
        for (auto&& [k, v] : t) {
            const std::string key = "storage." + std::string(k.str());
            if (k == "checkpoint_ms") {
                const int64_t ms = integer(v, key);
                if (ms < 50 || ms > 1000)
                    fail(&v, key,
                         "must be 50 to 1000 (energy is checkpointed at least every second)");
                cfg.storage.checkpoint_ms = static_cast<int>(ms);
            } else if (k == "event_history") {
                const int64_t n = integer(v, key);
                if (n < 10 || n > 1000000) fail(&v, key, "must be 10 to 1000000");
                cfg.storage.event_history = static_cast<int>(n);
            } else if (k == "backup_minutes") {
                const int64_t n = integer(v, key);
                if (n < 1 || n > 1440) fail(&v, key, "must be 1 to 1440 (minutes)");
                cfg.storage.backup_minutes = static_cast<int>(n);
            } else {
                fail(&v, key, "unknown key");
            }
        }
    }

    void parse_trends(Config& cfg, const toml::table& t) const {
        for (auto&& [k, v] : t) {
            const std::string key = "trends." + std::string(k.str());
            if (k == "memory_minutes") {
                const int64_t n = integer(v, key);
                if (n < 1 || n > 1440) fail(&v, key, "must be 1 to 1440 (minutes)");
                cfg.trends.memory_minutes = static_cast<int>(n);
            } else if (k == "keep_days") {
                const int64_t n = integer(v, key);
                if (n < 1 || n > 3650) fail(&v, key, "must be 1 to 3650 (days)");
                cfg.trends.keep_days = static_cast<int>(n);
            } else if (k == "max_mb") {
                const int64_t n = integer(v, key);
                if (n < 1 || n > 65536) fail(&v, key, "must be 1 to 65536 (MiB)");
                cfg.trends.max_mb = static_cast<int>(n);
            } else {
                fail(&v, key, "unknown key");
            }
        }
    }

    void parse_faces(Config& cfg, const toml::table& t) const {
        for (auto&& [k, v] : t) {
            const std::string key = "faces." + std::string(k.str());
            std::optional<bool>* slot = nullptr;
            if (k == "modbus_tcp")
                slot = &cfg.faces.modbus_tcp;
            else if (k == "modbus_rtu")
                slot = &cfg.faces.modbus_rtu;
            else if (k == "bacnet_ip")
                slot = &cfg.faces.bacnet_ip;
            else if (k == "bacnet_mstp")
                slot = &cfg.faces.bacnet_mstp;
            else if (k == "snmp")
                slot = &cfg.faces.snmp;
            else if (k == "web")
                slot = &cfg.faces.web;
            else
                fail(&v, key,
                     "unknown face (modbus_tcp, modbus_rtu, bacnet_ip, bacnet_mstp, snmp, web)");
            *slot = boolean(v, key);
        }
    }

    toml::table parse_toml(std::string_view text) const {
        try {
            return toml::parse(text, origin_);
        } catch (const toml::parse_error& e) {
            throw ConfigError(origin_, static_cast<int>(e.source().begin.line), "",
                              std::string(e.description()));
        }
    }

    Config parse(std::string_view text) const {
        toml::table root = parse_toml(text);
        std::shared_ptr<FleetConfig> fleet;
        if (const toml::node* f = root.get("fleet")) {
            fleet = std::make_shared<FleetConfig>(parse_fleet(table(*f, "fleet")));
            fleet->text = std::string(text);
            root.erase("fleet");
        }
        Config cfg = parse_table(root);
        if (fleet) {
            cfg.fleet = fleet;
            // Everything is checked now: the last meter of the template's
            // derivations, and every meter with an override.
            (void)derive_meter(cfg, *fleet, fleet->count - 1, nullptr);
            for (const auto& [index, line] : fleet->overrides)
                (void)meter(cfg, index);
            for (const FleetEvent& e : fleet->events)
                (void)meter(cfg, e.meters.front());
        }
        return cfg;
    }

    FleetConfig parse_fleet(const toml::table& t) const {
        FleetConfig f;
        f.line = static_cast<int>(t.source().begin.line);
        bool address = false;
        for (auto&& [k, v] : t) {
            const std::string name(k.str());
            const std::string key = "fleet." + name;
            if (name == "count") {
                const int64_t n = integer(v, key);
                if (n < 1 || n > 10000) fail(&v, key, "must be 1 to 10000");
                f.count = static_cast<int>(n);
                f.line = static_cast<int>(v.source().begin.line);
            } else if (name == "first_address") {
                const std::string a = string(v, key);
                parse_ipv4(v, key, a, f.first_address);
                address = true;
            } else if (name == "acquisition_threads") {
                const int64_t n = integer(v, key);
                if (n < 1 || n > 256) fail(&v, key, "must be 1 to 256");
                f.acquisition_threads = static_cast<int>(n);
            } else if (name == "event_loops") {
                const int64_t n = integer(v, key);
                if (n < 1 || n > 64) fail(&v, key, "must be 1 to 64");
                f.event_loops = static_cast<int>(n);
            } else if (name == "meter") {
                const auto* arr = v.as_array();
                if (!arr) fail(&v, key, "use [[fleet.meter]] tables");
                for (const auto& item : *arr) {
                    const toml::table& m = table(item, key);
                    const toml::node* index = m.get("index");
                    if (!index) fail(&m, key + ".index", "each [[fleet.meter]] needs index = k");
                    const int64_t i = integer(*index, key + ".index");
                    if (m.get("fleet"))
                        fail(m.get("fleet"), key + ".fleet", "a meter has no [fleet]");
                    if (!f.overrides
                             .emplace(static_cast<int>(std::clamp<int64_t>(i, -1, 1 << 20)),
                                      static_cast<int>(index->source().begin.line))
                             .second)
                        fail(index, key + ".index",
                             "meter " + std::to_string(i) + " is overridden twice");
                }
            } else if (name == "event") {
                const auto* arr = v.as_array();
                if (!arr) fail(&v, key, "use [[fleet.event]] tables");
                for (const auto& item : *arr) {
                    const toml::table& e = table(item, key);
                    FleetEvent fe;
                    fe.line = static_cast<int>(e.source().begin.line);
                    const toml::node* m = e.get("meters");
                    if (!m)
                        fail(&e, key + ".meters",
                             "each [[fleet.event]] needs meters = \"all\", \"a-b\" or [k, ...]");
                    meter_set(*m, key + ".meters", fe.meters);
                    if (const toml::node* st = e.get("stagger"))
                        fe.stagger = number_in(*st, key + ".stagger", 0.0, 86400.0);
                    f.events.push_back(std::move(fe));
                }
            } else {
                fail(&v, key,
                     "unknown key (count, first_address, acquisition_threads, event_loops, meter, "
                     "event)");
            }
        }
        if (!t.get("count")) fail(&t, "fleet.count", "[fleet] needs count = N (1 to 10000)");
        if (!address) fail(&t, "fleet.first_address", "[fleet] needs first_address = \"a.b.c.d\"");
        if (uint64_t{f.first_address} + static_cast<uint64_t>(f.count - 1) > 0xDFFFFFFFull)
            fail(t.get("count"), "fleet.count",
                 "the last meter's address would be past 223.255.255.255 (first_address " +
                     ipv4_text(f.first_address) + ")");
        for (const auto& [index, line] : f.overrides) {
            if (index < 0 || index >= f.count)
                throw ConfigError(origin_, line, "fleet.meter.index",
                                  "must be 0 to " + std::to_string(f.count - 1) + " (count - 1)");
        }
        for (FleetEvent& e : f.events) {
            if (e.meters.empty()) {  // "all"
                e.meters.resize(static_cast<size_t>(f.count));
                for (int k = 0; k < f.count; ++k)
                    e.meters[static_cast<size_t>(k)] = k;
            } else if (e.meters.back() >= f.count) {
                throw ConfigError(origin_, e.line, "fleet.event.meters",
                                  "meter " + std::to_string(e.meters.back()) +
                                      " is not in the site (0 to " + std::to_string(f.count - 1) +
                                      ")");
            }
        }
        return f;
    }

    // "all" (left empty: the whole site), "a-b", k, or an array of those.
    void meter_set(const toml::node& v, const std::string& key, std::vector<int>& out) const {
        auto one = [&](const toml::node& n) {
            if (n.is_integer()) {
                const int64_t k = integer(n, key);
                if (k < 0 || k > 9999) fail(&n, key, "a meter index is 0 to 9999");
                out.push_back(static_cast<int>(k));
                return;
            }
            const std::string text = string(n, key);
            const auto dash = text.find('-');
            int a = -1, b = -1;
            try {
                size_t used = 0;
                a = std::stoi(text.substr(0, dash), &used);
                if (used != dash && dash != std::string::npos) a = -1;
                b = dash == std::string::npos ? a : std::stoi(text.substr(dash + 1), &used);
                if (dash != std::string::npos && used != text.size() - dash - 1) b = -1;
            } catch (const std::exception&) {
                a = b = -1;
            }
            if (a < 0 || b < a || b > 9999)
                fail(&n, key, "\"" + text + "\" is not \"all\", \"a-b\" or a meter index");
            for (int k = a; k <= b; ++k)
                out.push_back(k);
        };
        if (const auto* s = v.as_string(); s && s->get() == "all") return;
        if (const auto* arr = v.as_array()) {
            if (arr->empty()) fail(&v, key, "names no meter");
            for (const auto& n : *arr)
                one(n);
        } else {
            one(v);
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
    }

    void parse_ipv4(const toml::node& v, const std::string& key, const std::string& a,
                    uint32_t& out) const {
        uint32_t value = 0;
        int parts = 0;
        size_t i = 0;
        while (parts < 4) {
            size_t j = i;
            while (j < a.size() && a[j] >= '0' && a[j] <= '9' && j - i < 4)
                ++j;
            if (j == i || j - i > 3) break;
            const int octet = std::stoi(a.substr(i, j - i));
            if (octet > 255) break;
            value = (value << 8) | static_cast<uint32_t>(octet);
            ++parts;
            i = j;
            if (parts < 4) {
                if (i >= a.size() || a[i] != '.') break;
                ++i;
            }
        }
        if (parts != 4 || i != a.size())
            fail(&v, key, "must be an IPv4 address such as \"127.0.1.1\"");
        if (value == 0 || (value >> 28) >= 14)
            fail(&v, key, "must be a unicast address (not 0.0.0.0, multicast or reserved)");
        out = value;
    }

    // Meter k: the template, or the file parsed again with its override merged in.
    Config meter(const Config& tmpl, int k) const {
        const FleetConfig& f = *tmpl.fleet;
        auto it = f.overrides.find(k);
        // The site's events this meter gets, each with its delay.
        std::vector<std::pair<size_t, double>> events;
        for (size_t i = 0; i < f.events.size(); ++i) {
            const FleetEvent& e = f.events[i];
            const auto pos = std::lower_bound(e.meters.begin(), e.meters.end(), k);
            if (pos != e.meters.end() && *pos == k)
                events.emplace_back(i, e.stagger * static_cast<double>(pos - e.meters.begin()));
        }
        if (it == f.overrides.end() && events.empty()) return derive_meter(tmpl, f, k, nullptr);
        toml::table root = parse_toml(f.text);
        toml::array site_events;
        if (auto* arr = root.at_path("fleet.event").as_array()) {
            for (const auto& [i, delay] : events) {
                // Moved, not copied: a moved node keeps its place in the file for errors.
                toml::table e = std::move(*(*arr)[i].as_table());
                e.erase("meters");
                e.erase("stagger");
                if (const auto at = e["at"].value<double>(); at && delay > 0.0)
                    e.insert_or_assign("at", *at + delay);
                site_events.push_back(std::move(e));
            }
        }
        toml::table over;
        if (auto* arr = root.at_path("fleet.meter").as_array()) {
            for (auto& item : *arr) {
                auto* m = item.as_table();
                if (m && m->get("index") && m->get("index")->value_exact<int64_t>() == k) {
                    over = std::move(*m);
                    break;
                }
            }
        }
        root.erase("fleet");
        over.erase("index");
        // What the override sets itself is not derived from k.
        const toml::table keys = over;  // a copy: only which keys, not where
        merge(root, std::move(over));
        if (!site_events.empty()) {
            // After the meter's own: [[fleet.event]] adds to its [[simulation.event]].
            if (!root.get("simulation")) root.insert("simulation", toml::table{});
            toml::table& sim = *root.get("simulation")->as_table();
            if (!sim.get("event")) sim.insert("event", toml::array{});
            toml::array* list = sim.get("event")->as_array();
            if (!list)
                fail(sim.get("event"), "simulation.event", "use [[simulation.event]] tables");
            for (auto& e : site_events)
                list->push_back(std::move(e));
        }
        Config cfg = parse_table(root);
        cfg.fleet = tmpl.fleet;
        return derive_meter(cfg, f, k, &keys);
    }

    // Tables key by key; any other value (arrays of tables too) replaced whole.
    static void merge(toml::table& into, toml::table&& from) {
        for (auto&& [k, v] : from) {
            toml::node* existing = into.get(k.str());
            if (v.is_table() && existing && existing->is_table()) {
                merge(*existing->as_table(), std::move(*v.as_table()));
            } else {
                into.insert_or_assign(k, std::move(v));
            }
        }
    }

    Config derive_meter(Config cfg, const FleetConfig& f, int k, const toml::table* own) const {
        auto given = [&](std::string_view path) {
            return own && own->at_path(path).node() != nullptr;
        };
        const std::string who = "meter " + std::to_string(k);
        auto refuse_meter = [&](const std::string& key, const std::string& why) {
            const auto it = f.overrides.find(k);
            throw ConfigError(origin_, it != f.overrides.end() ? it->second : f.line, key,
                              who + ": " + why);
        };
        auto put = [&](const std::string& setting, const SettingValue& value,
                       const std::string& key) {
            const SettingDef* def = find_setting(setting);
            if (!def) refuse_meter(key, "unknown setting " + setting);
            const WriteResult r = write_setting(cfg.settings, *def, value);
            if (!r.ok()) refuse_meter(key, r.message);
            cfg.explicit_settings[setting] = value;
        };
        const auto big_k = static_cast<uint64_t>(k);
        if (!given("device.serial_number")) {
            const uint64_t sn = cfg.settings.identity.serial_number + big_k;
            if (sn > 0xFFFFFFFFull)
                refuse_meter("device.serial_number",
                             "serial number + " + std::to_string(k) + " does not fit in 32 bits");
            cfg.settings.identity.serial_number = static_cast<uint32_t>(sn);
        }
        if (!given("bacnet.device_id_offset")) {
            const int64_t offset = cfg.settings.gateway.device_id_offset + 10 * int64_t{k};
            put("gateway.device_id_offset", offset, "bacnet.device_id_offset");
        } else if (auto why = device_id_problem(cfg.settings)) {
            refuse_meter("bacnet.device_id_offset", *why);
        }
        if (!given("simulation.seed")) cfg.simulation.seed += big_k;
        for (int p = 1; p <= cfg.settings.model.panels; ++p) {
            const std::string pk = "panel." + std::to_string(p) + ".location";
            if (given(pk)) continue;
            put(pk, cfg.settings.panel(p).location + " #" + std::to_string(k), pk);
        }
        if (!given("network.ip_address"))
            put("gateway.ip_address", ipv4_text(f.first_address + static_cast<uint32_t>(k)),
                "network.ip_address");
        cfg.fleet_index = k;
        return cfg;
    }

    static std::optional<std::string> device_id_problem(const Settings& s) {
        const SettingDef* def = find_setting("gateway.device_id_offset");
        const WriteResult r = validate_setting(s, *def, int64_t{s.gateway.device_id_offset});
        if (r.ok()) return std::nullopt;
        return r.message;
    }

    Config parse_table(const toml::table& root) const {
        Config cfg;
        cfg.origin = origin_;
        // [device] first: the model decides which panels exist.
        if (const toml::node* d = root.get("device")) parse_device(cfg, table(*d, "device"));
        for (auto&& [k, v] : root) {
            const std::string name(k.str());
            if (name == "device") continue;
            if (name == "gateway") {
                parse_gateway(cfg, table(v, name));
            } else if (name == "network" || name == "modbus" || name == "bacnet" ||
                       name == "snmp" || name == "web" || name == "serial") {
                parse_face(cfg, name, table(v, name));
            } else if (name == "panel") {
                for (auto&& [pk, pv] : table(v, name)) {
                    const std::string key = "panel." + std::string(pk.str());
                    if (pk != "1" && pk != "2")
                        fail(&pv, key, "panels are [panel.1] and [panel.2]");
                    const int panel = pk == "1" ? 1 : 2;
                    parse_panel(cfg, panel, table(pv, key));
                }
            } else if (name == "simulation") {
                parse_simulation(cfg, table(v, name));
            } else if (name == "source") {
                parse_source(cfg, table(v, name));
            } else if (name == "storage") {
                parse_storage(cfg, table(v, name));
            } else if (name == "trends") {
                parse_trends(cfg, table(v, name));
            } else if (name == "faces") {
                parse_faces(cfg, table(v, name));
            } else {
                fail(&v, name, "unknown section");
            }
        }
        check_consistency(cfg);
        for (int p = 1; p <= kMaxPanels; ++p) {
            cfg.simulation.panel_configuration[static_cast<size_t>(p - 1)] =
                cfg.settings.panel(p).configuration;
        }
        return cfg;
    }

  private:
    struct PendingCheck {
        const toml::node* node = nullptr;
        std::string key;
        const SettingDef* def = nullptr;
        SettingValue value;
    };

    std::string origin_;
    // Keyed by setting: a later key for the same setting (a per-channel entry
    // over a bulk value) replaces the earlier one.
    mutable std::map<std::string, PendingCheck> consistency_;
};

}  // namespace

Config parse_config(std::string_view text, const std::string& origin) {
    return Parser(origin).parse(text);
}

Config load_config_file(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw ConfigError(path, 0, "", "cannot read the file: it is a directory");
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int why = errno;
        throw ConfigError(
            path, 0, "",
            std::string("cannot open the file: ") + (why ? std::strerror(why) : "unknown reason"));
    }
    std::ostringstream os;
    os << in.rdbuf();
    if (in.bad())
        throw ConfigError(path, 0, "",
                          "cannot read the file: " + std::string(std::strerror(errno)));
    return parse_config(os.str(), path);
}

Config fleet_meter(const Config& fleet_template, int k) {
    if (!fleet_template.fleet) return fleet_template;
    if (k < 0 || k >= fleet_template.fleet->count)
        throw ConfigError(fleet_template.origin, fleet_template.fleet->line, "fleet.count",
                          "there is no meter " + std::to_string(k));
    return Parser(fleet_template.origin).meter(fleet_template, k);
}

std::vector<Config> expand_fleet(const Config& config) {
    std::vector<Config> out;
    if (!config.fleet) {
        out.push_back(config);
        return out;
    }
    out.reserve(static_cast<size_t>(config.fleet->count));
    for (int k = 0; k < config.fleet->count; ++k)
        out.push_back(fleet_meter(config, k));
    return out;
}

std::vector<int> shard_meters(int count, int shard, int shards) {
    std::vector<int> out;
    for (int k = shard; k < count; k += shards)
        out.push_back(k);
    return out;
}

std::pair<int, int> parse_shard(std::string_view text) {
    const auto slash = text.find('/');
    auto number = [](std::string_view s, const char* what) {
        int v = 0;
        if (s.empty() || s.size() > 5) throw std::invalid_argument(std::string(what) + " missing");
        for (char c : s) {
            if (c < '0' || c > '9')
                throw std::invalid_argument(std::string(what) + " must be a whole number");
            v = v * 10 + (c - '0');
        }
        return v;
    };
    if (slash == std::string_view::npos)
        throw std::invalid_argument("must be K/N (shard K of N, 0 <= K < N)");
    const int k = number(text.substr(0, slash), "K");
    const int n = number(text.substr(slash + 1), "N");
    if (n < 1 || n > 10000) throw std::invalid_argument("N must be 1 to 10000");
    if (k >= n) throw std::invalid_argument("K must be 0 to N - 1");
    return {k, n};
}

std::string ipv4_text(uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
           std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

Config default_config() {
    return parse_config(default_config_text(), "<embedded default>");
}

}  // namespace openbcpm
