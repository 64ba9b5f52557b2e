// [fleet]: what each meter derives from k, [[fleet.meter]] overrides, and the
// refusals (file and line named), docs/fleet.md.
#include <gtest/gtest.h>

#include <string>

#include "config/config.hpp"

using namespace openbcpm;

namespace {

const std::string kTemplate = R"([device]
channels = 84
serial_number = "00000100"
[gateway]
modbus_address = 1
[bacnet]
device_id_offset = 1000
[panel.1]
location = "Hall A"
[panel.2]
location = "Hall B"
[simulation]
seed = 7
[[simulation.load]]
panel = 1
channel = 1
amps = 10.0
)";

ConfigError refused(const std::string& text) {
    try {
        const Config c = parse_config(text, "site.toml");
        (void)expand_fleet(c);
    } catch (const ConfigError& e) {
        return e;
    }
    ADD_FAILURE() << "accepted:\n" << text;
    return ConfigError("", 0, "", "");
}

}  // namespace

TEST(FleetConfig, WithoutFleetTheFileIsOneMeterAsBefore) {
    const Config c = parse_config(kTemplate, "one.toml");
    EXPECT_FALSE(c.fleet);
    EXPECT_EQ(c.fleet_index, -1);
    const auto all = expand_fleet(c);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].settings.identity.serial_number, 0x100u);
    EXPECT_EQ(all[0].settings.panel(1).location, "Hall A");
    EXPECT_EQ(all[0].settings.gateway.device_id_offset, 1000);
}

TEST(FleetConfig, EachMeterDerivesItsIdentityFromK) {
    const Config c = parse_config(kTemplate + R"(
[fleet]
count = 50
first_address = "127.0.1.1"
acquisition_threads = 2
)",
                                  "site.toml");
    ASSERT_TRUE(c.fleet);
    EXPECT_EQ(c.fleet->count, 50);
    EXPECT_EQ(c.fleet->acquisition_threads, 2);
    EXPECT_EQ(c.fleet->event_loops, 1);
    const auto all = expand_fleet(c);
    ASSERT_EQ(all.size(), 50u);
    for (int k : {0, 17, 49}) {
        const Config& m = all[static_cast<size_t>(k)];
        SCOPED_TRACE(k);
        EXPECT_EQ(m.fleet_index, k);
        EXPECT_EQ(m.settings.identity.serial_number, 0x100u + static_cast<uint32_t>(k));
        EXPECT_EQ(m.settings.gateway.device_id_offset, 1000 + 10 * k);
        EXPECT_EQ(m.simulation.seed, 7u + static_cast<uint64_t>(k));
        EXPECT_EQ(m.settings.panel(1).location, "Hall A #" + std::to_string(k));
        EXPECT_EQ(m.settings.panel(2).location, "Hall B #" + std::to_string(k));
        EXPECT_EQ(m.settings.gateway.ip_address, "127.0.1." + std::to_string(1 + k));
        // Explicit: seeded into the meter's store like any key of the file.
        EXPECT_EQ(std::get<std::string>(m.explicit_settings.at("gateway.ip_address")),
                  m.settings.gateway.ip_address);
        EXPECT_EQ(std::get<int64_t>(m.explicit_settings.at("gateway.device_id_offset")),
                  1000 + 10 * k);
        ASSERT_EQ(m.simulation.loads.size(), 1u);
    }
    // Addresses carry across octets.
    const Config wide = parse_config(kTemplate + R"(
[fleet]
count = 300
first_address = "10.0.0.250"
)",
                                     "site.toml");
    EXPECT_EQ(fleet_meter(wide, 10).settings.gateway.ip_address, "10.0.1.4");
    EXPECT_EQ(fleet_meter(wide, 299).settings.gateway.ip_address, "10.0.2.37");
}

TEST(FleetConfig, AMeterOverridesAnyKeyOfTheTemplate) {
    const Config c = parse_config(kTemplate + R"(
[fleet]
count = 20
first_address = "127.0.1.1"

[[fleet.meter]]
index = 3
[fleet.meter.panel.1]
location = "Spare room"
[fleet.meter.device]
channels = 42
[[fleet.meter.simulation.load]]
panel = 1
channel = 5
amps = 3.0
[[fleet.meter.simulation.load]]
panel = 1
channel = 6
amps = 4.0

[[fleet.meter]]
index = 19
[fleet.meter.gateway]
protocol_mode = 3
[fleet.meter.bacnet]
device_id_offset = 500
[fleet.meter.device]
serial_number = "ABCDEF01"
)",
                                  "site.toml");
    const Config m3 = fleet_meter(c, 3);
    EXPECT_EQ(m3.settings.panel(1).location, "Spare room");  // as given, no " #3"
    EXPECT_EQ(m3.settings.model.branch_channels, 42);
    EXPECT_EQ(m3.settings.model.panels, 1);
    ASSERT_EQ(m3.simulation.loads.size(), 2u);  // the array is replaced whole
    EXPECT_EQ(m3.simulation.loads[0].channel, 5);
    EXPECT_EQ(m3.settings.identity.serial_number, 0x103u);
    EXPECT_EQ(m3.settings.gateway.ip_address, "127.0.1.4");
    const Config m19 = fleet_meter(c, 19);
    EXPECT_EQ(m19.settings.gateway.protocol_mode, 3);
    EXPECT_EQ(m19.settings.gateway.device_id_offset, 500);  // given: not derived
    EXPECT_EQ(m19.settings.identity.serial_number, 0xABCDEF01u);
    EXPECT_EQ(m19.simulation.seed, 7u + 19u);
    // Meters without an override are the template's.
    const Config m4 = fleet_meter(c, 4);
    EXPECT_EQ(m4.settings.model.branch_channels, 84);
    EXPECT_EQ(m4.settings.panel(2).location, "Hall B #4");
    EXPECT_EQ(m4.settings.gateway.protocol_mode, c.settings.gateway.protocol_mode);
}

TEST(FleetConfig, RefusalsNameTheFileAndLine) {
    const std::string head = kTemplate + "[fleet]\n";  // [fleet] is on line 18
    auto e = refused(head + "count = 0\nfirst_address = \"127.0.1.1\"\n");
    EXPECT_EQ(e.key(), "fleet.count");
    EXPECT_EQ(e.line(), 19);
    EXPECT_EQ(e.file(), "site.toml");
    EXPECT_EQ(refused(head + "count = 10001\nfirst_address = \"127.0.1.1\"\n").key(),
              "fleet.count");
    EXPECT_EQ(refused(head + "count = 2\n").key(), "fleet.first_address");
    EXPECT_EQ(refused(head + "first_address = \"127.0.1.1\"\n").key(), "fleet.count");
    for (const char* bad : {"127.0.1", "127.0.1.256", "a.b.c.d", "127.0.1.1.1", "0.0.0.0",
                            "224.0.0.1", "127.0.1.1 "}) {
        SCOPED_TRACE(bad);
        EXPECT_EQ(refused(head + "count = 2\nfirst_address = \"" + bad + "\"\n").key(),
                  "fleet.first_address");
    }
    // The last meter's address past 223.255.255.255 (the last unicast one).
    EXPECT_NO_THROW(parse_config(head + "count = 3\nfirst_address = \"223.255.255.253\"\n", "s"));
    e = refused(head + "count = 4\nfirst_address = \"223.255.255.253\"\n");
    EXPECT_EQ(e.key(), "fleet.count");
    EXPECT_NE(std::string(e.what()).find("223.255.255.255"), std::string::npos);
    EXPECT_EQ(refused(head + "count = 2\nfirst_address = \"127.0.1.1\"\nthreads = 2\n").key(),
              "fleet.threads");
    EXPECT_EQ(
        refused(head + "count = 2\nfirst_address = \"127.0.1.1\"\nacquisition_threads = 0\n").key(),
        "fleet.acquisition_threads");
    EXPECT_EQ(refused(head + "count = 2\nfirst_address = \"127.0.1.1\"\nevent_loops = 65\n").key(),
              "fleet.event_loops");
}

TEST(FleetConfig, TheLastMeterMustStayInRange) {
    // BACnet: offset + 10 (count - 1) stays a valid offset (at most 4194057) and
    // + modbus_address + 1 at most 4194302.
    std::string t = kTemplate;
    t.replace(t.find("device_id_offset = 1000"), 23, "device_id_offset = 4100000");
    const Config fits =
        parse_config(t + "[fleet]\ncount = 9406\nfirst_address = \"10.0.0.1\"\n", "site.toml");
    EXPECT_EQ(fleet_meter(fits, 9405).settings.gateway.device_id_offset, 4100000 + 94050);
    const ConfigError e = refused(t + "[fleet]\ncount = 9407\nfirst_address = \"10.0.0.1\"\n");
    EXPECT_EQ(e.key(), "bacnet.device_id_offset");
    EXPECT_EQ(e.line(), 19);  // count's line
    EXPECT_NE(std::string(e.what()).find("meter 9406"), std::string::npos) << e.what();
    // The serial number: + count - 1 must fit in 32 bits.
    std::string s = kTemplate;
    s.replace(s.find("\"00000100\""), 10, "\"FFFFFFF0\"");
    EXPECT_NO_THROW(
        parse_config(s + "[fleet]\ncount = 16\nfirst_address = \"10.0.0.1\"\n", "site.toml"));
    EXPECT_EQ(refused(s + "[fleet]\ncount = 17\nfirst_address = \"10.0.0.1\"\n").key(),
              "device.serial_number");
}

TEST(FleetConfig, OverrideRefusalsNameTheirLine) {
    const std::string head = kTemplate + "[fleet]\ncount = 5\nfirst_address = \"127.0.1.1\"\n";
    // line 21 is [[fleet.meter]], 22 its index
    auto e = refused(head + "[[fleet.meter]]\nindex = 5\n");
    EXPECT_EQ(e.key(), "fleet.meter.index");
    EXPECT_EQ(e.line(), 22);
    EXPECT_EQ(refused(head + "[[fleet.meter]]\nindex = -1\n").key(), "fleet.meter.index");
    EXPECT_EQ(refused(head + "[[fleet.meter]]\n[fleet.meter.panel.1]\nlocation = \"x\"\n").key(),
              "fleet.meter.index");
    e = refused(head + "[[fleet.meter]]\nindex = 1\n[[fleet.meter]]\nindex = 1\n");
    EXPECT_EQ(e.line(), 24);
    // A bad value inside an override: the parser's own message, at the override's line.
    e = refused(head + "[[fleet.meter]]\nindex = 2\n[fleet.meter.gateway]\nprotocol_mode = 9\n");
    EXPECT_EQ(e.key(), "gateway.protocol_mode");
    EXPECT_EQ(e.line(), 24);
    EXPECT_EQ(e.file(), "site.toml");
    e = refused(head + "[[fleet.meter]]\nindex = 2\n[fleet.meter.simulation]\nnope = 1\n");
    EXPECT_EQ(e.key(), "simulation.nope");
    EXPECT_EQ(e.line(), 24);
    // An override's device ID offset must leave the meter's own devices in range.
    e = refused(head +
                "[[fleet.meter]]\nindex = 2\n[fleet.meter.gateway]\nmodbus_address = 246\n"
                "[fleet.meter.bacnet]\ndevice_id_offset = 4194057\n");
    EXPECT_EQ(e.key(), "bacnet.device_id_offset");
}

TEST(FleetConfig, Shards) {
    EXPECT_EQ(parse_shard("0/2"), (std::pair{0, 2}));
    EXPECT_EQ(parse_shard("3/4"), (std::pair{3, 4}));
    for (const char* bad : {"2/2", "1", "/2", "1/", "-1/2", "a/2", "1/0", "0/10001", "1/2/3"}) {
        SCOPED_TRACE(bad);
        EXPECT_THROW(parse_shard(bad), std::invalid_argument);
    }
    EXPECT_EQ(shard_meters(5, 0, 2), (std::vector<int>{0, 2, 4}));
    EXPECT_EQ(shard_meters(5, 1, 2), (std::vector<int>{1, 3}));
    EXPECT_EQ(shard_meters(2, 3, 4), (std::vector<int>{}));
}

TEST(FleetConfig, SiteEventsReachTheirMetersStaggered) {
    // A sag on the feeder of meters 2..4, and a trip storm over 0, 5 and 7 one
    // second apart; meter 5 also has its own [[fleet.meter]] override.
    const std::string text = kTemplate + R"(
[fleet]
count = 8
first_address = "127.0.2.1"
[[fleet.meter]]
index = 5
simulation.seed = 99
[[fleet.event]]
meters = "2-4"
at = 60
action = "sag"
magnitude = 0.85
duration = 20
[[fleet.event]]
meters = [0, "5", 7]
stagger = 1.0
at = 30
action = "trip"
panel = 1
channel = 1
)";
    const std::vector<Config> site = expand_fleet(parse_config(text, "site.toml"));
    ASSERT_EQ(site.size(), 8u);
    auto events_of = [&](int k) { return site[static_cast<size_t>(k)].simulation.events; };
    EXPECT_TRUE(events_of(1).empty());
    for (int k : {2, 3, 4}) {
        ASSERT_EQ(events_of(k).size(), 1u) << k;
        EXPECT_EQ(events_of(k)[0].action, ScenarioAction::Sag);
        EXPECT_DOUBLE_EQ(events_of(k)[0].at, 60.0);
        EXPECT_DOUBLE_EQ(events_of(k)[0].magnitude, 0.85);
    }
    const std::vector<std::pair<int, double>> storm{{0, 30.0}, {5, 31.0}, {7, 32.0}};
    for (const auto& [k, at] : storm) {
        ASSERT_EQ(events_of(k).size(), 1u) << k;
        EXPECT_EQ(events_of(k)[0].action, ScenarioAction::Trip);
        EXPECT_DOUBLE_EQ(events_of(k)[0].at, at) << k;
    }
    EXPECT_EQ(site[5].simulation.seed, 99u);  // its override still holds
    // "all" is every meter.
    const std::vector<Config> all = expand_fleet(parse_config(
        kTemplate + "[fleet]\ncount = 3\nfirst_address = \"127.0.2.1\"\n[[fleet.event]]\n"
                    "meters = \"all\"\nat = 5\naction = \"set-frequency\"\nfrequency = 59.5\n",
        "site.toml"));
    for (const Config& c : all)
        ASSERT_EQ(c.simulation.events.size(), 1u);
}

TEST(FleetConfig, SiteEventRefusals) {
    const std::string head = kTemplate + "[fleet]\ncount = 4\nfirst_address = \"127.0.2.1\"\n";
    ConfigError e = refused(head + "[[fleet.event]]\nat = 5\naction = \"trip\"\n");
    EXPECT_EQ(e.key(), "fleet.event.meters");
    e = refused(head + "[[fleet.event]]\nmeters = \"1-9\"\nat = 5\naction = \"sag\"\n");
    EXPECT_EQ(e.key(), "fleet.event.meters");
    EXPECT_NE(e.reason().find("not in the site"), std::string::npos);
    e = refused(head + "[[fleet.event]]\nmeters = \"2-1\"\nat = 5\naction = \"sag\"\n");
    EXPECT_EQ(e.key(), "fleet.event.meters");
    // The event itself is checked as a [[simulation.event]] at the file's reading.
    e = refused(head + "[[fleet.event]]\nmeters = [1]\nat = 5\naction = \"explode\"\n");
    EXPECT_NE(e.key().find(".action"), std::string::npos);
    EXPECT_EQ(e.line(), 24);  // its action line, though it is copied into the meter's events
}
