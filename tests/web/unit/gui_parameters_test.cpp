#include "web/gui_parameters.hpp"

#include <gtest/gtest.h>

using namespace openbcpm;
using namespace openbcpm::web;

namespace {
std::vector<std::string> names(int mode) {
    std::vector<std::string> out;
    for (const GuiParameter* p : parameters_for_mode(mode))
        out.emplace_back(p->name);
    return out;
}
}  // namespace

// The guide's four screens, parameter by parameter.
TEST(GuiParameters, EachProtocolModeShowsTheGuidesParameters) {
    EXPECT_EQ(names(1), (std::vector<std::string>{
                            "Operating_Mode", "Protocol_Mode", "Upstream_Baud", "DeviceID_Offset",
                            "Virt_Router_Net", "MSTP_Max_Master", "MSTP_MAC_Addr", "RTC_Control"}));
    EXPECT_EQ(names(2), (std::vector<std::string>{
                            "Operating_Mode", "Protocol_Mode", "Upstream_Baud", "Modbus_Address",
                            "Modbus_Parity", "DeviceID_Offset", "Virt_Router_Net", "BACnet_IP_Port",
                            "BBMD_Enable", "RTC_Control"}));
    EXPECT_EQ(names(3),
              (std::vector<std::string>{"Operating_Mode", "Protocol_Mode", "Upstream_Baud",
                                        "Modbus_Address", "Modbus_Parity", "Read_Community",
                                        "Write_Community", "Trap_Community", "SNMP_Notif_IP"}));
    EXPECT_EQ(names(4),
              (std::vector<std::string>{"Operating_Mode", "Protocol_Mode", "Upstream_Baud",
                                        "Modbus_Address", "Modbus_Parity"}));
    EXPECT_TRUE(names(0).empty());
    EXPECT_TRUE(names(5).empty());
}

TEST(GuiParameters, EveryParameterIsASetting) {
    EXPECT_EQ(gui_parameters().size(), 16u);
    for (const GuiParameter& p : gui_parameters()) {
        EXPECT_NE(find_setting(p.setting_key), nullptr) << p.name;
        EXPECT_FALSE(p.description.empty());
    }
}

TEST(GuiParameters, PageSpellingOfValues) {
    Settings s;
    const GuiParameter& parity = *find_gui_parameter("Modbus_Parity");
    const GuiParameter& bbmd = *find_gui_parameter("BBMD_Enable");
    EXPECT_EQ(display_value(parity, s), "Even");
    EXPECT_EQ(display_value(bbmd, s), "-");
    EXPECT_EQ(std::get<int64_t>(*parse_display_value(parity, "odd").value), 2);
    EXPECT_EQ(std::get<int64_t>(*parse_display_value(parity, " None ").value), 0);
    EXPECT_FALSE(parse_display_value(parity, "mark").value);
    EXPECT_EQ(std::get<int64_t>(*parse_display_value(bbmd, "BBMD").value), 1);
    EXPECT_EQ(std::get<int64_t>(*parse_display_value(bbmd, "-").value), 0);
    EXPECT_FALSE(parse_display_value(bbmd, "yes").value);
    const GuiParameter& address = *find_gui_parameter("Modbus_Address");
    EXPECT_EQ(std::get<int64_t>(*parse_display_value(address, "7").value), 7);
    EXPECT_FALSE(parse_display_value(address, "7a").value);
    EXPECT_FALSE(parse_display_value(address, "").value);
    const GuiParameter& community = *find_gui_parameter("Read_Community");
    EXPECT_EQ(std::get<std::string>(*parse_display_value(community, "public").value), "public");
    s.gateway.bbmd_enable = true;
    EXPECT_EQ(display_value(bbmd, s), "BBMD");
}

TEST(GuiParameters, ActiveProfilesFollowModeAndAddress) {
    Settings s;
    s.gateway.modbus_address = 5;
    auto p = active_profiles(s, 1);
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p[0].node_id, 5);
    EXPECT_EQ(p[1].node_id, 6);
    EXPECT_EQ(p[0].profile, "Schneider BCPME (BACnet Time Sync) MSTP");
    EXPECT_EQ(active_profiles(s, 2)[0].profile, "Schneider BCPME (BACnet Time Sync) IP");
    EXPECT_EQ(active_profiles(s, 3)[0].profile, "Schneider Electric BCPME SNMP");
    s.model = *ModelInfo::from_channels(42);
    EXPECT_EQ(active_profiles(s, 4).size(), 1u);
}

TEST(GuiParameters, ActiveProfilesShowWhereThePrimaryProtocolServesThem) {
    Settings s;
    s.gateway.modbus_address = 5;
    s.gateway.device_id_offset = 27000;
    s.gateway.virt_router_net = 27;
    auto p = active_profiles(s, 2);
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p[1].parameters, "BACnet device 27006, MAC 6 on network 27");
    EXPECT_FALSE(p[1].removed);
    EXPECT_EQ(active_profiles(s, 3)[0].parameters, "SNMP rows of panel 1");
    EXPECT_EQ(active_profiles(s, 4)[1].parameters, "Modbus unit 6");
    // A stored removal shows until the restart; a panel not served is not listed.
    s.gateway.removed_profiles = 2;
    p = active_profiles(s, 4);
    ASSERT_EQ(p.size(), 2u);
    EXPECT_FALSE(p[0].removed);
    EXPECT_TRUE(p[1].removed);
    p = active_profiles(s, 4, 2);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].number, 1);
}
