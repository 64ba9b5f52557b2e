// The product MIB through the agent: values against the simulator's truth,
// absent rows, and Sets that apply all or nothing.
#include "protocols/snmp/meter_view.hpp"

#include <gtest/gtest.h>

#include "fixed_model.hpp"
#include "protocols/snmp/agent.hpp"
#include "test_mib.hpp"

namespace openbcpm::snmp::meter {
namespace {

// 12.5 A at PF 0.85 on channel 5 of panel 1, 120 V wye.
Config known_loads(int channels) {
    return parse_config(R"(
[device]
channels = )" + std::to_string(channels) +
                            R"(
[simulation]
wiring = "wye"
voltage_ln = 120.0
frequency = 60.0
current_noise = 0.0
voltage_thd = 0.0
[[simulation.load]]
panel = 1
channel = 5
amps = 12.5
pf = 0.85
)",
                        "test");
}

Oid at(const std::string& name, uint32_t instance) {
    const MibObject* o = MeterMib::instance().find(name);
    if (!o) throw std::runtime_error("no MIB object " + name);
    return o->oid.child(instance);
}

class MeterViewTest : public ::testing::Test {
  protected:
    explicit MeterViewTest(int channels = 84) : model_(known_loads(channels), 3.0) {
        view_ = std::make_shared<MeterView>(model_);
        AgentConfig c;
        c.system.descr = "meter view test";
        c.set_serial_no = 1;
        agent_ = std::make_unique<Agent>(
            c, std::vector<std::shared_ptr<MibView>>{view_, test_mib_.view()});
    }

    Pdu exchange(PduType type, std::vector<VarBind> bindings, const std::string& community) {
        Message m;
        m.community = community;
        m.pdu.type = type;
        m.pdu.request_id = 77;
        m.pdu.varbinds = std::move(bindings);
        view_->refresh();
        const auto out = agent_->handle(encode_message(m));
        if (!out) throw std::runtime_error("no answer");
        const Decoded d = decode_message(*out);
        EXPECT_EQ(d.status, DecodeStatus::Ok);
        return d.message.pdu;
    }
    Value get(const Oid& name) {
        const Pdu r = exchange(PduType::GetRequest, {{name, Null{}}}, "public");
        EXPECT_EQ(r.error_status, 0);
        return r.varbinds.at(0).value;
    }
    int32_t get_int(const Oid& name) {
        const Value v = get(name);
        if (const auto* i = std::get_if<int32_t>(&v)) return *i;
        ADD_FAILURE() << name.to_string() << " is " << to_string(v);
        return 0;
    }
    Pdu set(std::vector<VarBind> bindings) {
        return exchange(PduType::SetRequest, std::move(bindings), "private");
    }

    testing::FixedModel model_;
    testmib::TestMib test_mib_{5};
    std::shared_ptr<MeterView> view_;
    std::unique_ptr<Agent> agent_;
};

TEST_F(MeterViewTest, MeasurementsAgreeWithTheSimulatorsTruth) {
    EXPECT_NEAR(get_int(at("p1BranchCurrent", 5)), 12500, 120);
    EXPECT_NEAR(get_int(at("p1BranchPf", 5)), 850, 10);
    EXPECT_NEAR(get_int(at("p1BranchKw", 5)), 1275, 25);  // 12.5 A x 120 V x 0.85
    EXPECT_NEAR(get_int(at("p1BranchKva", 5)), 1500, 25);
    EXPECT_NEAR(get_int(at("p1VoltsLineNeutral", 1)), 1200, 5);
    EXPECT_NEAR(get_int(at("p1VoltsLineLine", 1)), 2078, 8);  // 120 V x sqrt 3
    EXPECT_NEAR(get_int(at("p1Frequency", 0)), 6000, 3);
    EXPECT_EQ(get_int(at("p1BranchCurrent", 6)), 0);
    // About 3 s of 1.275 kW: 1.06 Wh, in thousandths of a kWh.
    const Value kwh = get(at("p1BranchKwh", 5));
    ASSERT_TRUE(std::holds_alternative<Counter64>(kwh)) << to_string(kwh);
    EXPECT_NEAR(static_cast<double>(std::get<Counter64>(kwh).value), 1.06, 0.2);
    // Settings read as they are.
    EXPECT_EQ(get_int(at("p1HighHighThreshold", 0)), 700);
    EXPECT_EQ(get(at("p1Location", 0)), Value(std::string("Location")));
    // 12.5 A on the default 20 A breaker is 62.5 %: over the non-latching high (60 %).
    EXPECT_EQ(get_int(at("p1ChannelEventStatus", 5)), event_bits::kNonLatchingHigh);
    EXPECT_EQ(get_int(at("p1ChannelEventStatus", 6)), event_bits::kNonLatchingLow);  // 0 A
    EXPECT_EQ(get_int(at("p1GlobalReset", 0)), 0);  // commands read none(0)
}

TEST_F(MeterViewTest, ChannelsTheModelLacksAreAbsentNotMadeUp) {
    EXPECT_TRUE(
        std::holds_alternative<int32_t>(get(at("p1AuxCurrent", 4))));    // aux 4 has a current
    EXPECT_EQ(get(at("p1AuxKw", 4)), Value(NoSuchInstance{}));           // the neutral has no power
    EXPECT_EQ(get(at("p1BranchCurrent", 43)), Value(NoSuchInstance{}));  // no such row
    // By default each branch is its own circuit and aux 1..3 form circuit 43: 44..46 are empty.
    EXPECT_NEAR(get_int(at("p1FlexKw", 5)), 1275, 25);
    EXPECT_EQ(get(at("p1FlexChannelCount", 43)), Value(Gauge32{3}));
    EXPECT_EQ(get(at("p1FlexKw", 44)), Value(NoSuchInstance{}));
    EXPECT_EQ(get(at("p1FlexChannelCount", 44)), Value(Gauge32{0}));
    // A walk skips what is absent: the next cell after aux 3's kW is row 1 of the next column.
    const Pdu r = exchange(PduType::GetNextRequest, {{at("p1AuxKw", 3), Null{}}}, "public");
    EXPECT_EQ(r.varbinds.at(0).name, at("p1AuxKva", 1));
}

class OnePanelMeterViewTest : public MeterViewTest {
  protected:
    OnePanelMeterViewTest() : MeterViewTest(24) {}
};

TEST_F(OnePanelMeterViewTest, AOnePanelModelHasNoPanelTwoAndNoChannelsBeyondItsStrips) {
    EXPECT_EQ(get(at("p2BranchCurrent", 1)), Value(NoSuchObject{}));
    EXPECT_NEAR(get_int(at("p1BranchCurrent", 5)), 12500, 120);
    EXPECT_EQ(get(at("p1BranchCurrent", 25)), Value(NoSuchInstance{}));
    EXPECT_EQ(get(at("p1ChannelEventStatus", 30)), Value(NoSuchInstance{}));
}

TEST_F(MeterViewTest, ASettingIsWrittenAsOneBatch) {
    const Pdu r = set({{at("p1HighHighThreshold", 0), int32_t{650}},
                       {at("p1ChannelCtSize", 7), int32_t{50}},
                       {at("p1Location", 0), std::string("Row D")}});
    EXPECT_EQ(r.error_status, 0);
    EXPECT_EQ(model_.batches, 1);
    EXPECT_EQ(model_.settings().panel(1).hh_threshold, 650);
    EXPECT_EQ(model_.settings().panel(1).ct_size[6], 50);
    EXPECT_EQ(model_.settings().panel(1).location, "Row D");
    EXPECT_EQ(get_int(at("p1HighHighThreshold", 0)), 650);
    EXPECT_EQ(get_int(at("p2HighHighThreshold", 0)), 700);
}

TEST_F(MeterViewTest, ABadSetChangesNothingAndNamesTheBinding) {
    const Settings before = model_.settings();
    auto same = [&] {
        EXPECT_EQ(model_.settings().panel(1).hh_threshold, before.panel(1).hh_threshold);
        EXPECT_EQ(model_.settings().panel(1).location, before.panel(1).location);
        EXPECT_EQ(model_.batches, 0);
        EXPECT_TRUE(model_.resets.empty());
    };
    Pdu r = set(
        {{at("p1HighHighThreshold", 0), int32_t{650}}, {at("p1HighThreshold", 0), int32_t{1001}}});
    EXPECT_EQ(r.error_status, static_cast<int32_t>(ErrorStatus::WrongValue));
    EXPECT_EQ(r.error_index, 2);
    same();
    r = set({{at("p1SubintervalSeconds", 0), int32_t{5}}});  // 0 or 10..32767
    EXPECT_EQ(r.error_status, static_cast<int32_t>(ErrorStatus::InconsistentValue));
    same();
    r = set({{at("p1Location", 0), std::string(128, 'x')}});
    EXPECT_EQ(r.error_status, static_cast<int32_t>(ErrorStatus::WrongLength));
    r = set({{at("p1Location", 0), std::string("caf\xc3\xa9")}});
    EXPECT_EQ(r.error_status, static_cast<int32_t>(ErrorStatus::WrongValue));
    r = set({{at("p1BranchCurrent", 5), int32_t{1}}});
    EXPECT_EQ(r.error_status, static_cast<int32_t>(ErrorStatus::NotWritable));
    r = set({{at("p1HighHighThreshold", 0), Gauge32{650}}});
    EXPECT_EQ(r.error_status, static_cast<int32_t>(ErrorStatus::WrongType));
    r = set({{at("p1BranchReset", 5), int32_t{1234}}});
    EXPECT_EQ(r.error_status, static_cast<int32_t>(ErrorStatus::WrongValue));
    r = set({{at("p1ClockYear", 0), int32_t{2030}}});
    EXPECT_EQ(r.error_status, static_cast<int32_t>(ErrorStatus::NotWritable));
    same();
    // The read community may not write at all.
    r = exchange(PduType::SetRequest, {{at("p1HighHighThreshold", 0), int32_t{650}}}, "public");
    EXPECT_EQ(r.error_status, static_cast<int32_t>(ErrorStatus::NoAccess));
    same();
}

TEST_F(MeterViewTest, SettingsOfOneRequestAreJudgedTogetherInOrder) {
    // The RTC demand interval (62017 bit 2) needs a sub-interval of at most 3600 s.
    Pdu r = set({{at("p1SubintervalSeconds", 0), int32_t{7200}},
                 {at("p1UserDefinedSettings", 0), int32_t{4}}});
    EXPECT_EQ(r.error_status, static_cast<int32_t>(ErrorStatus::InconsistentValue));
    EXPECT_EQ(r.error_index, 2);
    EXPECT_EQ(model_.batches, 0);
    r = set({{at("p1SubintervalSeconds", 0), int32_t{600}},
             {at("p1UserDefinedSettings", 0), int32_t{4}}});
    EXPECT_EQ(r.error_status, 0);
    EXPECT_EQ(model_.settings().panel(1).user_defined, 4);
    EXPECT_EQ(model_.settings().panel(1).subinterval_seconds, 600);
}

TEST_F(MeterViewTest, CommandsClearLatchesResetAndSetThePowerUpCounter) {
    Pdu r = set({{at("p1ChannelEventStatus", 3), int32_t{0xFFFE}},
                 {at("p1VoltageEventStatus", 2), int32_t{0}},
                 {at("p1BranchReset", 5), int32_t{points::reset_codes::kClearEnergy}},
                 {at("p1GlobalReset", 0), int32_t{points::reset_codes::kClearLatches}},
                 {at("p1AuxReset", 0), int32_t{points::reset_codes::kClearMaxima}},
                 {at("p1PowerUpCount", 0), int32_t{17}}});
    ASSERT_EQ(r.error_status, 0);
    ASSERT_EQ(model_.clears.size(), 2u);
    EXPECT_EQ(model_.clears[0].channel, 3);
    EXPECT_EQ(model_.clears[0].clear_bits, event_bits::kHighHigh);
    EXPECT_EQ(model_.clears[1].channel, 48);  // B-C
    EXPECT_EQ(model_.clears[1].clear_bits, 0x0003);
    ASSERT_EQ(model_.resets.size(), 3u);
    EXPECT_EQ(model_.resets[0].op, ResetOp::ClearEnergy);
    EXPECT_EQ(model_.resets[0].channels, uint64_t{1} << 4);
    EXPECT_EQ(model_.resets[1].op, ResetOp::ClearLatches);
    EXPECT_EQ(model_.resets[1].channels, ResetCommand::kAllChannels);
    EXPECT_EQ(model_.resets[2].op, ResetOp::ClearMaxima);
    EXPECT_EQ(model_.resets[2].channels, uint64_t{0xF} << 42);
    EXPECT_EQ(model_.power_up_counter(1), 17);
    // Writing 1 to every latched bit clears nothing.
    model_.clears.clear();
    r = set({{at("p1ChannelEventStatus", 3), int32_t{0x001F}}});
    EXPECT_EQ(r.error_status, 0);
    EXPECT_TRUE(model_.clears.empty());
}

TEST_F(MeterViewTest, AFailedCommitOfTheMeterChangesNothing) {
    model_.fail_writes = true;
    const Pdu r =
        set({{at("p1PowerUpCount", 0), int32_t{5}}, {at("p1HighHighThreshold", 0), int32_t{650}}});
    EXPECT_EQ(r.error_status, static_cast<int32_t>(ErrorStatus::CommitFailed));
    EXPECT_EQ(r.error_index, 2);
    EXPECT_EQ(model_.power_up_counter(1), 0);
    EXPECT_EQ(model_.settings().panel(1).hh_threshold, 700);
}

TEST_F(MeterViewTest, AnotherViewsFailedCommitPutsTheSettingsBack) {
    // The test MIB's fragile scalar fails the commit of 13, after this view committed.
    const Pdu r = set({{at("p1HighHighThreshold", 0), int32_t{650}},
                       {at("p1PowerUpCount", 0), int32_t{9}},
                       {testmib::kScalars.child(testmib::kFragile).child(0), int32_t{13}}});
    EXPECT_EQ(r.error_status, static_cast<int32_t>(ErrorStatus::CommitFailed));
    EXPECT_EQ(r.error_index, 3);
    EXPECT_EQ(model_.settings().panel(1).hh_threshold, 700);
    EXPECT_EQ(model_.power_up_counter(1), 0);
    // A reset cannot be taken back: undoFailed.
    const Pdu u = set({{at("p1BranchReset", 5), int32_t{points::reset_codes::kClearEnergy}},
                       {testmib::kScalars.child(testmib::kFragile).child(0), int32_t{13}}});
    EXPECT_EQ(u.error_status, static_cast<int32_t>(ErrorStatus::UndoFailed));
}

TEST_F(MeterViewTest, AWalkOfThePanelsIsOrderedAndCoversEveryServedInstance) {
    size_t served = 0;
    for (const MibObject& o : MeterMib::instance().objects()) {
        if (o.notify_only) continue;
        for (const auto* p : o.rows)
            served += p != nullptr;
    }
    Oid name = panel_oid(1);
    size_t seen = 0, absent = 0;
    for (;;) {
        const Pdu r = exchange(PduType::GetNextRequest, {{name, Null{}}}, "public");
        const VarBind& vb = r.varbinds.at(0);
        if (!vb.name.starts_with(oids::kPanels)) break;
        EXPECT_LT(name, vb.name);
        EXPECT_FALSE(is_exception(vb.value)) << vb.name.to_string();
        name = vb.name;
        ++seen;
        ASSERT_LT(seen, 20000u);
    }
    for (const MibObject& o : MeterMib::instance().objects()) {
        if (o.notify_only) continue;
        for (uint32_t row = 1; row <= o.rows.size(); ++row) {
            if (!o.rows[row - 1]) continue;
            const Value v = get(o.oid.child(o.column ? row : 0));
            absent += std::holds_alternative<NoSuchInstance>(v);
        }
    }
    EXPECT_EQ(seen + absent, served);
    EXPECT_GT(seen, 3000u);
}

}  // namespace
}  // namespace openbcpm::snmp::meter
