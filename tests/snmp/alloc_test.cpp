// Allocations per request of the meter's SNMP agent (issue 16: none on any
// face): Get, GetNext and GetBulk on the meter's MIB view over a real Device,
// from the request datagram to the response datagram, counted by replacing
// the global allocation functions in this test executable. A warm agent
// decodes into, answers in and encodes from storage it keeps, so that these
// requests allocate nothing. The cold agent's first request does allocate
// (its storage grows): that test shows the count goes through the real path.
#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "../counting_new.hpp"
#include "config/config.hpp"
#include "device/device.hpp"
#include "protocols/snmp/agent.hpp"
#include "protocols/snmp/meter_face.hpp"
#include "protocols/snmp/meter_mib.hpp"
#include "protocols/snmp/meter_view.hpp"
#include "protocols/snmp/snmp_face.hpp"

using namespace openbcpm;
using namespace openbcpm::snmp;

namespace {

Oid object(const std::string& name) {
    const meter::MibObject* o = meter::MeterMib::instance().find(name);
    if (!o) throw std::runtime_error("no MIB object " + name);
    return o->oid;
}

using Datagram = std::vector<uint8_t>;

struct MeterAgent {
    Device device{parse_config("[device]\nchannels = 84\n", "snmp-alloc-test"), std::nullopt};
    DeviceModel model{device};
    std::shared_ptr<meter::MeterView> view = std::make_shared<meter::MeterView>(model);
    Agent agent{AgentConfig{}, {view}};
    MeterAgent() { device.run_inline(1.0); }

    // One request as the face makes it: the newest snapshot, then the agent.
    // The bindings of the response (none when there is none).
    std::optional<Pdu> answer(const Datagram& datagram) {
        view->refresh();
        const auto out = agent.handle(datagram);
        if (!out) return std::nullopt;
        return decode_message(*out).message.pdu;
    }

    // Allocations per request over `rounds` rounds of `datagrams` in turn,
    // after as many warm-up rounds; false in `answered` when one got no
    // answer or an error.
    double per_request(const std::vector<Datagram>& datagrams, int rounds, bool& answered) {
        answered = true;
        for (int i = 0; i < 10; ++i)
            for (const Datagram& d : datagrams) {
                const auto r = answer(d);
                answered = answered && r && r->error_status == 0 && !r->varbinds.empty();
            }
        long n = 0;
        for (int i = 0; i < rounds; ++i) {
            for (const Datagram& d : datagrams) {
                view->refresh();  // as the face does before each request
                allocations = 0;
                counting = true;
                const auto out = agent.handle(d);
                counting = false;
                n += allocations.load();
                answered = answered && out.has_value();
            }
        }
        return static_cast<double>(n) / static_cast<double>(rounds * datagrams.size());
    }
};

Datagram request(PduType type, const std::vector<Oid>& oids, int32_t non_repeaters = 0,
                 int32_t max_repetitions = 0) {
    Message m;
    m.community = "public";
    m.pdu.type = type;
    m.pdu.request_id = 77;
    m.pdu.error_status = non_repeaters;
    m.pdu.error_index = max_repetitions;
    for (const Oid& oid : oids)
        m.pdu.varbinds.push_back({oid, Null{}});
    return encode_message(m);
}

Oid current5() {
    return object("p1BranchCurrent").child(5);
}

}  // namespace

TEST(SnmpAllocations, GetOfABranchCurrent) {
    MeterAgent m;
    bool answered = false;
    const double n = m.per_request({request(PduType::GetRequest, {current5()})}, 1000, answered);
    EXPECT_TRUE(answered);
    std::printf("SNMP Get p1BranchCurrent.5: %.1f allocations per request\n", n);
    EXPECT_EQ(n, 0.0);
}

TEST(SnmpAllocations, GetNextOfABranchCurrent) {
    MeterAgent m;
    bool answered = false;
    const double n =
        m.per_request({request(PduType::GetNextRequest, {current5()})}, 1000, answered);
    EXPECT_TRUE(answered);
    EXPECT_EQ(n, 0.0);
}

TEST(SnmpAllocations, GetBulkOfTenRows) {
    MeterAgent m;
    bool answered = false;
    const double n = m.per_request(
        {request(PduType::GetBulkRequest, {object("p1BranchCurrent")}, 0, 10)}, 300, answered);
    EXPECT_TRUE(answered);
    std::printf("SNMP GetBulk 10 of p1BranchCurrent: %.1f allocations per request\n", n);
    EXPECT_EQ(n, 0.0);
}

// The SNMPv2-MIB beside the meter's: OCTET STRING and OID values too.
TEST(SnmpAllocations, GetOfTheSystemGroup) {
    MeterAgent m;
    bool answered = false;
    const double n = m.per_request(
        {request(PduType::GetRequest, {oids::kSysDescr.child(0), oids::kSysObjectId.child(0),
                                       oids::kSysUpTime.child(0), oids::kSysName.child(0)}),
         request(PduType::GetNextRequest, {oids::kSysDescr})},
        500, answered);
    EXPECT_TRUE(answered);
    EXPECT_EQ(n, 0.0);
}

// A whole walk by GetBulk of 50, repeated: the SNMPv2-MIB's strings and the
// product MIB's settings (texts among them) too. What does allocate: a
// binding's place that holds another type than in the request before makes
// an OID or an OCTET STRING of more than 15 octets anew; here once per walk,
// sysObjectID.0 in the first request where the last one had an integer.
TEST(SnmpAllocations, WalkOfTheWholeView) {
    MeterAgent m;
    std::vector<Datagram> walk;
    Oid at{1};
    while (true) {
        const Datagram d = request(PduType::GetBulkRequest, {at}, 0, 50);
        const auto r = m.answer(d);
        ASSERT_TRUE(r);
        if (r->varbinds.empty() || std::holds_alternative<EndOfMibView>(r->varbinds.back().value))
            break;
        walk.push_back(d);
        at = r->varbinds.back().name;
    }
    bool answered = false;
    const double n = m.per_request(walk, 3, answered);
    EXPECT_TRUE(answered);
    std::printf("SNMP walk by GetBulk 50 (%zu requests): %.1f allocations per walk\n", walk.size(),
                n * static_cast<double>(walk.size()));
    EXPECT_GT(walk.size(), 80u);
    EXPECT_LE(n * static_cast<double>(walk.size()), 1.0 + 1e-9);
}

// Requests of other shapes in turn: bindings kept from a larger request serve
// a smaller one and back; GetBulk with non-repeaters and several repeaters;
// names of other lengths (a column, an instance below an instance).
TEST(SnmpAllocations, MixedRequestsInTurn) {
    MeterAgent m;
    const Oid power = object("p1BranchKw");
    bool answered = false;
    const double n = m.per_request(
        {request(PduType::GetRequest, {current5(), power.child(7), power.child(84)}),
         request(PduType::GetBulkRequest, {current5(), object("p1BranchCurrent"), power}, 1, 25),
         request(PduType::GetNextRequest, {power, current5().child(1).child(2)}),
         request(PduType::GetRequest, {power.child(3)})},
        200, answered);
    EXPECT_TRUE(answered);
    EXPECT_EQ(n, 0.0);
}

// The counting works through this path: the first request of a new agent
// grows its storage.
TEST(SnmpAllocations, ColdAgentCounts) {
    MeterAgent m;
    const Datagram bulk = request(PduType::GetBulkRequest, {object("p1BranchCurrent")}, 0, 10);
    m.view->refresh();
    allocations = 0;
    counting = true;
    const bool answered = m.agent.handle(bulk).has_value();
    counting = false;
    EXPECT_TRUE(answered);
    EXPECT_GT(allocations.load(), 0);
}

// The whole face: a datagram from a client on 127.0.0.1 to the face's socket
// on its io_context, and the answer back, counted from the receive to the
// send (the loop's run_one that receives, answers and sends at once).
TEST(SnmpAllocations, FaceFromDatagramInToDatagramOut) {
    using boost::asio::ip::udp;
    Config cfg = parse_config("[device]\nchannels = 84\n", "snmp-alloc-test");
    cfg.settings.gateway.ip_address = "127.0.0.1";
    cfg.settings.gateway.snmp_port = 0;  // any free port
    cfg.settings.gateway.snmp_notif_ip = "0.0.0.0";
    Device device{cfg, std::nullopt};
    device.run_inline(1.0);
    DeviceModel model{device};
    auto view = std::make_shared<meter::MeterView>(model);
    boost::asio::io_context io;
    SnmpFaceOptions options;
    options.views = {view};
    options.before_request = [v = view.get()] { v->refresh(); };
    options.take_ticket = [v = view.get()] { return v->take_ticket(); };
    SnmpFace face(io, device, options);
    face.start();
    udp::socket client(io, udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));

    // The meter's values, then the system group's strings: a binding's place
    // keeps its value's type within each (see WalkOfTheWholeView).
    const std::vector<std::vector<Datagram>> phases{
        {request(PduType::GetRequest, {current5()}), request(PduType::GetNextRequest, {current5()}),
         request(PduType::GetBulkRequest, {object("p1BranchCurrent")}, 0, 10)},
        {request(PduType::GetRequest, {oids::kSysDescr.child(0)}),
         request(PduType::GetNextRequest, {oids::kSysDescr})}};
    std::array<uint8_t, 65536> in{};
    long counted = 0;
    int answers = 0;
    const auto exchange = [&](const Datagram& d, bool count) {
        client.send_to(boost::asio::buffer(d), face.local_endpoint());
        if (count) {
            allocations = 0;
            counting = true;
        }
        io.run_one();
        counting = false;
        if (count) counted += allocations.load();
        if (client.available() == 0) return;
        udp::endpoint from;
        const size_t n = client.receive_from(boost::asio::buffer(in), from);
        const Decoded r = decode_message(std::span<const uint8_t>(in.data(), n));
        if (r.status == DecodeStatus::Ok && r.message.pdu.error_status == 0 &&
            !r.message.pdu.varbinds.empty())
            ++answers;
    };
    for (const auto& requests : phases) {
        for (int i = 0; i < 10; ++i)
            for (const Datagram& d : requests)
                exchange(d, false);
        for (int i = 0; i < 200; ++i)
            for (const Datagram& d : requests)
                exchange(d, true);
    }
    EXPECT_EQ(answers, 10 * 5 + 200 * 5);
    EXPECT_EQ(counted, 0);
}
