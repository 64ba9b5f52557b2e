#include "core/settings.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <unordered_map>

namespace openbcpm {

PanelSettings::PanelSettings() {
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        const auto i = static_cast<size_t>(c - 1);
        const bool aux = is_aux_channel(c);
        ct_size[i] = aux ? 200 : 100;
        breaker_size[i] = aux ? 225 : 20;
        phase_assignment[i] = 0;
        // Each branch is its own single-phase circuit; aux 1..3 are the mains.
        logical_circuit[i] = aux ? (c == kNeutralAuxChannel ? 0 : kFirstAuxChannel) : c;
    }
}

std::string to_string(const SettingValue& v) {
    if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
    return std::get<std::string>(v);
}

std::string_view to_string(Parity p) {
    switch (p) {
        case Parity::None:
            return "none";
        case Parity::Even:
            return "even";
        case Parity::Odd:
            return "odd";
    }
    return "even";
}

std::optional<Parity> parity_from_string(std::string_view s) {
    if (s == "none") return Parity::None;
    if (s == "even") return Parity::Even;
    if (s == "odd") return Parity::Odd;
    return std::nullopt;
}

std::vector<int> logical_circuit_members(const PanelSettings& p, int circuit) {
    std::vector<int> out;
    if (circuit <= 0) return out;
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        if (p.logical_circuit[static_cast<size_t>(c - 1)] == circuit) out.push_back(c);
    }
    return out;
}

Phase effective_phase(const PanelSettings& p, int channel) {
    if (p.user_phase_assignment()) {
        return static_cast<Phase>(p.phase_assignment[static_cast<size_t>(channel - 1)] % 3);
    }
    if (auto aux = aux_phase(channel)) return *aux;
    if (channel == kNeutralAuxChannel) return Phase::A;
    return default_phase(p.configuration, channel);
}

int effective_router_net(const GatewaySettings& g) {
    return (g.virt_router_net >= 1 && g.virt_router_net <= 65534) ? g.virt_router_net : 5;
}

namespace {

using Get = std::function<SettingValue(const Settings&)>;
using Set = std::function<void(Settings&, const SettingValue&)>;

int64_t as_int(const SettingValue& v) {
    return std::get<int64_t>(v);
}

SettingDef int_def(std::string key, int panel, int channel, int64_t min, int64_t max, int64_t def,
                   std::string description, Get get, Set set) {
    SettingDef d;
    d.key = std::move(key);
    d.panel = panel;
    d.channel = channel;
    d.min = min;
    d.max = max;
    d.factory = def;
    d.description = std::move(description);
    d.get = std::move(get);
    d.set = std::move(set);
    return d;
}

SettingDef string_def(std::string key, int panel, size_t max_len, std::string def,
                      std::string description, Get get, Set set) {
    SettingDef d;
    d.key = std::move(key);
    d.panel = panel;
    d.is_string = true;
    d.max = static_cast<int64_t>(max_len);
    d.factory = std::move(def);
    d.description = std::move(description);
    d.get = std::move(get);
    d.set = std::move(set);
    return d;
}

// A per-panel integer member, addressed through a pointer to member.
SettingDef panel_int(int panel, const char* name, int PanelSettings::*member, int64_t min,
                     int64_t max, std::string description) {
    const PanelSettings defaults;
    return int_def(
        "panel." + std::to_string(panel) + "." + name, panel, 0, min, max, defaults.*member,
        std::move(description),
        [panel, member](const Settings& s) -> SettingValue {
            return int64_t{s.panel(panel).*member};
        },
        [panel, member](Settings& s, const SettingValue& v) {
            s.panel(panel).*member = static_cast<int>(as_int(v));
        });
}

SettingDef panel_channel_int(int panel, int channel, const char* name,
                             std::array<int, kChannelsPerPanel> PanelSettings::*member, int64_t min,
                             int64_t max, std::string description) {
    const PanelSettings defaults;
    const auto i = static_cast<size_t>(channel - 1);
    SettingDef d = int_def(
        "panel." + std::to_string(panel) + "." + name + "." + std::to_string(channel), panel,
        channel, min, max, (defaults.*member)[i], std::move(description),
        [panel, member, i](const Settings& s) -> SettingValue {
            return int64_t{(s.panel(panel).*member)[i]};
        },
        [panel, member, i](Settings& s, const SettingValue& v) {
            (s.panel(panel).*member)[i] = static_cast<int>(as_int(v));
        });
    return d;
}

SettingDef gateway_int(const char* name, int GatewaySettings::*member, int64_t min, int64_t max,
                       std::string description, bool restart = true) {
    const GatewaySettings defaults;
    SettingDef d = int_def(
        std::string("gateway.") + name, 0, 0, min, max, defaults.*member, std::move(description),
        [member](const Settings& s) -> SettingValue { return int64_t{s.gateway.*member}; },
        [member](Settings& s, const SettingValue& v) {
            s.gateway.*member = static_cast<int>(as_int(v));
        });
    d.restart_required = restart;
    return d;
}

SettingDef gateway_string(const char* name, std::string GatewaySettings::*member, size_t max_len,
                          std::string description, bool restart = true) {
    const GatewaySettings defaults;
    SettingDef d = string_def(
        std::string("gateway.") + name, 0, max_len, defaults.*member, std::move(description),
        [member](const Settings& s) -> SettingValue { return s.gateway.*member; },
        [member](Settings& s, const SettingValue& v) {
            s.gateway.*member = std::get<std::string>(v);
        });
    d.restart_required = restart;
    return d;
}

bool valid_ipv4(const std::string& s) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    char tail = 0;
    if (std::sscanf(s.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4) return false;
    return a < 256 && b < 256 && c < 256 && d < 256;
}

std::optional<std::string> ipv4_check(const Settings&, const SettingValue& v) {
    if (!valid_ipv4(std::get<std::string>(v))) return "not an IPv4 address (a.b.c.d)";
    return std::nullopt;
}

std::optional<std::string> printable_check(const Settings&, const SettingValue& v) {
    for (unsigned char ch : std::get<std::string>(v)) {
        if (ch < 0x20 || ch > 0x7e) return "only printable ASCII characters are allowed";
    }
    return std::nullopt;
}

// Logical circuit groups must stay 1..3 adjacent channels after the write.
std::optional<std::string> logical_circuit_check(int panel, int channel, const Settings& s,
                                                 const SettingValue& v) {
    const int circuit = static_cast<int>(as_int(v));
    if (circuit == 0) return std::nullopt;
    const PanelSettings& p = s.panel(panel);
    std::vector<int> members;
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        if (c == channel || p.logical_circuit[static_cast<size_t>(c - 1)] == circuit) {
            members.push_back(c);
        }
    }
    if (!can_form_logical_circuit(p.configuration, s.model.strip_size, members)) {
        return "logical circuit " + std::to_string(circuit) +
               " would not be 1 to 3 adjacent channels of this panel";
    }
    return std::nullopt;
}

// Panel 2's device is offset + address + 1: every device ID must stay a
// valid instance (4194303 is the wildcard, larger ones wrap).
std::optional<std::string> device_id_check(int64_t offset, int64_t modbus_address) {
    constexpr int64_t kMaxInstance = 4194302;
    if (offset + modbus_address + 1 > kMaxInstance) {
        return "device_id_offset + modbus_address + 1 (panel 2's BACnet device) must be at most " +
               std::to_string(kMaxInstance) + "; it would be " +
               std::to_string(offset + modbus_address + 1);
    }
    return std::nullopt;
}

std::vector<SettingDef> build_defs() {
    std::vector<SettingDef> defs;
    for (int panel = 1; panel <= kMaxPanels; ++panel) {
        const std::string pk = "panel." + std::to_string(panel) + ".";
        {
            SettingDef d = int_def(
                pk + "configuration", panel, 0, 0, 3, 0,
                "Strip configuration: 0 Top Feed, 1 Bottom Feed, 2 Sequential, 3 Odd/Even",
                [panel](const Settings& s) -> SettingValue {
                    return int64_t{static_cast<int>(s.panel(panel).configuration)};
                },
                [panel](Settings& s, const SettingValue& v) {
                    s.panel(panel).configuration = static_cast<StripConfiguration>(as_int(v));
                });
            defs.push_back(std::move(d));
        }
        {
            SettingDef d = string_def(
                pk + "location", panel, 127, "Location", "Location string (up to 127 characters)",
                [panel](const Settings& s) -> SettingValue { return s.panel(panel).location; },
                [panel](Settings& s, const SettingValue& v) {
                    s.panel(panel).location = std::get<std::string>(v);
                });
            d.check = printable_check;
            defs.push_back(std::move(d));
        }
        defs.push_back(panel_int(panel, "demand_subintervals", &PanelSettings::demand_subintervals,
                                 1, 6, "Number of sub-intervals per demand interval"));
        {
            SettingDef d =
                panel_int(panel, "subinterval_seconds", &PanelSettings::subinterval_seconds, 0,
                          32767, "Sub-interval length in seconds (0 = sync to comms)");
            d.check = [panel](const Settings& s,
                              const SettingValue& v) -> std::optional<std::string> {
                const int64_t x = as_int(v);
                if (x != 0 && x < 10) return "sub-interval must be 0 or 10 to 32767 seconds";
                if ((s.panel(panel).user_defined & user_bits::kRtcDemandInterval) && x > 3600) {
                    return "with the RTC as interval source the sub-interval is 10 to 3600 seconds";
                }
                return std::nullopt;
            };
            defs.push_back(std::move(d));
        }
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            defs.push_back(
                panel_channel_int(panel, c, "ct_size", &PanelSettings::ct_size, 0, 32767,
                                  is_aux_channel(c) ? "AUX CT size (A)" : "Branch CT size (A)"));
        }
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            defs.push_back(panel_channel_int(
                panel, c, "breaker_size", &PanelSettings::breaker_size, 0, 32767,
                is_aux_channel(c) ? "AUX breaker size (A)" : "Branch breaker size (A)"));
        }
        defs.push_back(panel_int(panel, "hh_delay", &PanelSettings::hh_delay, 0, 32767,
                                 "High-High latching event time delay (s)"));
        defs.push_back(panel_int(panel, "h_delay", &PanelSettings::h_delay, 0, 32767,
                                 "High latching event time delay (s)"));
        defs.push_back(panel_int(panel, "l_delay", &PanelSettings::l_delay, 0, 32767,
                                 "Low latching event time delay (s)"));
        defs.push_back(panel_int(panel, "ll_delay", &PanelSettings::ll_delay, 0, 32767,
                                 "Low-Low latching event time delay (s)"));
        defs.push_back(panel_int(panel, "on_time", &PanelSettings::on_time, 0, 32767,
                                 "Latching event ON time (s)"));
        defs.push_back(panel_int(panel, "off_time", &PanelSettings::off_time, 0, 32767,
                                 "Latching event time until OFF state declared (s)"));
        defs.push_back(panel_int(panel, "hh_threshold", &PanelSettings::hh_threshold, 0, 1000,
                                 "High-High latching threshold (0.1 % of breaker size)"));
        defs.push_back(panel_int(panel, "h_threshold", &PanelSettings::h_threshold, 0, 1000,
                                 "High latching threshold (0.1 % of breaker size)"));
        defs.push_back(panel_int(panel, "l_threshold", &PanelSettings::l_threshold, 0, 1000,
                                 "Low latching threshold (0.1 % of breaker size)"));
        defs.push_back(panel_int(panel, "ll_threshold", &PanelSettings::ll_threshold, 0, 1000,
                                 "Low-Low latching threshold (0.1 % of breaker size)"));
        defs.push_back(panel_int(panel, "nl_high_threshold", &PanelSettings::nl_high_threshold, 0,
                                 1000, "Non-latching high threshold (0.1 % of breaker size)"));
        defs.push_back(panel_int(panel, "nl_low_threshold", &PanelSettings::nl_low_threshold, 0,
                                 1000, "Non-latching low threshold (0.1 % of breaker size)"));
        defs.push_back(panel_int(panel, "nl_hysteresis", &PanelSettings::nl_hysteresis, 0, 1000,
                                 "Non-latching hysteresis (0.1 % of setpoint)"));
        defs.push_back(panel_int(panel, "over_voltage_timer", &PanelSettings::over_voltage_timer, 0,
                                 32767, "Overvoltage event timer (s)"));
        defs.push_back(panel_int(panel, "under_voltage_timer", &PanelSettings::under_voltage_timer,
                                 0, 32767, "Undervoltage event timer (s)"));
        defs.push_back(panel_int(panel, "over_voltage_threshold",
                                 &PanelSettings::over_voltage_threshold, 0, 32767,
                                 "Overvoltage threshold, L-L (0.1 V, 0 = off)"));
        defs.push_back(panel_int(panel, "under_voltage_threshold",
                                 &PanelSettings::under_voltage_threshold, 0, 32767,
                                 "Undervoltage threshold, L-L (0.1 V, 0 = off)"));
        defs.push_back(panel_int(panel, "voltage_hysteresis", &PanelSettings::voltage_hysteresis, 0,
                                 1000, "Voltage event hysteresis (0.1 % of setpoint)"));
        {
            SettingDef d =
                panel_int(panel, "user_defined", &PanelSettings::user_defined, 0,
                          user_bits::kDefined, "User defined settings (register 62017 bits)");
            d.check = [panel](const Settings& s,
                              const SettingValue& v) -> std::optional<std::string> {
                if ((as_int(v) & user_bits::kRtcDemandInterval) &&
                    s.panel(panel).subinterval_seconds > 3600) {
                    return "the RTC interval source needs a sub-interval of at most 3600 s";
                }
                return std::nullopt;
            };
            defs.push_back(std::move(d));
        }
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            defs.push_back(panel_channel_int(panel, c, "phase", &PanelSettings::phase_assignment, 0,
                                             2, "Voltage phase of the channel (0 A, 1 B, 2 C)"));
        }
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            SettingDef d =
                panel_channel_int(panel, c, "logical_circuit", &PanelSettings::logical_circuit, 0,
                                  kChannelsPerPanel, "Logical circuit of the channel (0 = none)");
            d.check = [panel, c](const Settings& s, const SettingValue& v) {
                return logical_circuit_check(panel, c, s, v);
            };
            defs.push_back(std::move(d));
        }
    }

    defs.push_back(gateway_int("operating_mode", &GatewaySettings::operating_mode, 0, 1,
                               "Operating mode: 0 Locked, 1 Discovery"));
    {
        SettingDef d = gateway_int(
            "removed_profiles", &GatewaySettings::removed_profiles, 0, (1 << kMaxPanels) - 1,
            "Active profiles removed (bit 0 panel 1, bit 1 panel 2); used at restart");
        d.check = [](const Settings& s, const SettingValue& v) -> std::optional<std::string> {
            if (as_int(v) >> s.model.panels)
                return "this model has " + std::to_string(s.model.panels) + " panel" +
                       (s.model.panels > 1 ? "s" : "");
            return std::nullopt;
        };
        defs.push_back(std::move(d));
    }
    defs.push_back(gateway_int("protocol_mode", &GatewaySettings::protocol_mode, 1, 4,
                               "Primary protocol: 1 BACnet MS/TP, 2 BACnet IP, 3 SNMP, 4 Modbus"));
    {
        SettingDef d = gateway_int("upstream_baud", &GatewaySettings::upstream_baud, 9600, 76800,
                                   "Baud rate of the RS-485 port: 9600/19200/38400/76800");
        d.check = [](const Settings&, const SettingValue& v) -> std::optional<std::string> {
            const int64_t b = as_int(v);
            if (b != 9600 && b != 19200 && b != 38400 && b != 76800) {
                return "baud must be 9600, 19200, 38400 or 76800";
            }
            return std::nullopt;
        };
        defs.push_back(std::move(d));
    }
    {
        SettingDef d = gateway_int("modbus_address", &GatewaySettings::modbus_address, 1, 246,
                                   "Modbus address of panel 1 (panel 2 answers at +1)");
        d.check = [](const Settings& s, const SettingValue& v) {
            return device_id_check(s.gateway.device_id_offset, as_int(v));
        };
        defs.push_back(std::move(d));
    }
    {
        SettingDef d = int_def(
            "gateway.modbus_parity", 0, 0, 0, 2, 1, "RS-485 Modbus parity: 0 none, 1 even, 2 odd",
            [](const Settings& s) -> SettingValue {
                return int64_t{static_cast<int>(s.gateway.modbus_parity)};
            },
            [](Settings& s, const SettingValue& v) {
                s.gateway.modbus_parity = static_cast<Parity>(as_int(v));
            });
        d.restart_required = true;
        defs.push_back(std::move(d));
    }
    {
        SettingDef d =
            gateway_int("device_id_offset", &GatewaySettings::device_id_offset, 0, 4194057,
                        "BACnet Device ID offset (router = offset, panel = offset + address)");
        d.check = [](const Settings& s, const SettingValue& v) {
            return device_id_check(as_int(v), s.gateway.modbus_address);
        };
        defs.push_back(std::move(d));
    }
    // Out-of-range network numbers are accepted and fall back to 5, as the guide says.
    defs.push_back(gateway_int("virt_router_net", &GatewaySettings::virt_router_net, 0, 65535,
                               "BACnet network number of the virtual router (1..65534)"));
    defs.push_back(gateway_int("mstp_max_master", &GatewaySettings::mstp_max_master, 1, 127,
                               "BACnet MS/TP Max_Master"));
    // The guide's specification table: 0 to 127 (a master may be 0).
    defs.push_back(gateway_int("mstp_mac_addr", &GatewaySettings::mstp_mac_addr, 0, 127,
                               "BACnet MS/TP MAC address of the virtual router"));
    defs.push_back(gateway_int("bacnet_ip_port", &GatewaySettings::bacnet_ip_port, 1, 65535,
                               "BACnet/IP UDP port"));
    {
        SettingDef d = int_def(
            "gateway.bbmd_enable", 0, 0, 0, 1, 0, "BBMD support: 1 enabled, 0 disabled",
            [](const Settings& s) -> SettingValue {
                return int64_t{s.gateway.bbmd_enable ? 1 : 0};
            },
            [](Settings& s, const SettingValue& v) { s.gateway.bbmd_enable = as_int(v) != 0; });
        d.restart_required = true;
        defs.push_back(std::move(d));
    }
    {
        SettingDef d = int_def(
            "gateway.bacnet_udp_gso", 0, 0, 0, 1, 0,
            "BACnet/IP answers to one station sent as one UDP GSO send: 1 on, 0 off",
            [](const Settings& s) -> SettingValue {
                return int64_t{s.gateway.bacnet_udp_gso ? 1 : 0};
            },
            [](Settings& s, const SettingValue& v) { s.gateway.bacnet_udp_gso = as_int(v) != 0; });
        d.restart_required = true;
        defs.push_back(std::move(d));
    }
    defs.push_back(gateway_int("rtc_control", &GatewaySettings::rtc_control, 0, 1,
                               "RTC write access: 0 BACnet time sync, 1 Modbus writes", false));
    for (auto [name, member, text] :
         {std::tuple{"read_community", &GatewaySettings::read_community, "SNMP read community"},
          std::tuple{"write_community", &GatewaySettings::write_community, "SNMP write community"},
          std::tuple{"trap_community", &GatewaySettings::trap_community, "SNMP trap community"}}) {
        SettingDef d = gateway_string(name, member, 64, text);
        d.min = 1;
        d.check = printable_check;
        defs.push_back(std::move(d));
    }
    for (auto [name, member, text] :
         {std::tuple{"snmp_notif_ip", &GatewaySettings::snmp_notif_ip,
                     "SNMP notification receiver"},
          std::tuple{"ip_address", &GatewaySettings::ip_address, "N1_IP_Address"},
          std::tuple{"netmask", &GatewaySettings::netmask, "N1_Netmask"},
          std::tuple{"default_gateway", &GatewaySettings::default_gateway, "Default gateway"}}) {
        SettingDef d = gateway_string(name, member, 15, text);
        d.min = 7;
        d.check = ipv4_check;
        defs.push_back(std::move(d));
    }
    defs.push_back(gateway_int("modbus_tcp_port", &GatewaySettings::modbus_tcp_port, 1, 65535,
                               "Modbus TCP port"));
    defs.push_back(
        gateway_int("snmp_port", &GatewaySettings::snmp_port, 1, 65535, "SNMP agent UDP port"));
    defs.push_back(gateway_int("snmp_notif_port", &GatewaySettings::snmp_notif_port, 1, 65535,
                               "SNMP notification UDP port"));
    defs.push_back(
        gateway_int("web_port", &GatewaySettings::web_port, 1, 65535, "Web server port"));
    {
        SettingDef d = gateway_string("serial_device", &GatewaySettings::serial_device, 255,
                                      "RS-485 serial device (empty = none)");
        defs.push_back(std::move(d));
    }
    {
        // BACnet character strings of DCC passwords are at most 20 characters.
        SettingDef d = gateway_string(
            "bacnet_password", &GatewaySettings::bacnet_password, 20,
            "BACnet DeviceCommunicationControl/ReinitializeDevice password (empty = none)", false);
        d.check = printable_check;
        defs.push_back(std::move(d));
    }
    return defs;
}

}  // namespace

const std::vector<SettingDef>& setting_defs() {
    static const std::vector<SettingDef> defs = build_defs();
    return defs;
}

const SettingDef* find_setting(std::string_view key) {
    static const std::unordered_map<std::string_view, const SettingDef*> index = [] {
        std::unordered_map<std::string_view, const SettingDef*> m;
        for (const SettingDef& d : setting_defs())
            m.emplace(d.key, &d);
        return m;
    }();
    auto it = index.find(key);
    return it == index.end() ? nullptr : it->second;
}

WriteResult validate_setting(const Settings& s, const SettingDef& def, const SettingValue& value) {
    if (def.panel > s.model.panels) {
        return {WriteError::UnknownKey,
                "panel " + std::to_string(def.panel) + " is not present on this model"};
    }
    if (def.is_string) {
        const auto* str = std::get_if<std::string>(&value);
        if (!str) return {WriteError::WrongType, def.key + " takes a string"};
        if (static_cast<int64_t>(str->size()) > def.max) {
            return {WriteError::OutOfRange,
                    def.key + " is at most " + std::to_string(def.max) + " characters"};
        }
        if (static_cast<int64_t>(str->size()) < def.min) {
            return {WriteError::OutOfRange,
                    def.key + " is at least " + std::to_string(def.min) + " characters"};
        }
    } else {
        const auto* i = std::get_if<int64_t>(&value);
        if (!i) return {WriteError::WrongType, def.key + " takes an integer"};
        if (*i < def.min || *i > def.max) {
            return {WriteError::OutOfRange, def.key + " must be " + std::to_string(def.min) +
                                                " to " + std::to_string(def.max)};
        }
    }
    if (def.check) {
        if (auto why = def.check(s, value))
            return {WriteError::Inconsistent, def.key + ": " + *why};
    }
    return {};
}

WriteResult write_setting(Settings& s, const SettingDef& def, const SettingValue& value) {
    WriteResult r = validate_setting(s, def, value);
    if (r.ok()) def.set(s, value);
    return r;
}

WriteResult write_setting(Settings& s, std::string_view key, const SettingValue& value) {
    const SettingDef* def = find_setting(key);
    if (!def) return {WriteError::UnknownKey, "unknown setting " + std::string(key)};
    return write_setting(s, *def, value);
}

}  // namespace openbcpm
