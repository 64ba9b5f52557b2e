// The guide's "Configuration Parameters" page: which gateway parameters each
// Protocol_Mode shows, their descriptions, and how the page spells values
// (Modbus_Parity as None/Even/Odd, BBMD_Enable as "BBMD" or "-").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/settings.hpp"

namespace openbcpm::web {

struct GuiParameter {
    std::string_view name;         // "Modbus_Parity", as the page shows it
    std::string_view setting_key;  // "gateway.modbus_parity"
    std::string_view description;  // the page's description, with the range in brackets
};

// Every parameter of the page, in page order.
const std::vector<GuiParameter>& gui_parameters();
const GuiParameter* find_gui_parameter(std::string_view name);
// The parameters the page shows in `protocol_mode` (1..4), in page order.
std::vector<const GuiParameter*> parameters_for_mode(int protocol_mode);

// The value as the page shows it.
std::string display_value(const GuiParameter& p, const Settings& s);
// The page's spelling of a value to a setting value; an error message when
// the text is not a value of this parameter at all (range checks come later,
// from write_setting).
struct ParsedValue {
    std::optional<SettingValue> value;
    std::string error;
};
ParsedValue parse_display_value(const GuiParameter& p, std::string_view text);

// "Active profiles": the device profile each panel node runs with on the
// primary protocol, node ID = the panel's Modbus address. `parameters` says
// where the primary protocol serves it; `removed`: its Remove was stored (the
// stored set, gateway.removed_profiles), which the next start applies.
struct ActiveProfile {
    int number = 0;
    int node_id = 0;
    std::string profile;
    std::string parameters;
    bool removed = false;
};
// The panels served since this start (those not in `not_served`, bit p-1 for
// panel p), with `s` the stored settings.
std::vector<ActiveProfile> active_profiles(const Settings& s, int protocol_mode,
                                           int not_served = 0);

}  // namespace openbcpm::web
