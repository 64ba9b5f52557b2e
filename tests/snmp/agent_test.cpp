#include "protocols/snmp/agent.hpp"

#include <gtest/gtest.h>

#include "protocols/snmp/ber.hpp"
#include "test_mib.hpp"
#include "test_support.hpp"

namespace openbcpm::snmp {
namespace {

using testmib::kEntry;
using testmib::kScalars;

Oid scalar(uint32_t s) {
    return kScalars.child(s).child(0);
}
Oid cell(uint32_t column, uint32_t row) {
    return kEntry.child(column).child(row);
}

class SnmpAgent : public ::testing::Test {
  protected:
    void SetUp() override { make(); }

    void make(size_t max_message_size = kMaxUdpPayload, bool broken = true) {
        agent_.reset();
        mib_ = std::make_unique<testmib::TestMib>(300, broken, 1000);
        AgentConfig c;
        c.system.descr = "openbcpm test agent";
        c.system.name = "tester";
        c.system.or_entries = {{oids::kSnmpMib, "SNMPv2-MIB"}, {testmib::kRoot, "test MIB"}};
        c.uptime = [this] { return uptime_; };
        c.set_serial_no = 100;
        c.max_message_size = max_message_size;
        agent_ = std::make_unique<Agent>(c, std::vector<std::shared_ptr<MibView>>{mib_->view()});
    }

    static Message request(PduType type, const std::vector<Oid>& names,
                           std::string community = "public") {
        Message m;
        m.community = std::move(community);
        m.pdu.type = type;
        m.pdu.request_id = 0x5EED;
        for (const Oid& n : names)
            m.pdu.varbinds.push_back({n, Null{}});
        return m;
    }
    static Message bulk(int32_t non_repeaters, int32_t max_repetitions,
                        const std::vector<Oid>& names) {
        Message m = request(PduType::GetBulkRequest, names);
        m.pdu.error_status = non_repeaters;
        m.pdu.error_index = max_repetitions;
        return m;
    }
    static Message set(std::vector<VarBind> bindings, std::string community = "private") {
        Message m = request(PduType::SetRequest, {}, std::move(community));
        m.pdu.varbinds = std::move(bindings);
        return m;
    }

    std::optional<Pdu> exchange_bytes(const testing::Bytes& datagram) {
        auto out = agent_->handle(datagram);
        if (!out) return std::nullopt;
        EXPECT_LE(out->size(), max_size_seen_limit_);
        const Decoded d = decode_message(*out);
        EXPECT_EQ(d.status, DecodeStatus::Ok);
        EXPECT_EQ(d.message.pdu.type, PduType::Response);
        EXPECT_EQ(d.message.pdu.request_id, 0x5EED);
        return d.message.pdu;
    }
    std::optional<Pdu> exchange(const Message& m) { return exchange_bytes(encode_message(m)); }
    Value get_value(const Oid& name) {
        auto r = exchange(request(PduType::GetRequest, {name}));
        if (!r || r->varbinds.size() != 1) return Null{};
        return r->varbinds[0].value;
    }
    static void expect_error(const std::optional<Pdu>& r, ErrorStatus status, int32_t index) {
        ASSERT_TRUE(r);
        EXPECT_EQ(static_cast<ErrorStatus>(r->error_status), status)
            << to_string(static_cast<ErrorStatus>(r->error_status));
        EXPECT_EQ(r->error_index, index);
    }

    std::unique_ptr<testmib::TestMib> mib_;
    std::unique_ptr<Agent> agent_;
    uint32_t uptime_ = 4242;
    size_t max_size_seen_limit_ = kMaxUdpPayload;
};

// ---- Get ----

TEST_F(SnmpAgent, GetAnswersValuesAndExceptions) {
    const auto r =
        exchange(request(PduType::GetRequest,
                         {oids::kSysDescr.child(0), oids::kSysUpTime0, cell(testmib::kValue, 7),
                          cell(testmib::kValue, 301), Oid{1, 3, 6, 1, 3, 1717, 9, 0},
                          Oid{1, 3, 6, 1, 5, 1}, oids::kSysDescr, oids::kSysObjectId.child(0)}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error_status, 0);
    ASSERT_EQ(r->varbinds.size(), 8u);
    EXPECT_EQ(r->varbinds[0].value, Value(std::string("openbcpm test agent")));
    EXPECT_EQ(r->varbinds[1].value, Value(TimeTicks{4242}));
    EXPECT_EQ(r->varbinds[2].value, Value(int32_t{7}));
    EXPECT_EQ(r->varbinds[3].value, Value(NoSuchInstance{}));  // no row 301
    EXPECT_EQ(r->varbinds[4].value, Value(NoSuchObject{}));    // no such object type
    EXPECT_EQ(r->varbinds[5].value, Value(NoSuchObject{}));    // outside every view
    EXPECT_EQ(r->varbinds[6].value, Value(NoSuchInstance{}));  // the object, not its instance
    EXPECT_EQ(r->varbinds[7].value, Value(oids::kBcpme));
    EXPECT_EQ(r->varbinds[2].name, cell(testmib::kValue, 7));
    EXPECT_EQ(r->varbinds[3].name, cell(testmib::kValue, 301));
}

TEST_F(SnmpAgent, GetOfAnUnreadableInstanceIsGenErrWithItsIndex) {
    const auto r =
        exchange(request(PduType::GetRequest, {oids::kSysUpTime0, scalar(testmib::kBroken)}));
    expect_error(r, ErrorStatus::GenErr, 2);
    ASSERT_EQ(r->varbinds.size(), 2u);
    EXPECT_EQ(r->varbinds[1].name, scalar(testmib::kBroken));
    EXPECT_EQ(r->varbinds[1].value, Value(Null{}));  // the request's bindings, echoed
}

TEST_F(SnmpAgent, SystemGroupAndSysOrTable) {
    EXPECT_EQ(get_value(oids::kSysServices.child(0)), Value(int32_t{72}));
    EXPECT_EQ(get_value(oids::kSysName.child(0)), Value(std::string("tester")));
    EXPECT_EQ(get_value(oids::kSysOrLastChange.child(0)), Value(TimeTicks{0}));
    EXPECT_EQ(get_value(oids::kSysOrEntry.child(2).child(1)), Value(oids::kSnmpMib));
    EXPECT_EQ(get_value(oids::kSysOrEntry.child(2).child(2)), Value(testmib::kRoot));
    EXPECT_EQ(get_value(oids::kSysOrEntry.child(3).child(2)), Value(std::string("test MIB")));
    EXPECT_EQ(get_value(oids::kSysOrEntry.child(4).child(1)), Value(TimeTicks{0}));
    EXPECT_EQ(get_value(oids::kSysOrEntry.child(2).child(3)), Value(NoSuchInstance{}));
    EXPECT_EQ(get_value(oids::kSysOrEntry.child(1).child(1)),
              Value(NoSuchObject{}));  // sysORIndex: not-accessible
    EXPECT_EQ(get_value(oids::kSnmp.child(30).child(0)),
              Value(int32_t{2}));  // authen traps disabled
    EXPECT_EQ(get_value(oids::kSnmpSetSerialNo.child(0)), Value(int32_t{100}));
    EXPECT_EQ(get_value(oids::kSnmpTrapOid0), Value(NoSuchObject{}));  // accessible-for-notify only
    EXPECT_EQ(get_value(oids::kSnmp.child(2).child(0)),
              Value(NoSuchObject{}));  // obsolete snmpOutPkts
}

// ---- GetNext ----

TEST_F(SnmpAgent, GetNextWalksLexicographicallyToEndOfMibView) {
    make(kMaxUdpPayload, false);
    Oid at{0, 0};
    std::vector<VarBind> seen;
    while (true) {
        const auto r = exchange(request(PduType::GetNextRequest, {at}));
        ASSERT_TRUE(r);
        ASSERT_EQ(r->error_status, 0);
        ASSERT_EQ(r->varbinds.size(), 1u);
        if (std::holds_alternative<EndOfMibView>(r->varbinds[0].value)) {
            EXPECT_EQ(r->varbinds[0].name, at);  // the name stays the requested one
            break;
        }
        ASSERT_LT(at, r->varbinds[0].name);
        at = r->varbinds[0].name;
        seen.push_back(r->varbinds[0]);
    }
    // system (8 scalars + 2 sysOR rows x 3 columns), snmp (8), test MIB, snmpSetSerialNo.
    EXPECT_EQ(seen.size(), 8 + 6 + 8 + mib_->walk_size() + 1);
    EXPECT_EQ(seen.front().name, oids::kSysDescr.child(0));
    EXPECT_EQ(seen.back().name, oids::kSnmpSetSerialNo.child(0));
    // Every name walked to reads back the same way with Get.
    for (size_t i = 0; i < seen.size(); i += 97) {
        if (seen[i].name == oids::kSysUpTime0 || seen[i].name.starts_with(oids::kSnmp)) continue;
        EXPECT_EQ(get_value(seen[i].name), seen[i].value) << seen[i].name.to_string();
    }
}

TEST_F(SnmpAgent, GetNextCrossesFromViewToView) {
    const auto r =
        exchange(request(PduType::GetNextRequest,
                         {oids::kSysOrEntry.child(4).child(2), oids::kSnmp.child(32).child(0),
                          scalar(testmib::kStubborn), oids::kSnmpSetSerialNo.child(0), Oid{2, 5}}));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->varbinds.size(), 5u);
    EXPECT_EQ(r->varbinds[0].name, oids::kSnmp.child(1).child(0));
    EXPECT_EQ(r->varbinds[1].name, cell(testmib::kValue, 1));
    EXPECT_EQ(r->varbinds[2].name, oids::kSnmpSetSerialNo.child(0));
    EXPECT_EQ(r->varbinds[3].value, Value(EndOfMibView{}));
    EXPECT_EQ(r->varbinds[4].value, Value(EndOfMibView{}));
    EXPECT_EQ(r->varbinds[4].name, (Oid{2, 5}));
}

TEST_F(SnmpAgent, GetNextOntoAnUnreadableInstanceIsGenErr) {
    expect_error(
        exchange(request(PduType::GetNextRequest, {oids::kSysUpTime0, scalar(testmib::kScarce)})),
        ErrorStatus::GenErr, 2);
}

// ---- GetBulk ----

TEST_F(SnmpAgent, GetBulkNonRepeatersAndRepetitions) {
    const auto r = exchange(bulk(
        1, 3, {oids::kSysUpTime.child(0), cell(testmib::kValue, 0), cell(testmib::kCount, 298)}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error_status, 0);
    ASSERT_EQ(r->varbinds.size(), 1u + 3 * 2);
    EXPECT_EQ(r->varbinds[0].name, oids::kSysContact.child(0));
    // Repetitions interleave the repeaters: value.1, count.299, value.2, count.300, value.3, big.1
    EXPECT_EQ(r->varbinds[1].name, cell(testmib::kValue, 1));
    EXPECT_EQ(r->varbinds[2].name, cell(testmib::kCount, 299));
    EXPECT_EQ(r->varbinds[3].name, cell(testmib::kValue, 2));
    EXPECT_EQ(r->varbinds[4].name, cell(testmib::kCount, 300));
    EXPECT_EQ(r->varbinds[5].name, cell(testmib::kValue, 3));
    EXPECT_EQ(r->varbinds[6].name, cell(testmib::kBig, 1));
    EXPECT_EQ(r->varbinds[6].value, Value(Counter64{(uint64_t{1} << 40) + 1}));
}

TEST_F(SnmpAgent, GetBulkClampsItsFields) {
    // Negative fields count as zero; non-repeaters beyond the list count as the list.
    auto r = exchange(bulk(-5, 2, {oids::kSysDescr}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->varbinds.size(), 2u);
    r = exchange(bulk(0, -1, {oids::kSysDescr}));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->varbinds.empty());
    r = exchange(bulk(7, 50, {oids::kSysDescr, oids::kSysName}));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->varbinds.size(), 2u);
    EXPECT_EQ(r->varbinds[1].name, oids::kSysName.child(0));
    r = exchange(bulk(0, 10, {}));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->varbinds.empty());
}

TEST_F(SnmpAgent, GetBulkRepeatsEndOfMibViewThenStops) {
    const auto r = exchange(bulk(0, 1000, {scalar(testmib::kStubborn), oids::kSnmpSetSerialNo}));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->varbinds.size(), 4u);  // two iterations: the second is all endOfMibView
    EXPECT_EQ(r->varbinds[0].name, oids::kSnmpSetSerialNo.child(0));
    EXPECT_EQ(r->varbinds[1].name, oids::kSnmpSetSerialNo.child(0));
    EXPECT_EQ(r->varbinds[2].value, Value(EndOfMibView{}));
    EXPECT_EQ(r->varbinds[2].name, oids::kSnmpSetSerialNo.child(0));
    EXPECT_EQ(r->varbinds[3].value, Value(EndOfMibView{}));
}

TEST_F(SnmpAgent, GetBulkTruncatesToTheMessageSizeInsteadOfTooBig) {
    make(1400);
    max_size_seen_limit_ = 1400;
    const auto full_agent_view = mib_->view();
    const auto r = exchange(bulk(0, 100000, {kEntry}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error_status, 0);
    ASSERT_GT(r->varbinds.size(), 30u);
    // What came back is the head of the walk, in order.
    Oid at = kEntry;
    for (const VarBind& vb : r->varbinds) {
        const auto next = full_agent_view->next_after(at);
        ASSERT_TRUE(next);
        EXPECT_EQ(vb, next->binding);
        at = vb.name;
    }
    // And one more binding would not have fitted.
    const auto next = full_agent_view->next_after(at);
    Message shape = request(PduType::Response, {});
    size_t octets = 0;
    for (const VarBind& vb : r->varbinds)
        octets += ber::encoded_size(vb);
    EXPECT_GT(message_size(shape, octets + ber::encoded_size(next->binding)), 1400u);
}

TEST_F(SnmpAgent, GetBulkOntoAnUnreadableInstanceIsGenErr) {
    expect_error(exchange(bulk(1, 5, {oids::kSysDescr, scalar(testmib::kScarce)})),
                 ErrorStatus::GenErr, 2);
}

// ---- tooBig ----

TEST_F(SnmpAgent, OversizedGetIsTooBigWithNoBindings) {
    make(1400);
    const auto r =
        exchange(request(PduType::GetRequest, {scalar(testmib::kBlob), scalar(testmib::kBlob)}));
    expect_error(r, ErrorStatus::TooBig, 0);
    EXPECT_TRUE(r->varbinds.empty());
    const auto next = exchange(
        request(PduType::GetNextRequest, {scalar(testmib::kReadOnly), scalar(testmib::kReadOnly)}));
    expect_error(next, ErrorStatus::TooBig, 0);
    // One blob fits.
    const auto one = exchange(request(PduType::GetRequest, {scalar(testmib::kBlob)}));
    ASSERT_TRUE(one);
    EXPECT_EQ(one->error_status, 0);
}

TEST_F(SnmpAgent, DropsSilentlyWhenEvenTooBigDoesNotFit) {
    make(20);  // an empty response is 28 octets
    EXPECT_FALSE(
        agent_->handle(encode_message(request(PduType::GetRequest, {oids::kSysDescr.child(0)}))));
    EXPECT_EQ(agent_->counters().silent_drops, 1u);
}

// ---- Set ----

TEST_F(SnmpAgent, SetWritesAndEchoes) {
    const auto r =
        exchange(set({{cell(testmib::kValue, 5), int32_t{999}},
                      {cell(testmib::kName, 5), std::string("feeder A")},
                      {cell(testmib::kGauge, 5), Gauge32{100}},
                      {oids::kSysContact.child(0), std::string("facilities@example.org")}}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error_status, 0);
    EXPECT_EQ(r->error_index, 0);
    ASSERT_EQ(r->varbinds.size(), 4u);
    EXPECT_EQ(r->varbinds[0].value, Value(int32_t{999}));
    EXPECT_EQ(mib_->rows[4].value, 999);
    EXPECT_EQ(mib_->rows[4].name, "feeder A");
    EXPECT_EQ(mib_->rows[4].gauge, 100u);
    EXPECT_EQ(get_value(oids::kSysContact.child(0)), Value(std::string("facilities@example.org")));
    EXPECT_EQ(agent_->mib_state().system.contact, "facilities@example.org");
}

struct SetCase {
    const char* what;
    std::vector<VarBind> bindings;
    ErrorStatus status;
    int32_t index;
};

TEST_F(SnmpAgent, SetErrorsNameTheFailingBindingAndChangeNothing) {
    const VarBind good{cell(testmib::kValue, 1), int32_t{500}};
    const std::vector<SetCase> cases{
        {"string for INTEGER",
         {good, {cell(testmib::kValue, 2), std::string("7")}},
         ErrorStatus::WrongType,
         2},
        {"exception as value",
         {good, {cell(testmib::kValue, 2), NoSuchObject{}}},
         ErrorStatus::WrongType,
         2},
        {"Counter32 for Gauge32",
         {good, {cell(testmib::kGauge, 2), Counter32{1}}},
         ErrorStatus::WrongType,
         2},
        {"name too long",
         {good, {cell(testmib::kName, 2), std::string(17, 'n')}},
         ErrorStatus::WrongLength,
         2},
        {"above range",
         {good, {cell(testmib::kValue, 2), int32_t{1001}}},
         ErrorStatus::WrongValue,
         2},
        {"below range",
         {good, {cell(testmib::kValue, 2), int32_t{-1}}},
         ErrorStatus::WrongValue,
         2},
        {"gauge above range",
         {good, {cell(testmib::kGauge, 2), Gauge32{101}}},
         ErrorStatus::WrongValue,
         2},
        {"not an enumeration",
         {good, {scalar(testmib::kMode), int32_t{3}}},
         ErrorStatus::WrongValue,
         2},
        {"not ASCII",
         {good, {cell(testmib::kName, 2), std::string("\xFF")}},
         ErrorStatus::WrongValue,
         2},
        {"read-only column",
         {good, {cell(testmib::kCount, 2), Counter32{1}}},
         ErrorStatus::NotWritable,
         2},
        {"read-only scalar",
         {good, {scalar(testmib::kReadOnly), int32_t{1}}},
         ErrorStatus::NotWritable,
         2},
        {"sysDescr",
         {good, {oids::kSysDescr.child(0), std::string("x")}},
         ErrorStatus::NotWritable,
         2},
        {"snmp counter",
         {good, {oids::kSnmp.child(1).child(0), Counter32{0}}},
         ErrorStatus::NotWritable,
         2},
        {"unknown object",
         {good, {Oid{1, 3, 6, 1, 3, 1717, 9, 0}, int32_t{1}}},
         ErrorStatus::NotWritable,
         2},
        {"outside every view",
         {good, {Oid{1, 3, 6, 1, 5, 0}, int32_t{1}}},
         ErrorStatus::NotWritable,
         2},
        {"no such row",
         {good, {cell(testmib::kValue, 301), int32_t{1}}},
         ErrorStatus::NoCreation,
         2},
        {"absent instance",
         {good, {cell(testmib::kName, 200), std::string("x")}},
         ErrorStatus::NoCreation,
         2},
        {"scalar without .0",
         {good, {kScalars.child(testmib::kMode), int32_t{1}}},
         ErrorStatus::NoCreation,
         2},
        {"resource",
         {good, {scalar(testmib::kScarce), int32_t{99}}},
         ErrorStatus::ResourceUnavailable,
         2},
        {"serial mismatch",
         {good, {oids::kSnmpSetSerialNo.child(0), int32_t{5}}},
         ErrorStatus::InconsistentValue,
         2},
        {"serial range",
         {good, {oids::kSnmpSetSerialNo.child(0), int32_t{-5}}},
         ErrorStatus::WrongValue,
         2},
        {"lowest index wins",
         {{cell(testmib::kValue, 3), std::string("x")}, {cell(testmib::kCount, 2), Counter32{1}}},
         ErrorStatus::WrongType,
         1},
        {"commit fails",
         {good,
          {oids::kSysLocation.child(0), std::string("moved")},
          {scalar(testmib::kFragile), int32_t{13}}},
         ErrorStatus::CommitFailed,
         3},
    };
    for (const SetCase& c : cases) {
        const auto r = exchange(set(c.bindings));
        SCOPED_TRACE(c.what);
        ASSERT_TRUE(r);
        expect_error(r, c.status, c.index);
        ASSERT_EQ(r->varbinds, c.bindings);  // echoed
        EXPECT_EQ(mib_->rows[0].value, 1);   // the good binding was not applied, or was put back
        EXPECT_TRUE(agent_->mib_state().system.location.empty());
        EXPECT_EQ(agent_->mib_state().set_serial_no, 100);
    }
    EXPECT_EQ(mib_->fragile, 10);
}

TEST_F(SnmpAgent, LockedObjectIsInconsistentValue) {
    mib_->locked = 1;
    expect_error(exchange(set({{scalar(testmib::kGuarded), int32_t{50}}})),
                 ErrorStatus::InconsistentValue, 1);
    mib_->locked = 0;
    const auto r = exchange(set({{scalar(testmib::kGuarded), int32_t{50}}}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error_status, 0);
    EXPECT_EQ(mib_->guarded, 50);
}

TEST_F(SnmpAgent, WrongEncodingFromTheWire) {
    const Message m =
        set({{cell(testmib::kValue, 1), int32_t{500}}, {cell(testmib::kAddr, 1), Null{}}});
    expect_error(exchange_bytes(testing::message_with_raw_value(m, 2, {0x40, 0x03, 1, 2, 3})),
                 ErrorStatus::WrongEncoding, 2);
    expect_error(exchange_bytes(testing::message_with_raw_value(m, 2, {0x47, 0x01, 0x00})),
                 ErrorStatus::WrongType, 2);
    // An earlier binding's error comes first.
    const Message m2 =
        set({{cell(testmib::kCount, 1), Counter32{1}}, {cell(testmib::kAddr, 1), Null{}}});
    expect_error(exchange_bytes(testing::message_with_raw_value(m2, 2, {0x40, 0x03, 1, 2, 3})),
                 ErrorStatus::NotWritable, 1);
    EXPECT_EQ(mib_->rows[0].value, 1);
}

TEST_F(SnmpAgent, FailedCommitAcrossViewsIsUndone) {
    // sysLocation (SNMPv2-MIB view) commits before the test view's fragile object fails.
    const auto r = exchange(set({{oids::kSysLocation.child(0), std::string("room 5")},
                                 {oids::kSnmpSetSerialNo.child(0), int32_t{100}},
                                 {scalar(testmib::kFragile), int32_t{13}}}));
    expect_error(r, ErrorStatus::CommitFailed, 3);
    EXPECT_EQ(agent_->mib_state().system.location, "");
    EXPECT_EQ(agent_->mib_state().set_serial_no, 100);
}

TEST_F(SnmpAgent, UndoThatFailsIsUndoFailed) {
    const auto r = exchange(
        set({{scalar(testmib::kStubborn), int32_t{5}}, {scalar(testmib::kFragile), int32_t{13}}}));
    expect_error(r, ErrorStatus::UndoFailed, 2);
}

TEST_F(SnmpAgent, SetSerialNoIsTestAndIncr) {
    auto r = exchange(set(
        {{oids::kSnmpSetSerialNo.child(0), int32_t{100}}, {scalar(testmib::kMode), int32_t{2}}}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error_status, 0);
    EXPECT_EQ(get_value(oids::kSnmpSetSerialNo.child(0)), Value(int32_t{101}));
    EXPECT_EQ(mib_->mode, 2);
    // A manager that read 100 has lost the race now.
    expect_error(exchange(set({{oids::kSnmpSetSerialNo.child(0), int32_t{100}},
                               {scalar(testmib::kMode), int32_t{1}}})),
                 ErrorStatus::InconsistentValue, 1);
    EXPECT_EQ(mib_->mode, 2);
}

TEST_F(SnmpAgent, SetSerialNoWrapsToZero) {
    agent_->mib_state().set_serial_no = 2147483647;
    const auto r = exchange(set({{oids::kSnmpSetSerialNo.child(0), int32_t{2147483647}}}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error_status, 0);
    EXPECT_EQ(agent_->mib_state().set_serial_no, 0);
}

TEST_F(SnmpAgent, OversizedSetIsTooBigBeforeAnythingChanges) {
    make(120);  // the request is 159 octets, an empty response 28
    const auto r = exchange(set({{cell(testmib::kName, 1), std::string(16, 'a')},
                                 {cell(testmib::kName, 2), std::string(16, 'b')},
                                 {cell(testmib::kName, 3), std::string(16, 'c')},
                                 {cell(testmib::kName, 4), std::string(16, 'd')}}));
    expect_error(r, ErrorStatus::TooBig, 0);
    EXPECT_EQ(mib_->rows[0].name, "row 1");
}

// ---- Communities and counters ----

TEST_F(SnmpAgent, WrongCommunityGetsNoAnswer) {
    EXPECT_FALSE(agent_->handle(
        encode_message(request(PduType::GetRequest, {oids::kSysDescr.child(0)}, "nope"))));
    EXPECT_FALSE(
        agent_->handle(encode_message(set({{scalar(testmib::kMode), int32_t{2}}}, "publi"))));
    EXPECT_EQ(agent_->counters().in_bad_community_names, 2u);
    EXPECT_EQ(mib_->mode, 1);
    EXPECT_EQ(get_value(oids::kSnmp.child(4).child(0)), Value(Counter32{2}));
}

TEST_F(SnmpAgent, WriteCommunityMayReadReadCommunityMayNotWrite) {
    auto r = exchange(request(PduType::GetRequest, {oids::kSysName.child(0)}, "private"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->varbinds[0].value, Value(std::string("tester")));
    r = exchange(
        set({{oids::kSysContact.child(0), int32_t{1}}, {scalar(testmib::kMode), int32_t{2}}},
            "public"));
    expect_error(r, ErrorStatus::NoAccess, 1);
    EXPECT_EQ(mib_->mode, 1);
    EXPECT_EQ(agent_->counters().in_bad_community_uses, 1u);
    EXPECT_EQ(agent_->counters().in_bad_community_names, 0u);
}

TEST_F(SnmpAgent, EmptyCommunitiesGrantNothing) {
    agent_->set_communities({"", "", "trap"});
    EXPECT_FALSE(agent_->handle(
        encode_message(request(PduType::GetRequest, {oids::kSysDescr.child(0)}, ""))));
    agent_->set_communities({"ro", "", "trap"});
    EXPECT_TRUE(agent_->handle(
        encode_message(request(PduType::GetRequest, {oids::kSysDescr.child(0)}, "ro"))));
    expect_error(exchange(set({{scalar(testmib::kMode), int32_t{2}}}, "ro")), ErrorStatus::NoAccess,
                 1);
}

TEST_F(SnmpAgent, AuthenticationFailureNotificationFollowsSnmpEnableAuthenTraps) {
    int failures = 0;
    agent_->on_authentication_failure = [&] { ++failures; };
    agent_->handle(
        encode_message(request(PduType::GetRequest, {oids::kSysDescr.child(0)}, "guess")));
    EXPECT_EQ(failures, 0);  // disabled(2) by default
    auto r = exchange(set({{oids::kSnmp.child(30).child(0), int32_t{1}}}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error_status, 0);
    agent_->handle(
        encode_message(request(PduType::GetRequest, {oids::kSysDescr.child(0)}, "guess")));
    EXPECT_EQ(failures, 1);
    expect_error(exchange(set({{oids::kSnmp.child(30).child(0), int32_t{0}}})),
                 ErrorStatus::WrongValue, 1);
}

TEST_F(SnmpAgent, CountsParseErrorsAndBadVersions) {
    const testing::Bytes good =
        encode_message(request(PduType::GetRequest, {oids::kSysDescr.child(0)}));
    EXPECT_FALSE(agent_->handle(testing::Bytes{0x30, 0x03, 0x02, 0x01}));
    EXPECT_FALSE(agent_->handle(testing::Bytes{}));
    Message v1 = request(PduType::GetRequest, {oids::kSysDescr.child(0)});
    v1.version = kVersion1;
    EXPECT_FALSE(agent_->handle(encode_message(v1)));
    Message v3 = v1;
    v3.version = 3;
    EXPECT_FALSE(agent_->handle(encode_message(v3)));
    testing::Bytes huge(kMaxUdpPayload + 1, 0);
    EXPECT_FALSE(agent_->handle(huge));
    EXPECT_TRUE(agent_->handle(good));
    const SnmpCounters& c = agent_->counters();
    EXPECT_EQ(c.in_pkts, 6u);
    EXPECT_EQ(c.in_asn_parse_errs, 3u);
    EXPECT_EQ(c.in_bad_versions, 2u);
    EXPECT_EQ(get_value(oids::kSnmp.child(1).child(0)), Value(Counter32{7}));
}

TEST_F(SnmpAgent, IgnoresPdusThatAreNotRequests) {
    for (const PduType t :
         {PduType::Response, PduType::SNMPv2Trap, PduType::InformRequest, PduType::Report}) {
        EXPECT_FALSE(agent_->handle(encode_message(request(t, {oids::kSysDescr.child(0)}))));
    }
    EXPECT_EQ(agent_->counters().in_asn_parse_errs, 0u);
}

// ---- Notifications ----

TEST_F(SnmpAgent, NotificationCarriesUptimeAndTrapOid) {
    agent_->set_communities({"public", "private", "events"});
    const VarBind extra{Oid{1, 3, 6, 1, 3, 1717, 2, 7, 0}, int32_t{42}};
    const auto bytes = agent_->notification(oids::kColdStart, std::span(&extra, 1));
    const Decoded d = decode_message(bytes);
    ASSERT_EQ(d.status, DecodeStatus::Ok);
    EXPECT_EQ(d.message.version, kVersion2c);
    EXPECT_EQ(d.message.community, "events");
    EXPECT_EQ(d.message.pdu.type, PduType::SNMPv2Trap);
    EXPECT_EQ(d.message.pdu.error_status, 0);
    ASSERT_EQ(d.message.pdu.varbinds.size(), 3u);
    EXPECT_EQ(d.message.pdu.varbinds[0], (VarBind{oids::kSysUpTime0, TimeTicks{4242}}));
    EXPECT_EQ(d.message.pdu.varbinds[1], (VarBind{oids::kSnmpTrapOid0, oids::kColdStart}));
    EXPECT_EQ(d.message.pdu.varbinds[2], extra);
    const Decoded again = decode_message(agent_->notification(oids::kColdStart));
    EXPECT_NE(again.message.pdu.request_id, d.message.pdu.request_id);
}

}  // namespace
}  // namespace openbcpm::snmp
