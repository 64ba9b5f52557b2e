// Every setting of the meter: the per-panel setup of the point map and the
// gateway parameters of the guide's web pages. Each has a key, a type, a range,
// a default and an NV flag in one table (setting_defs()); protocol faces,
// the config file and storage all go through that table.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/device_model.hpp"

namespace openbcpm {

// Bits of register 62017 (BACnet AV164, SNMP pNUserDefinedSettings).
namespace user_bits {
inline constexpr uint16_t kUserPhaseAssignment = 1u << 0;  // map: bit 0
inline constexpr uint16_t kRelativePhaseAngles = 1u << 1;  // 0 = against V1, 1 = against own phase
inline constexpr uint16_t kRtcDemandInterval = 1u << 2;    // 0 = interval timer, 1 = RTC
inline constexpr uint16_t kLegacyMultiPhaseMap =
    1u << 3;  // 0 = logical circuits by type in 4000..9999
inline constexpr uint16_t kDefined = 0x000F;
}  // namespace user_bits

struct PanelSettings {
    StripConfiguration configuration = StripConfiguration::TopFeed;  // reg 6
    std::string location = "Location";                               // regs 7..70
    int demand_subintervals = 1;                                     // reg 71, 1..6
    int subinterval_seconds = 900;                                   // reg 72, 0 | 10..32767
    std::array<int, kChannelsPerPanel> ct_size{};                    // regs 73..118
    std::array<int, kChannelsPerPanel> breaker_size{};               // regs 119..164
    // Latching event timers, seconds (regs 165..170).
    int hh_delay = 10, h_delay = 10, l_delay = 10, ll_delay = 10, on_time = 10, off_time = 30;
    // Thresholds in 0.1 % of breaker size (regs 171..177).
    int hh_threshold = 700, h_threshold = 600, l_threshold = 75, ll_threshold = 25;
    int nl_high_threshold = 600, nl_low_threshold = 50, nl_hysteresis = 50;
    // L-L voltage events (regs 236..240): timers in s, thresholds in V, hysteresis in 0.1 %.
    int over_voltage_timer = 10, under_voltage_timer = 10;
    int over_voltage_threshold = 0, under_voltage_threshold = 0, voltage_hysteresis = 50;
    int user_defined = 0;                                   // reg 62017
    std::array<int, kChannelsPerPanel> phase_assignment{};  // regs 62116..62161, 0..2
    std::array<int, kChannelsPerPanel> logical_circuit{};   // 0 = none, 1..46

    PanelSettings();
    bool operator==(const PanelSettings&) const = default;
    bool user_phase_assignment() const {
        return (user_defined & user_bits::kUserPhaseAssignment) != 0;
    }
};

enum class Parity : uint8_t { None = 0, Even = 1, Odd = 2 };

struct GatewaySettings {
    int operating_mode = 1;  // 0 locked, 1 discovery
    // The guide's Active profiles removed with the GUI's Remove button: bit p-1
    // for panel p. Used at the next start: in Discovery mode it is cleared
    // (every panel discovered again), in Locked mode those panels are not
    // served on the primary protocol (docs/web.md, "Active profiles").
    int removed_profiles = 0;
    int protocol_mode = 4;  // 1 MS/TP, 2 BACnet/IP, 3 SNMP, 4 Modbus
    int upstream_baud = 19200;
    int modbus_address = 1;  // panel 1; panel 2 answers at +1
    Parity modbus_parity = Parity::Even;
    int device_id_offset = 50000;
    int virt_router_net = 50;
    int mstp_max_master = 127;
    int mstp_mac_addr = 1;
    int bacnet_ip_port = 47808;
    bool bbmd_enable = false;
    // Answers in a row to one BACnet/IP station sent as one UDP GSO send:
    // less CPU per answer, but a capture on the meter's own host shows the
    // run as one datagram (docs/bacnet.md). Off: every capture point sees
    // what a real meter sends.
    bool bacnet_udp_gso = false;
    int rtc_control = 0;  // 0 BACnet time sync, 1 Modbus writes
    std::string read_community = "public";
    std::string write_community = "private";
    std::string trap_community = "trap";
    std::string snmp_notif_ip = "127.0.0.1";
    // Network settings (N1_...): the address every face binds to.
    std::string ip_address = "127.0.0.1";
    std::string netmask = "255.255.255.0";
    std::string default_gateway = "0.0.0.0";
    // Ports of the faces (beyond the meter: the guide fixes 502/161/443).
    int modbus_tcp_port = 502;
    int snmp_port = 161;
    int snmp_notif_port = 162;
    int web_port = 443;
    std::string serial_device;  // RS-485 port for Modbus RTU / MS/TP, empty = none
    // BACnet DeviceCommunicationControl / ReinitializeDevice password; empty = none asked.
    std::string bacnet_password;

    bool operator==(const GatewaySettings&) const = default;
};

// Identity that the point map reports (regs 1..5) and the guide prints on labels.
struct Identity {
    uint32_t serial_number = 0x4E3B73CB;
    int firmware_rs = 1030;  // reg 3, firmware revision of the gateway (RS)
    int firmware_os = 1;     // reg 4
    int device_id = 15172;   // reg 5: Model A, current and power on all channels

    bool operator==(const Identity&) const = default;
};

struct Settings {
    ModelInfo model = *ModelInfo::from_channels(84);
    Identity identity;
    GatewaySettings gateway;
    std::array<PanelSettings, kMaxPanels> panels{};

    PanelSettings& panel(int p) { return panels.at(static_cast<size_t>(p - 1)); }
    const PanelSettings& panel(int p) const { return panels.at(static_cast<size_t>(p - 1)); }
};

using SettingValue = std::variant<int64_t, std::string>;
std::string to_string(const SettingValue& v);

struct SettingDef {
    std::string key;  // "panel.1.ct_size.5", "gateway.protocol_mode"
    int panel = 0;    // 0 = gateway-wide
    int channel = 0;  // for per-channel settings
    bool is_string = false;
    int64_t min = 0, max = 0;  // integer range (or max length for strings)
    SettingValue factory;      // factory default
    bool nv = true;
    bool restart_required = false;  // takes effect at the next (re)start
    std::string description;
    std::function<SettingValue(const Settings&)> get;
    // Applies an already validated value.
    std::function<void(Settings&, const SettingValue&)> set;
    // Extra rule beyond the range (whole-settings context), nullopt when fine.
    std::function<std::optional<std::string>(const Settings&, const SettingValue&)> check;
};

// All settings of a meter of this model (both panels where present).
const std::vector<SettingDef>& setting_defs();
const SettingDef* find_setting(std::string_view key);

// StorageFailed: valid, but it could not be made non-volatile, so nothing
// changed (each face answers with its own "try later" error).
enum class WriteError : uint8_t {
    None,
    UnknownKey,
    WrongType,
    OutOfRange,
    Inconsistent,
    StorageFailed
};
struct WriteResult {
    WriteError error = WriteError::None;
    std::string message;
    bool ok() const { return error == WriteError::None; }
};
// Validates `value` against the definition and the rest of the settings; on
// success applies it. A refused write leaves `s` untouched.
WriteResult validate_setting(const Settings& s, const SettingDef& def, const SettingValue& value);
WriteResult write_setting(Settings& s, const SettingDef& def, const SettingValue& value);
WriteResult write_setting(Settings& s, std::string_view key, const SettingValue& value);

std::string_view to_string(Parity p);
std::optional<Parity> parity_from_string(std::string_view s);

// Members of a logical circuit, by channel, in channel order.
std::vector<int> logical_circuit_members(const PanelSettings& p, int circuit);
// The phase a channel's power is computed against under the present settings.
Phase effective_phase(const PanelSettings& p, int channel);
// The router network number the faces use: out-of-range values fall back to 5.
int effective_router_net(const GatewaySettings& g);

}  // namespace openbcpm
