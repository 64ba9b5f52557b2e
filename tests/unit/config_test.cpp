#include "config/config.hpp"

#include <gtest/gtest.h>

using namespace openbcpm;

namespace {
ConfigError refused(const std::string& text) {
    try {
        parse_config(text, "test.toml");
    } catch (const ConfigError& e) {
        return e;
    }
    ADD_FAILURE() << "accepted:\n" << text;
    return ConfigError("", 0, "", "");
}
}  // namespace

TEST(Config, TheEmbeddedDefaultIsARealistic84ChannelPanel) {
    const Config c = default_config();
    EXPECT_EQ(c.settings.model.branch_channels, 84);
    EXPECT_EQ(c.settings.model.panels, 2);
    EXPECT_GT(c.simulation.loads.size(), 60u);
    EXPECT_EQ(c.settings.panel(1).logical_circuit[2], 1);  // channel 3 in the 3-pole circuit 1
    EXPECT_EQ(c.settings.panel(1).breaker_size[0], 30);
    EXPECT_EQ(c.settings.gateway.modbus_tcp_port, 1502);
    EXPECT_TRUE(c.explicit_settings.count("gateway.modbus_tcp_port"));
}

TEST(Config, TheIssueContractParses) {
    const Config c = parse_config(R"(
[device]
channels = 84
[gateway]
protocol_mode = 4
modbus_address = 1
[network]
ip_address = "127.0.0.1"
[modbus]
tcp_port = 502
[bacnet]
ip_port = 47808
[snmp]
port = 161
[web]
port = 443
[panel.1]
configuration = "top-feed"
[simulation]
seed = 1
speed = 1.0
wiring = "wye"
voltage_ln = 120.0
frequency = 60.0
[[simulation.load]]
panel = 1
channel = 5
amps = 12.5
pf = 0.85
)",
                                  "contract.toml");
    EXPECT_EQ(c.settings.gateway.modbus_tcp_port, 502);
    EXPECT_EQ(c.settings.gateway.web_port, 443);
    ASSERT_EQ(c.simulation.loads.size(), 1u);
    EXPECT_EQ(c.simulation.loads[0].channel, 5);
    EXPECT_DOUBLE_EQ(c.simulation.loads[0].amps, 12.5);
    EXPECT_DOUBLE_EQ(c.simulation.loads[0].pf, 0.85);
}

TEST(Config, ErrorsNameFileLineKeyAndReason) {
    ConfigError e = refused("[device]\nchannels = 30\n");
    EXPECT_EQ(e.file(), "test.toml");
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.key(), "device.channels");
    EXPECT_NE(e.reason().find("24, 36, 42, 48, 72 or 84"), std::string::npos);
    EXPECT_EQ(std::string(e.what()), "test.toml:2: device.channels: " + e.reason());

    e = refused("\n\n[panel.1]\nhh_threshold = 1500\n");
    EXPECT_EQ(e.line(), 4);
    EXPECT_EQ(e.key(), "panel.1.hh_threshold");
    EXPECT_NE(e.reason().find("0 to 1000"), std::string::npos);

    e = refused("[modbus]\ntcp_prt = 5\n");
    EXPECT_EQ(e.key(), "modbus.tcp_prt");
    EXPECT_EQ(e.reason(), "unknown key");

    e = refused("[simulation]\nspeed = \"fast\"\n");
    EXPECT_EQ(e.key(), "simulation.speed");
    EXPECT_EQ(e.reason(), "must be a number");

    e = refused("[gateway]\nmodbus_address = 0\n");
    EXPECT_EQ(e.key(), "gateway.modbus_address");

    e = refused("[panel.1]\nconfiguration = \"sideways\"\n");
    EXPECT_EQ(e.key(), "panel.1.configuration");

    e = refused("[[simulation.load]]\nchannel = 50\namps = 1\n");
    EXPECT_EQ(e.line(), 2);

    e = refused("[[simulation.event]]\nat = 5\naction = \"explode\"\n");
    EXPECT_EQ(e.key(), "simulation.event[0].action");

    e = refused("[panel.1]\nlocation = 'ok'\n[panel.1.channel]\n");
    EXPECT_EQ(e.key(), "panel.1.channel");

    // TOML syntax errors come with their line too.
    e = refused("[device]\nchannels = = 84\n");
    EXPECT_EQ(e.line(), 2);
}

TEST(Config, LogicalCircuitAndPhaseEntriesAreValidated) {
    EXPECT_NO_THROW(parse_config(R"(
[[panel.1.channel]]
channel = 3
logical_circuit = 1
phase = "C"
)",
                                 "t"));
    const ConfigError e = refused(R"(
[[panel.1.channel]]
channel = 9
logical_circuit = 1
)");
    EXPECT_EQ(e.line(), 4);
    EXPECT_NE(e.reason().find("adjacent"), std::string::npos);
}

TEST(Config, APanelIsValidatedAsAWholeWhateverTheOrderOfItsKeys) {
    // On a sequential strip channels 1, 2, 3 are adjacent; on the default
    // top-feed strip (odd channels on one side) they are not. The
    // [[panel.1.channel]] entries sort before `configuration`, and the circuit
    // is still judged on the sequential strip.
    const Config c = parse_config(R"(
[panel.1]
configuration = "sequential"
[[panel.1.channel]]
channel = 1
logical_circuit = 1
[[panel.1.channel]]
channel = 2
logical_circuit = 1
[[panel.1.channel]]
channel = 3
logical_circuit = 1
)",
                                  "t");
    EXPECT_EQ(c.settings.panel(1).logical_circuit[1], 1);
    // The same circuit on the default strip is refused, at the key that breaks it.
    const ConfigError e = refused(R"(
[[panel.1.channel]]
channel = 1
logical_circuit = 1
[[panel.1.channel]]
channel = 2
logical_circuit = 1
)");
    EXPECT_NE(e.reason().find("adjacent"), std::string::npos) << e.reason();
}

TEST(Config, EveryBacnetDeviceIdStaysAValidInstance) {
    // Panel 2 would be 4194057 + 246 + 1 = 4194304: past the last instance.
    ConfigError e =
        refused("[gateway]\nmodbus_address = 246\n[bacnet]\ndevice_id_offset = 4194057\n");
    EXPECT_NE(e.reason().find("4194302"), std::string::npos) << e.reason();
    e = refused("[bacnet]\ndevice_id_offset = 4194057\n[gateway]\nmodbus_address = 245\n");
    EXPECT_NE(e.reason().find("4194302"), std::string::npos) << e.reason();
    EXPECT_NO_THROW(parse_config(
        "[gateway]\nmodbus_address = 244\n[bacnet]\ndevice_id_offset = 4194057\n", "t"));
    // The settings table refuses it on every other path too (GUI, BACnet AV1, Modbus).
    Settings s;
    s.gateway.modbus_address = 246;
    EXPECT_FALSE(write_setting(s, "gateway.device_id_offset", int64_t{4194057}).ok());
    EXPECT_EQ(s.gateway.device_id_offset, Settings{}.gateway.device_id_offset);
    s = Settings{};
    s.gateway.device_id_offset = 4194057;
    EXPECT_FALSE(write_setting(s, "gateway.modbus_address", int64_t{246}).ok());
    EXPECT_TRUE(write_setting(s, "gateway.modbus_address", int64_t{244}).ok());
}

TEST(Config, MstpMacAddressZeroIsAValidMaster) {
    const Config c = parse_config("[bacnet]\nmstp_mac_addr = 0\n", "t");
    EXPECT_EQ(c.settings.gateway.mstp_mac_addr, 0);
    EXPECT_EQ(refused("[bacnet]\nmstp_mac_addr = 128\n").key(), "bacnet.mstp_mac_addr");
}

TEST(Config, SchedulesAndScenarioEvents) {
    const Config c = parse_config(R"(
[[simulation.load]]
panel = 2
channels = [1, 3]
amps = 10
schedule = "steps"
steps = [[0, 10], [60, 20]]
[[simulation.load]]
channel = 7
amps = 3
schedule = "daily"
daily = [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1.5]
[[simulation.event]]
at = 30
action = "trip"
channel = 3
[[simulation.event]]
at = 40
action = "sag"
phase = "B"
magnitude = 0.7
duration = 2
)",
                                  "t");
    ASSERT_EQ(c.simulation.loads.size(), 3u);
    EXPECT_EQ(c.simulation.loads[1].channel, 3);
    EXPECT_EQ(c.simulation.loads[1].schedule.kind, ScheduleKind::Steps);
    ASSERT_EQ(c.simulation.events.size(), 2u);
    EXPECT_EQ(c.simulation.events[1].phase_mask, 0b010);
    EXPECT_DOUBLE_EQ(c.simulation.events[1].magnitude, 0.7);
    refused("[[simulation.load]]\nchannel = 1\nschedule = \"daily\"\ndaily = [1, 2]\n");
}

TEST(Config, TrendsSizesAreSetAndBounded) {
    const Config plain = parse_config("[device]\nchannels = 84\n", "test.toml");
    EXPECT_FALSE(plain.trends.memory_minutes.has_value());  // an hour alone, 5 minutes in a fleet
    EXPECT_EQ(plain.trends.keep_days, 30);
    EXPECT_EQ(plain.trends.max_mb, 128);

    const Config c =
        parse_config("[trends]\nmemory_minutes = 10\nkeep_days = 7\nmax_mb = 16\n", "test.toml");
    EXPECT_EQ(c.trends.memory_minutes, 10);
    EXPECT_EQ(c.trends.keep_days, 7);
    EXPECT_EQ(c.trends.max_mb, 16);

    ConfigError e = refused("[trends]\nmemory_minutes = 0\n");
    EXPECT_EQ(e.key(), "trends.memory_minutes");
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(refused("[trends]\nkeep_days = 4000\n").key(), "trends.keep_days");
    EXPECT_EQ(refused("[trends]\nmax_mb = 0\n").key(), "trends.max_mb");
    EXPECT_EQ(refused("[trends]\nsize = 1\n").reason(), "unknown key");
}
