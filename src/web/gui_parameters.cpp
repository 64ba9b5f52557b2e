#include "web/gui_parameters.hpp"

#include <charconv>

namespace openbcpm::web {

const std::vector<GuiParameter>& gui_parameters() {
    static const std::vector<GuiParameter> params = {
        {"Operating_Mode", "gateway.operating_mode",
         "Operating mode: [0=Locked; 1=Discovery] Locked disables profile changes. Discovery "
         "clears profiles and "
         "auto-discovers supported devices on Restart. (Leave in Discovery mode for normal "
         "operation)"},
        {"Protocol_Mode", "gateway.protocol_mode",
         "Primary Protocol: [1=BACnet MS/TP; 2=BACnet IP; 3=SNMP; 4=Modbus] (Modbus TCP is active "
         "in all modes) "
         "(Modbus RTU is active in modes 2 through 4) RESTART after changing to update GUI "
         "selections"},
        {"Upstream_Baud", "gateway.upstream_baud",
         "Baud Rate of the Upstream Control serial port: (to controller - Modbus RTU or BACnet "
         "MS/TP) "
         "[9600/19200/38400/76800]"},
        {"Modbus_Address", "gateway.modbus_address",
         "Default Modbus RTU Device Addresses: [1-246] The Upstream Modbus RTU addresses of the "
         "two Meter panels "
         "will be: Modbus_Address and Modbus_Address+1"},
        {"Modbus_Parity", "gateway.modbus_parity",
         "Upstream Modbus RTU parity: [None/Even/Odd] (ignored in MS/TP mode [MS/TP is always "
         "None])"},
        {"DeviceID_Offset", "gateway.device_id_offset",
         "Default BACnet Device ID numbers: [0-4194057] The Virtual Router Device ID = the "
         "DeviceID_Offset. The "
         "Device ID of a Meter at Modbus address 1 will be DeviceID_Offset+1"},
        {"Virt_Router_Net", "gateway.virt_router_net",
         "BACnet network number of the Virtual Router: [1-65534] This network number must be "
         "DIFFERENT than all "
         "other networks in your BACnet enterprise."},
        {"MSTP_Max_Master", "gateway.mstp_max_master", "BACnet MS/TP Max Master value: [1-127]"},
        {"MSTP_MAC_Addr", "gateway.mstp_mac_addr", "BACnet MS/TP MAC address: [0-127]"},
        {"BACnet_IP_Port", "gateway.bacnet_ip_port",
         "BACnet IP port: Default is 47808 (0xBAC0). enter in decimal [1-65535]"},
        {"BBMD_Enable", "gateway.bbmd_enable",
         "Enable BBMD support: [Enter BBMD to enable or - (hyphen) to disable] Specify other BBMD "
         "devices in a "
         "bdt.ini file and transfer to unit via Diagnostics & Debugging"},
        {"RTC_Control", "gateway.rtc_control",
         "Real Time Clock sync mechanism: [0=BACnet Time Sync; 1=Modbus writes] Select which "
         "protocol has write "
         "access to the RTC."},
        {"Read_Community", "gateway.read_community",
         "SNMP Read Community string: [character string]"},
        {"Write_Community", "gateway.write_community",
         "SNMP Write Community string: [character string]"},
        {"Trap_Community", "gateway.trap_community",
         "SNMP Notification Trap Community string: [character string]"},
        {"SNMP_Notif_IP", "gateway.snmp_notif_ip",
         "Address of the SNMP Notification client: [xxx.xxx.xxx.xxx]"},
    };
    return params;
}

const GuiParameter* find_gui_parameter(std::string_view name) {
    for (const GuiParameter& p : gui_parameters()) {
        if (p.name == name) return &p;
    }
    return nullptr;
}

std::vector<const GuiParameter*> parameters_for_mode(int protocol_mode) {
    // The guide's four screens, one list per Protocol_Mode.
    static const std::vector<std::vector<std::string_view>> by_mode = {
        {"Operating_Mode", "Protocol_Mode", "Upstream_Baud", "DeviceID_Offset", "Virt_Router_Net",
         "MSTP_Max_Master", "MSTP_MAC_Addr", "RTC_Control"},
        {"Operating_Mode", "Protocol_Mode", "Upstream_Baud", "Modbus_Address", "Modbus_Parity",
         "DeviceID_Offset", "Virt_Router_Net", "BACnet_IP_Port", "BBMD_Enable", "RTC_Control"},
        {"Operating_Mode", "Protocol_Mode", "Upstream_Baud", "Modbus_Address", "Modbus_Parity",
         "Read_Community", "Write_Community", "Trap_Community", "SNMP_Notif_IP"},
        {"Operating_Mode", "Protocol_Mode", "Upstream_Baud", "Modbus_Address", "Modbus_Parity"},
    };
    std::vector<const GuiParameter*> out;
    if (protocol_mode < 1 || protocol_mode > 4) return out;
    for (std::string_view name : by_mode[static_cast<size_t>(protocol_mode - 1)]) {
        out.push_back(find_gui_parameter(name));
    }
    return out;
}

std::string display_value(const GuiParameter& p, const Settings& s) {
    const SettingDef* def = find_setting(p.setting_key);
    const SettingValue v = def->get(s);
    if (p.name == "Modbus_Parity") {
        static const char* names[] = {"None", "Even", "Odd"};
        const int64_t i = std::get<int64_t>(v);
        return (i >= 0 && i <= 2) ? names[i] : std::to_string(i);
    }
    if (p.name == "BBMD_Enable") return std::get<int64_t>(v) != 0 ? "BBMD" : "-";
    return to_string(v);
}

ParsedValue parse_display_value(const GuiParameter& p, std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    auto lower = [](std::string_view t) {
        std::string s(t);
        for (auto& c : s)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    if (p.name == "Modbus_Parity") {
        const std::string t = lower(text);
        if (t == "none" || t == "0") return {SettingValue{int64_t{0}}, {}};
        if (t == "even" || t == "1") return {SettingValue{int64_t{1}}, {}};
        if (t == "odd" || t == "2") return {SettingValue{int64_t{2}}, {}};
        return {std::nullopt, "Modbus_Parity is None, Even or Odd"};
    }
    if (p.name == "BBMD_Enable") {
        const std::string t = lower(text);
        if (t == "bbmd" || t == "1") return {SettingValue{int64_t{1}}, {}};
        if (t == "-" || t == "0") return {SettingValue{int64_t{0}}, {}};
        return {std::nullopt, "BBMD_Enable is BBMD (enable) or - (disable)"};
    }
    const SettingDef* def = find_setting(p.setting_key);
    if (def->is_string) return {SettingValue{std::string(text)}, {}};
    int64_t v = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc() || ptr != end) {
        return {std::nullopt, std::string(p.name) + " takes a whole number"};
    }
    return {SettingValue{v}, {}};
}

std::vector<ActiveProfile> active_profiles(const Settings& s, int protocol_mode, int not_served) {
    std::vector<ActiveProfile> out;
    const std::string sync = s.gateway.rtc_control == 0 ? "BACnet Time Sync" : "Modbus Time Sync";
    std::string profile;
    switch (protocol_mode) {
        case 1:
            profile = "Schneider BCPME (" + sync + ") MSTP";
            break;
        case 2:
            profile = "Schneider BCPME (" + sync + ") IP";
            break;
        case 3:
            profile = "Schneider Electric BCPME SNMP";
            break;
        default:
            profile = "Schneider Electric BCPME Modbus";
            break;
    }
    const GatewaySettings& g = s.gateway;
    for (int p = 1; p <= s.model.panels; ++p) {
        if (not_served & (1 << (p - 1))) continue;
        const int node = g.modbus_address + p - 1;
        std::string parameters;
        switch (protocol_mode) {
            case 1:
            case 2:
                parameters = "BACnet device " + std::to_string(g.device_id_offset + node) +
                             ", MAC " + std::to_string(node) + " on network " +
                             std::to_string(effective_router_net(g));
                break;
            case 3:
                parameters = "SNMP rows of panel " + std::to_string(p);
                break;
            default:
                parameters = "Modbus unit " + std::to_string(node);
                break;
        }
        const bool removed = (g.removed_profiles & (1 << (p - 1))) != 0;
        out.push_back({p, node, profile, std::move(parameters), removed});
    }
    return out;
}

}  // namespace openbcpm::web
