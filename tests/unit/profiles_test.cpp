// Operating_Mode and the Active profiles (the guide: Locked keeps the
// profiles, Discovery clears them and discovers every panel at restart): the
// removed set goes through the one write path, Locked refuses changes to it,
// and each start applies it to the primary protocol's face only.
#include <gtest/gtest.h>

#include "../temp_dir.hpp"
#include "config/config.hpp"
#include "device/device.hpp"

namespace openbcpm {
namespace {

Config config_in_mode(int protocol_mode) {
    Config cfg = default_config();
    cfg.settings.gateway.protocol_mode = protocol_mode;
    cfg.explicit_settings["gateway.protocol_mode"] = int64_t{protocol_mode};
    return cfg;
}

int64_t stored(const Device& d, const char* key) {
    return std::get<int64_t>(find_setting(key)->get(d.settings()));
}

TEST(Profiles, PrimaryProtocolOfEachMode) {
    EXPECT_EQ(primary_protocol(1), FaceProtocol::Bacnet);
    EXPECT_EQ(primary_protocol(2), FaceProtocol::Bacnet);
    EXPECT_EQ(primary_protocol(3), FaceProtocol::Snmp);
    EXPECT_EQ(primary_protocol(4), FaceProtocol::Modbus);
    EXPECT_EQ(primary_protocol_name(2), "BACnet IP");
}

TEST(Profiles, RemovedSetIsCheckedByTheSettingsTable) {
    Settings s;
    EXPECT_TRUE(write_setting(s, "gateway.removed_profiles", int64_t{3}).ok());
    const WriteResult high = write_setting(s, "gateway.removed_profiles", int64_t{4});
    EXPECT_EQ(high.error, WriteError::OutOfRange);
    EXPECT_EQ(s.gateway.removed_profiles, 3);
    s.model = *ModelInfo::from_channels(42);  // one panel: panel 2 has no profile
    s.gateway.removed_profiles = 0;
    const WriteResult absent = write_setting(s, "gateway.removed_profiles", int64_t{2});
    EXPECT_EQ(absent.error, WriteError::Inconsistent);
    EXPECT_EQ(s.gateway.removed_profiles, 0);
    EXPECT_TRUE(write_setting(s, "gateway.removed_profiles", int64_t{1}).ok());
}

TEST(Profiles, DiscoveryClearsTheRemovedSetAtStart) {
    test::TempDir dir;
    {
        Device d(config_in_mode(2), dir.path);
        ASSERT_TRUE(d.write_setting("gateway.removed_profiles", int64_t{2}).ok());
        // Stored, but used at the next start: panel 2 is still served now.
        EXPECT_TRUE(d.serves_panel(FaceProtocol::Bacnet, 2));
        EXPECT_EQ(d.profiles_not_served(), 0);
    }
    {
        Device d(config_in_mode(2), dir.path);
        EXPECT_EQ(d.start_operating_mode(), 1);
        EXPECT_EQ(stored(d, "gateway.removed_profiles"), 0);
        EXPECT_EQ(d.profiles_not_served(), 0);
        EXPECT_TRUE(d.serves_panel(FaceProtocol::Bacnet, 1));
        EXPECT_TRUE(d.serves_panel(FaceProtocol::Bacnet, 2));
        EXPECT_FALSE(d.serves_panel(FaceProtocol::Bacnet, 3));
    }
    // And the clearing was stored: a third start finds nothing removed either.
    Store store(dir.path);
    EXPECT_EQ(to_string(store.load_settings().at("gateway.removed_profiles").value), "0");
}

TEST(Profiles, LockedKeepsTheSetAndServesRemovedPanelsOnlyOffThePrimaryFace) {
    test::TempDir dir;
    {
        Device d(config_in_mode(2), dir.path);
        ASSERT_TRUE(d.write_setting("gateway.removed_profiles", int64_t{2}).ok());
        ASSERT_TRUE(d.write_setting("gateway.operating_mode", int64_t{0}).ok());
        // Locked is stored: a profile change is refused already, nothing changed.
        const WriteResult r = d.write_setting("gateway.removed_profiles", int64_t{3});
        EXPECT_EQ(r.error, WriteError::Inconsistent);
        EXPECT_NE(r.message.find("Locked"), std::string::npos) << r.message;
        EXPECT_EQ(stored(d, "gateway.removed_profiles"), 2);
    }
    for (int restart = 0; restart < 2; ++restart) {
        Device d(config_in_mode(2), dir.path);
        EXPECT_EQ(d.start_operating_mode(), 0);
        EXPECT_EQ(stored(d, "gateway.removed_profiles"), 2);
        EXPECT_EQ(d.profiles_not_served(), 2);
        EXPECT_TRUE(d.serves_panel(FaceProtocol::Bacnet, 1));
        EXPECT_FALSE(d.serves_panel(FaceProtocol::Bacnet, 2));
        // Modbus TCP and SNMP are not the primary protocol of mode 2.
        EXPECT_TRUE(d.serves_panel(FaceProtocol::Modbus, 2));
        EXPECT_TRUE(d.serves_panel(FaceProtocol::Snmp, 2));
        // Writing the same set again changes nothing and is not a change.
        EXPECT_TRUE(d.write_setting("gateway.removed_profiles", int64_t{2}).ok());
        EXPECT_EQ(d.write_setting("gateway.removed_profiles", int64_t{0}).error,
                  WriteError::Inconsistent);
    }
    {
        // Modbus mode: the Modbus face is the primary one now.
        Device d(config_in_mode(4), dir.path);
        EXPECT_FALSE(d.serves_panel(FaceProtocol::Modbus, 2));
        EXPECT_TRUE(d.serves_panel(FaceProtocol::Bacnet, 2));
        // Back to Discovery: allowed, used at the next start.
        ASSERT_TRUE(d.write_setting("gateway.operating_mode", int64_t{1}).ok());
        EXPECT_FALSE(d.serves_panel(FaceProtocol::Modbus, 2));
    }
    Device d(config_in_mode(4), dir.path);
    EXPECT_TRUE(d.serves_panel(FaceProtocol::Modbus, 2));
    EXPECT_EQ(stored(d, "gateway.removed_profiles"), 0);
}

}  // namespace
}  // namespace openbcpm
