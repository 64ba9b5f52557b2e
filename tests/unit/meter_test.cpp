// Demand, sliding sub-intervals, snapshots, maxima, resets, logical circuits and
// the legacy multi-phase meters, against hand-worked cases.
#include "metering/meter.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "sources/simulator.hpp"

using namespace openbcpm;

namespace {

std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> ct_sizes() {
    std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> ct{};
    for (auto& p : ct)
        p.fill(100);
    return ct;
}

// A clean 120 V supply (no noise, no harmonics): 10 A at PF 1 is exactly 1.2 kW.
SimulationConfig clean_supply() {
    SimulationConfig c;
    c.voltage_noise = 0.0;
    c.current_noise = 0.0;
    return c;
}

LoadSpec load(int channel, double amps, double pf = 1.0) {
    LoadSpec l;
    l.channel = channel;
    l.amps = amps;
    l.pf = pf;
    return l;
}

class Rig {
  public:
    Rig(const SimulationConfig& sc, const Settings& s)
        : settings(s),
          sim(sc, s.model, ct_sizes()),
          meter(s.model, metering_config(s), 60.0),
          block(std::make_unique<SampleBlock>()) {}

    // Runs until metered time reaches t (windows end on 0.2 s boundaries at 60 Hz).
    void run_until(double t, const std::function<void(const MeterSnapshot&)>& each = {}) {
        while (meter.snapshot().time < t - 1e-6) {
            sim.read(*block);
            meter.process(*block, [&](const MeterSnapshot& s) {
                if (each) each(s);
            });
        }
    }
    const ChannelReadings& ch(int c, int panel = 1) const {
        return meter.snapshot()
            .panel[static_cast<size_t>(panel - 1)]
            .channel[static_cast<size_t>(c - 1)];
    }
    const PanelReadings& panel(int p = 1) const {
        return meter.snapshot().panel[static_cast<size_t>(p - 1)];
    }

    Settings settings;
    PanelSimulator sim;
    Meter meter;
    std::unique_ptr<SampleBlock> block;
};

}  // namespace

// 10 s sub-intervals, 3 of them sliding. The load steps 10, 20, 30, 0 A each
// sub-interval: present demand after each is 10, 15, 20, then (20+30+0)/3.
TEST(Demand, SlidingSubIntervalsHandWorked) {
    SimulationConfig sc = clean_supply();
    LoadSpec l = load(1, 10.0);
    l.schedule.kind = ScheduleKind::Steps;
    l.schedule.steps = {{0.0, 10.0}, {10.0, 20.0}, {20.0, 30.0}, {30.0, 0.0}};
    sc.loads = {l};
    Settings s;
    s.panel(1).demand_subintervals = 3;
    s.panel(1).subinterval_seconds = 10;
    Rig rig(sc, s);

    rig.run_until(9.8);
    EXPECT_EQ(rig.ch(1).current_demand, 0.0);  // nothing completed yet
    rig.run_until(10.0);
    EXPECT_NEAR(rig.ch(1).current_demand, 10.0, 0.01);
    EXPECT_NEAR(rig.ch(1).kw_demand, 1.2, 0.002);
    EXPECT_NEAR(rig.ch(1).kwh_snapshot, 1.2 * 10 / 3600.0, 1e-5);
    rig.run_until(20.0);
    EXPECT_NEAR(rig.ch(1).current_demand, 15.0, 0.01);
    rig.run_until(30.0);
    EXPECT_NEAR(rig.ch(1).current_demand, 20.0, 0.01);
    EXPECT_NEAR(rig.ch(1).kw_demand, 2.4, 0.003);
    rig.run_until(40.0);
    EXPECT_NEAR(rig.ch(1).current_demand, 50.0 / 3.0, 0.01);
    EXPECT_NEAR(rig.ch(1).max_current_demand, 20.0, 0.01);
    EXPECT_NEAR(rig.ch(1).max_kw_demand, 2.4, 0.003);
    EXPECT_NEAR(rig.ch(1).max_current, 30.0, 0.01);
    // Energy: 1.2 + 2.4 + 3.6 kW for 10 s each.
    EXPECT_NEAR(rig.ch(1).kwh, (1.2 + 2.4 + 3.6) * 10 / 3600.0, 1e-5);
    EXPECT_NEAR(rig.ch(1).kwh_snapshot, rig.ch(1).kwh, 1e-9);
    EXPECT_EQ(rig.panel().demand_updates, 4u);
}

TEST(Demand, BlockIntervalAndSnapshotsOnlyChangeAtIntervalEnds) {
    SimulationConfig sc = clean_supply();
    sc.loads = {load(2, 5.0)};
    Settings s;
    s.panel(1).subinterval_seconds = 10;
    Rig rig(sc, s);
    rig.run_until(10.0);
    const double snap = rig.ch(2).kwh_snapshot;
    EXPECT_GT(snap, 0.0);
    rig.run_until(15.0);
    EXPECT_EQ(rig.ch(2).kwh_snapshot, snap);  // unchanged mid-interval
    EXPECT_GT(rig.ch(2).kwh, snap);
    rig.run_until(20.0);
    EXPECT_NEAR(rig.ch(2).kwh_snapshot, 2 * snap, 1e-6);
    EXPECT_NEAR(rig.ch(2).current_demand, 5.0, 0.01);
}

TEST(Demand, SyncToCommsWaitsForTheCommand) {
    SimulationConfig sc = clean_supply();
    sc.loads = {load(1, 8.0)};
    Settings s;
    s.panel(1).subinterval_seconds = 0;
    Rig rig(sc, s);
    rig.run_until(30.0);
    EXPECT_EQ(rig.ch(1).current_demand, 0.0);
    EXPECT_EQ(rig.panel().demand_updates, 0u);
    rig.meter.apply(ResetCommand{1, ResetOp::NewSubinterval});  // 26012
    EXPECT_NEAR(rig.ch(1).current_demand, 8.0, 0.01);
    EXPECT_EQ(rig.panel().demand_updates, 1u);
}

TEST(Demand, RtcIntervalRunsOnlyOnceTheRtcIsSetAndDropsThePartialFirst) {
    SimulationConfig sc = clean_supply();
    sc.loads = {load(1, 8.0)};
    Settings s;
    s.panel(1).subinterval_seconds = 10;
    s.panel(1).user_defined = user_bits::kRtcDemandInterval;
    Rig rig(sc, s);
    rig.run_until(25.0);
    EXPECT_EQ(rig.panel().demand_updates, 0u);  // RTC not set
    EXPECT_FALSE(rig.meter.snapshot().rtc_set);
    rig.meter.set_rtc(1'700'000'005);  // 5 s into an RTC sub-interval
    rig.run_until(31.0);               // crosses ...010: partial first one dropped
    EXPECT_EQ(rig.panel().demand_updates, 0u);
    rig.run_until(41.0);  // crosses ...020: a full one
    EXPECT_EQ(rig.panel().demand_updates, 1u);
    EXPECT_NEAR(rig.ch(1).current_demand, 8.0, 0.01);
    EXPECT_NEAR(static_cast<double>(rig.meter.snapshot().rtc), 1'700'000'005 + 16.0, 1.0);
}

TEST(Resets, EnergyMaximaAndDemandOperations) {
    SimulationConfig sc = clean_supply();
    sc.loads = {load(1, 10.0), load(3, 10.0), load(44, 0.0)};
    Settings s;
    s.panel(1).subinterval_seconds = 10;
    Rig rig(sc, s);
    rig.run_until(10.0);
    ASSERT_GT(rig.ch(1).kwh, 0.0);
    ASSERT_GT(rig.ch(1).max_current_demand, 0.0);

    // Per-channel 10203 (register 1126): channel 1 only.
    uint64_t only1 = 1;
    rig.meter.apply(ResetCommand{1, ResetOp::ClearEnergy, only1});
    EXPECT_EQ(rig.ch(1).kwh, 0.0);
    EXPECT_GT(rig.ch(3).kwh, 0.0);
    // Global 29877: every max current and max kW.
    rig.meter.apply(ResetCommand{1, ResetOp::ClearMaxima});
    EXPECT_EQ(rig.ch(3).max_current, 0.0);
    EXPECT_EQ(rig.ch(3).max_kw, 0.0);
    EXPECT_GT(rig.ch(3).max_current_demand, 0.0);  // demand maxima untouched
    EXPECT_EQ(rig.panel().three_phase[0].max_kw, 0.0);
    // 20097: max demand.
    rig.meter.apply(ResetCommand{1, ResetOp::ClearMaxDemand});
    EXPECT_EQ(rig.ch(3).max_current_demand, 0.0);
    EXPECT_EQ(rig.ch(3).max_kw_demand, 0.0);
    // 26013: present demand starts over.
    rig.meter.apply(ResetCommand{1, ResetOp::ResetDemand});
    EXPECT_EQ(rig.ch(3).current_demand, 0.0);
    rig.run_until(20.0);
    EXPECT_NEAR(rig.ch(3).current_demand, 10.0, 0.01);
    EXPECT_NEAR(rig.ch(3).max_current, 10.0, 0.01);
    EXPECT_NEAR(rig.ch(1).kwh, 1.2 * 10 / 3600.0, 1e-5);
}

// The mains by phase (aux 1..3, served at 3501.. and their BACnet/SNMP pins):
// each reset the point map gives the totals acts on the phases alike, and the
// phases add up to the totals (254, 3385, 277) before and after.
TEST(Resets, MainsPhasesFollowTheMainsTotals) {
    SimulationConfig sc = clean_supply();
    sc.loads = {load(43, 20.0), load(44, 10.0), load(45, 5.0)};
    Settings s;
    s.panel(1).subinterval_seconds = 0;  // sync to comms: sub-intervals end on 26012
    Rig rig(sc, s);
    auto sums_match = [&](const char* when) {
        const PanelReadings& p = rig.panel();
        double kwh = 0, snap = 0, demand = 0;
        for (int c = 43; c <= 45; ++c) {
            kwh += rig.ch(c).kwh;
            snap += rig.ch(c).kwh_snapshot;
            demand += rig.ch(c).kw_demand;
        }
        EXPECT_NEAR(kwh, p.mains.kwh, 1e-9) << when;
        EXPECT_NEAR(snap, p.mains.kwh_snapshot, 1e-9) << when;
        EXPECT_NEAR(demand, p.mains.kw_demand, 1e-9) << when;
    };
    rig.run_until(36.0);
    rig.meter.apply(ResetCommand{1, ResetOp::NewSubinterval});  // 26012
    // 20 A x 120 V for 36 s: 0.024 kWh; demand 2.4 kW; the max is the first demand.
    EXPECT_NEAR(rig.ch(43).kwh, 2.4 * 36 / 3600, 1e-4);
    EXPECT_NEAR(rig.ch(43).kwh_snapshot, rig.ch(43).kwh, 1e-12);
    EXPECT_NEAR(rig.ch(43).kw_demand, 2.4, 0.01);
    EXPECT_NEAR(rig.ch(44).max_kw_demand, 1.2, 0.01);
    EXPECT_NEAR(rig.panel().mains.max_kw_demand, 4.2, 0.03);
    sums_match("after the first sub-interval");

    const uint64_t aux = uint64_t{0xF} << 42;                     // register 294: aux 1..4
    rig.meter.apply(ResetCommand{1, ResetOp::ClearEnergy, aux});  // 294 = 10203
    for (int c = 43; c <= 45; ++c) {
        EXPECT_EQ(rig.ch(c).kwh, 0.0) << c;
        EXPECT_GT(rig.ch(c).kwh_snapshot, 0.0) << c;  // as the total's snapshot: kept
    }
    EXPECT_EQ(rig.panel().mains.kwh, 0.0);
    rig.meter.apply(ResetCommand{1, ResetOp::ClearMaxima, aux});  // 294 = 29877
    EXPECT_GT(rig.ch(43).max_kw_demand, 0.0);  // not a demand reset, for the total neither
    EXPECT_GT(rig.panel().mains.max_kw_demand, 0.0);
    sums_match("after the aux resets");

    rig.meter.apply(ResetCommand{1, ResetOp::ClearMaxDemand});  // 295 = 20097
    for (int c = 43; c <= 45; ++c)
        EXPECT_EQ(rig.ch(c).max_kw_demand, 0.0) << c;
    EXPECT_EQ(rig.panel().mains.max_kw_demand, 0.0);
    rig.meter.apply(ResetCommand{1, ResetOp::ResetDemand});  // 295 = 26013
    for (int c = 43; c <= 45; ++c)
        EXPECT_EQ(rig.ch(c).kw_demand, 0.0) << c;
    EXPECT_EQ(rig.panel().mains.kw_demand, 0.0);
    sums_match("after the global resets");

    rig.run_until(48.0);
    rig.meter.apply(ResetCommand{1, ResetOp::NewSubinterval});
    EXPECT_NEAR(rig.ch(45).kw_demand, 0.6, 0.01);
    EXPECT_NEAR(rig.ch(45).max_kw_demand, 0.6, 0.01);
    EXPECT_NEAR(rig.ch(43).kwh, 2.4 * 12 / 3600, 1e-4);
    sums_match("after the next sub-interval");
}

TEST(LogicalCircuits, MultiPhaseTotalsOfAdjacentChannels) {
    SimulationConfig sc = clean_supply();
    sc.loads = {load(1, 10.0, 1.0), load(3, 10.0, 0.5), load(5, 20.0, 1.0)};
    Settings s;
    s.panel(1).logical_circuit[2] = 1;  // 3 -> circuit 1
    s.panel(1).logical_circuit[4] = 1;  // 5 -> circuit 1
    s.panel(1).subinterval_seconds = 10;
    Rig rig(sc, s);
    rig.run_until(10.0);
    const GroupReadings& lc = rig.panel().logical[0];
    ASSERT_TRUE(lc.valid);
    EXPECT_EQ(lc.members, 3);
    EXPECT_EQ(lc.channel, (std::array<int, 3>{1, 3, 5}));
    EXPECT_NEAR(lc.kw, 1.2 + 0.6 + 2.4, 0.005);
    EXPECT_NEAR(lc.kva, 1.2 + 1.2 + 2.4, 0.005);
    EXPECT_NEAR(lc.pf, 4.2 / 4.8, 0.001);
    EXPECT_NEAR(lc.current, 40.0 / 3.0, 0.01);
    EXPECT_NEAR(lc.kwh, rig.ch(1).kwh + rig.ch(3).kwh + rig.ch(5).kwh, 1e-9);
    EXPECT_NEAR(lc.kw_demand, 4.2, 0.006);
    EXPECT_NEAR(lc.max_kw_demand, 4.2, 0.006);
    EXPECT_FALSE(rig.panel().logical[2].valid);  // circuit 3 has no member now
    EXPECT_EQ(rig.panel().logical[2].members, 0);

    // Reassigning drops the circuit's own maxima (a new circuit).
    Settings s2 = s;
    s2.panel(1).logical_circuit[4] = 5;
    rig.meter.configure(metering_config(s2));
    EXPECT_EQ(rig.panel().logical[0].members, 2);
    EXPECT_EQ(rig.panel().logical[0].max_kw_demand, 0.0);
    EXPECT_TRUE(rig.panel().logical[4].valid);
}

// The legacy 2- and 3-phase meters follow the point map's phasing tables.
TEST(LegacyMeters, MembershipFollowsThePointMapTables) {
    Settings s;
    Rig rig(clean_supply(), s);
    const PanelReadings& p = rig.panel();
    EXPECT_EQ(p.two_phase[0].channel, (std::array<int, 3>{1, 3, 0}));
    EXPECT_EQ(p.two_phase[1].channel, (std::array<int, 3>{2, 4, 0}));
    EXPECT_EQ(p.two_phase[2].channel, (std::array<int, 3>{5, 7, 0}));
    EXPECT_EQ(p.two_phase[19].channel, (std::array<int, 3>{38, 40, 0}));
    EXPECT_EQ(p.two_phase[20].channel, (std::array<int, 3>{41, 42, 0}));
    EXPECT_EQ(p.three_phase[0].channel, (std::array<int, 3>{1, 3, 5}));
    EXPECT_EQ(p.three_phase[1].channel, (std::array<int, 3>{2, 4, 6}));
    EXPECT_EQ(p.three_phase[2].channel, (std::array<int, 3>{7, 9, 11}));
    EXPECT_EQ(p.three_phase[13].channel, (std::array<int, 3>{38, 40, 42}));
    EXPECT_EQ(p.mains.channel, (std::array<int, 3>{43, 44, 45}));

    Settings seq;
    seq.panel(1).configuration = StripConfiguration::Sequential;
    Rig rig2(clean_supply(), seq);
    EXPECT_EQ(rig2.panel().two_phase[1].channel, (std::array<int, 3>{3, 4, 0}));
    EXPECT_EQ(rig2.panel().three_phase[13].channel, (std::array<int, 3>{40, 41, 42}));
}

TEST(Models, AbsentChannelsAndPanelsAreNotPresent) {
    Settings s;
    s.model = *ModelInfo::from_channels(24);
    Rig rig(clean_supply(), s);
    rig.run_until(0.4);
    EXPECT_TRUE(rig.panel(1).present);
    EXPECT_FALSE(rig.panel(2).present);
    EXPECT_TRUE(rig.ch(24).present);
    EXPECT_FALSE(rig.ch(25).present);
    EXPECT_TRUE(rig.ch(43).present);
    EXPECT_TRUE(rig.panel().three_phase[4].valid);   // 13, 15, 17
    EXPECT_TRUE(rig.panel().three_phase[3].valid);   // 8, 10, 12
    EXPECT_FALSE(rig.panel().three_phase[8].valid);  // 25, 27, 29 beyond a 24-channel panel
}

TEST(Restore, NonVolatileValuesComeBack) {
    SimulationConfig sc = clean_supply();
    sc.loads = {load(1, 10.0)};
    Settings s;
    s.panel(1).subinterval_seconds = 10;
    Rig rig(sc, s);
    rig.run_until(10.0);
    const MeterSnapshot saved = rig.meter.snapshot();
    Rig fresh(sc, s);
    fresh.meter.restore(saved);
    EXPECT_EQ(fresh.ch(1).kwh, saved.panel[0].channel[0].kwh);
    EXPECT_EQ(fresh.ch(1).max_current_demand, saved.panel[0].channel[0].max_current_demand);
    EXPECT_EQ(fresh.ch(1).current_demand, 0.0);  // present demand is volatile
    fresh.run_until(0.2);
    EXPECT_GT(fresh.ch(1).kwh, saved.panel[0].channel[0].kwh);
}
