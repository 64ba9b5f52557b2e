#include "core/settings.hpp"

#include <gtest/gtest.h>

using namespace openbcpm;

TEST(Settings, FactoryDefaultsFollowThePointMap) {
    Settings s;
    const PanelSettings& p = s.panel(1);
    EXPECT_EQ(p.configuration, StripConfiguration::TopFeed);  // reg 6 default 0
    EXPECT_EQ(p.location, "Location");
    EXPECT_EQ(p.demand_subintervals, 1);
    EXPECT_EQ(p.subinterval_seconds, 900);
    EXPECT_EQ(p.ct_size[0], 100);
    EXPECT_EQ(p.ct_size[42], 200);  // aux
    EXPECT_EQ(p.breaker_size[0], 20);
    EXPECT_EQ(p.breaker_size[45], 225);
    EXPECT_EQ(p.hh_threshold, 700);
    EXPECT_EQ(p.h_threshold, 600);
    EXPECT_EQ(p.l_threshold, 75);
    EXPECT_EQ(p.ll_threshold, 25);
    EXPECT_EQ(p.nl_high_threshold, 600);
    EXPECT_EQ(p.nl_low_threshold, 50);
    EXPECT_EQ(p.nl_hysteresis, 50);
    EXPECT_EQ(p.off_time, 30);
    EXPECT_EQ(p.user_defined, 0);
    EXPECT_EQ(s.gateway.device_id_offset, 50000);
    EXPECT_EQ(s.gateway.virt_router_net, 50);
    EXPECT_EQ(s.gateway.protocol_mode, 4);
    EXPECT_EQ(s.gateway.read_community, "public");
}

TEST(Settings, EveryDefinitionRoundTripsItsFactoryValue) {
    Settings s;
    for (const SettingDef& d : setting_defs()) {
        EXPECT_EQ(to_string(d.get(s)), to_string(d.factory)) << d.key;
        EXPECT_TRUE(validate_setting(s, d, d.factory).ok())
            << d.key << ": " << validate_setting(s, d, d.factory).message;
        EXPECT_EQ(find_setting(d.key), &d);
    }
    EXPECT_EQ(find_setting("panel.3.ct_size.1"), nullptr);
}

TEST(Settings, RangesAreEnforcedAndARefusedWriteChangesNothing) {
    Settings s;
    const Settings before = s;
    EXPECT_EQ(write_setting(s, "panel.1.configuration", int64_t{4}).error, WriteError::OutOfRange);
    EXPECT_EQ(write_setting(s, "panel.1.demand_subintervals", int64_t{7}).error,
              WriteError::OutOfRange);
    EXPECT_EQ(write_setting(s, "panel.1.subinterval_seconds", int64_t{5}).error,
              WriteError::Inconsistent);
    EXPECT_EQ(write_setting(s, "panel.1.hh_threshold", int64_t{1001}).error,
              WriteError::OutOfRange);
    EXPECT_EQ(write_setting(s, "panel.1.phase.3", int64_t{3}).error, WriteError::OutOfRange);
    EXPECT_EQ(write_setting(s, "panel.1.location", std::string(128, 'x')).error,
              WriteError::OutOfRange);
    EXPECT_EQ(write_setting(s, "panel.1.location", std::string("bad\x01")).error,
              WriteError::Inconsistent);
    EXPECT_EQ(write_setting(s, "panel.1.location", int64_t{3}).error, WriteError::WrongType);
    EXPECT_EQ(write_setting(s, "gateway.upstream_baud", int64_t{4800}).error,
              WriteError::OutOfRange);
    EXPECT_EQ(write_setting(s, "gateway.upstream_baud", int64_t{14400}).error,
              WriteError::Inconsistent);
    EXPECT_EQ(write_setting(s, "gateway.snmp_notif_ip", std::string("10.0.0.300")).error,
              WriteError::Inconsistent);
    EXPECT_EQ(write_setting(s, "gateway.read_community", std::string()).error,
              WriteError::OutOfRange);
    EXPECT_EQ(write_setting(s, "nope", int64_t{1}).error, WriteError::UnknownKey);
    EXPECT_EQ(s.panel(1).configuration, before.panel(1).configuration);
    EXPECT_EQ(s.panel(1).location, before.panel(1).location);
    EXPECT_EQ(s.gateway.upstream_baud, before.gateway.upstream_baud);

    EXPECT_TRUE(write_setting(s, "panel.1.subinterval_seconds", int64_t{0}).ok());  // sync to comms
    EXPECT_TRUE(write_setting(s, "panel.1.subinterval_seconds", int64_t{10}).ok());
    EXPECT_TRUE(write_setting(s, "panel.2.location", std::string("PDU#3")).ok());
    EXPECT_EQ(s.panel(2).location, "PDU#3");
    EXPECT_TRUE(write_setting(s, "gateway.upstream_baud", int64_t{76800}).ok());
}

TEST(Settings, RtcIntervalSourceLimitsTheSubInterval) {
    Settings s;
    ASSERT_TRUE(write_setting(s, "panel.1.subinterval_seconds", int64_t{7200}).ok());
    // 62017 bit 2 (RTC) needs a sub-interval of at most an hour.
    EXPECT_EQ(
        write_setting(s, "panel.1.user_defined", int64_t{user_bits::kRtcDemandInterval}).error,
        WriteError::Inconsistent);
    ASSERT_TRUE(write_setting(s, "panel.1.subinterval_seconds", int64_t{3600}).ok());
    ASSERT_TRUE(
        write_setting(s, "panel.1.user_defined", int64_t{user_bits::kRtcDemandInterval}).ok());
    EXPECT_EQ(write_setting(s, "panel.1.subinterval_seconds", int64_t{3601}).error,
              WriteError::Inconsistent);
    EXPECT_EQ(write_setting(s, "panel.1.user_defined", int64_t{0x10}).error,
              WriteError::OutOfRange);
}

TEST(Settings, LogicalCircuitsMustBeOneToThreeAdjacentChannels) {
    Settings s;  // top feed: 1, 3, 5 are adjacent
    EXPECT_TRUE(write_setting(s, "panel.1.logical_circuit.3", int64_t{1}).ok());
    EXPECT_TRUE(write_setting(s, "panel.1.logical_circuit.5", int64_t{1}).ok());
    EXPECT_EQ(logical_circuit_members(s.panel(1), 1), (std::vector<int>{1, 3, 5}));
    // A fourth member, or a gap, is refused.
    EXPECT_EQ(write_setting(s, "panel.1.logical_circuit.7", int64_t{1}).error,
              WriteError::Inconsistent);
    EXPECT_EQ(write_setting(s, "panel.1.logical_circuit.9", int64_t{9}).error, WriteError::None);
    EXPECT_EQ(write_setting(s, "panel.1.logical_circuit.13", int64_t{9}).error,
              WriteError::Inconsistent);
    EXPECT_EQ(write_setting(s, "panel.1.logical_circuit.46", int64_t{46}).error,
              WriteError::Inconsistent);
    EXPECT_TRUE(write_setting(s, "panel.1.logical_circuit.7", int64_t{0}).ok());
    EXPECT_TRUE(logical_circuit_members(s.panel(1), 7).empty());
}

TEST(Settings, RouterNetworkFallsBackToFive) {
    GatewaySettings g;
    EXPECT_EQ(effective_router_net(g), 50);
    g.virt_router_net = 0;
    EXPECT_EQ(effective_router_net(g), 5);
    g.virt_router_net = 65535;
    EXPECT_EQ(effective_router_net(g), 5);
    g.virt_router_net = 65534;
    EXPECT_EQ(effective_router_net(g), 65534);
}
