// The BACnet read path allocates nothing per request once warm (issue 16):
// ReadProperty of a panel's Present_Value through the virtual router, on the
// meter's node over a datalink, and on the meter's BACnet/IP face answering
// a client over UDP on loopback. Counted by replacing the global allocation
// functions in this test executable.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <thread>
#include <vector>

#include "../counting_new.hpp"
#include "config/config.hpp"
#include "device/device.hpp"
#include "protocols/bacnet/apdu.hpp"
#include "protocols/bacnet/bvll.hpp"
#include "protocols/bacnet/meter_face.hpp"
#include "protocols/bacnet/meter_node.hpp"
#include "protocols/bacnet/npdu.hpp"

using namespace openbcpm;
using namespace openbcpm::bacnet;
using Bytes = std::vector<uint8_t>;

namespace {

Config alloc_config() {
    Config c = parse_config("[device]\nchannels = 84\n[gateway]\nprotocol_mode = 2\n",
                            "bacnet-alloc-test");
    c.settings.gateway.bacnet_ip_port = 0;  // any free port (the face's own)
    return c;
}

// A confirmed request to panel 1 (DNET 50, DADR 1) as an NPDU.
Bytes to_panel(ConfirmedService s, const Bytes& data, uint8_t invoke_id) {
    ConfirmedHeader c;
    c.invoke_id = invoke_id;
    c.service = static_cast<uint8_t>(s);
    c.max_apdu_code = 5;
    NpduHeader h;
    h.expecting_reply = true;
    h.destination = NetAddress{50, {1}};
    return encode_npdu(h, encode_confirmed_request(c, data));
}

Bytes read_pv(uint32_t ai) {
    return encode_read_property(
        {ObjectId(ObjectType::AnalogInput, ai), {PropertyId::PresentValue, kNoIndex}});
}

// Present_Value and Status_Flags of AI1..AI4.
Bytes small_rpm() {
    std::vector<ReadAccessSpec> specs;
    for (uint32_t ai = 1; ai <= 4; ++ai)
        specs.push_back(
            {ObjectId(ObjectType::AnalogInput, ai),
             {{PropertyId::PresentValue, kNoIndex}, {PropertyId::StatusFlags, kNoIndex}}});
    return encode_read_property_multiple(specs);
}

// The kind of the answer in an NPDU (a complex ack expected), or nullopt.
std::optional<PduType> answer_type(std::span<const uint8_t> npdu) {
    const auto n = decode_npdu(npdu);
    if (!n) return std::nullopt;
    const auto a = decode_apdu(n->payload);
    if (!a) return std::nullopt;
    return a->type;
}

// A datalink that keeps the last NPDU sent in a buffer of its own and hands
// NPDUs to the node from one station, without allocating itself.
struct QuietLink : Datalink {
    std::array<uint8_t, 1600> last{};
    size_t last_size = 0;
    size_t sent = 0;
    LinkAddress from{127, 0, 0, 1, 0xBA, 0xC0};
    void send_npdu(std::span<const uint8_t> npdu, const LinkAddress&) override {
        last_size = std::min(npdu.size(), last.size());
        std::copy_n(npdu.begin(), last_size, last.begin());
        ++sent;
    }
    size_t max_apdu() const override { return 1476; }
    void inject(std::span<const uint8_t> npdu) { deliver(npdu, from, false); }
    std::span<const uint8_t> answer() const { return {last.data(), last_size}; }
};

// Allocations per request of `rounds` requests after `warm` of the same.
double allocations_per_request(QuietLink& link, std::span<const uint8_t> npdu, int warm,
                               int rounds) {
    for (int i = 0; i < warm; ++i)
        link.inject(npdu);
    allocations = 0;
    counting = true;
    for (int i = 0; i < rounds; ++i)
        link.inject(npdu);
    counting = false;
    return static_cast<double>(allocations.load()) / rounds;
}

// The meter's node on a real Device (one metering window done), carried by a QuietLink.
struct NodeOnLink {
    Device device{alloc_config(), std::nullopt};
    MeterNode node{device};
    QuietLink link;
    NodeOnLink() {
        device.run_inline(1.0);
        node.router().attach(link);
        node.carry(link);
    }
    ~NodeOnLink() { node.release_link(); }
};

}  // namespace

TEST(BacnetAllocations, ReadPropertyThroughTheRouterAllocatesNothing) {
    NodeOnLink n;
    QuietLink& link = n.link;
    const Bytes rp = to_panel(ConfirmedService::ReadProperty, read_pv(417), 7);
    const size_t before = link.sent;
    EXPECT_EQ(allocations_per_request(link, rp, 10, 1000), 0.0);
    EXPECT_EQ(link.sent - before, 1010u) << "every request answered";
    EXPECT_EQ(answer_type(link.answer()), PduType::ComplexAck);
    // An unknown object answers an error, without allocating either.
    const Bytes unknown = to_panel(ConfirmedService::ReadProperty, read_pv(999999), 8);
    EXPECT_EQ(allocations_per_request(link, unknown, 10, 100), 0.0);
    EXPECT_EQ(answer_type(link.answer()), PduType::Error);
    // The count works: encoding a request the vector way allocates.
    counting = true;
    const Bytes again = to_panel(ConfirmedService::ReadProperty, read_pv(417), 9);
    counting = false;
    EXPECT_GT(allocations.load(), 0);
}

TEST(BacnetAllocations, SmallReadPropertyMultipleAllocatesNothing) {
    NodeOnLink n;
    const Bytes rpm = to_panel(ConfirmedService::ReadPropertyMultiple, small_rpm(), 7);
    EXPECT_EQ(allocations_per_request(n.link, rpm, 10, 1000), 0.0);
    EXPECT_EQ(answer_type(n.link.answer()), PduType::ComplexAck);
}

// A client on loopback with one request at a time: once warm, the meter's
// face answers (recvmmsg, BVLL, the gate, the router, sendmmsg) without allocating.
TEST(BacnetAllocations, MeterFaceAnswersReadPropertyOverUdpWithoutAllocating) {
    Device device(alloc_config(), std::nullopt);
    device.run_inline(1.0);
    boost::asio::io_context io;
    MeterBacnetIpFace face(io, device);
    face.start();
    const uint16_t port = face.local_port();
    ASSERT_NE(port, 0);
    const Bytes rp = encode_bvll_npdu(BvlcFunction::OriginalUnicastNpdu,
                                      to_panel(ConfirmedService::ReadProperty, read_pv(417), 3));
    constexpr int kWarm = 50;
    constexpr int kCounted = 1000;
    CountedPhase phase;
    std::atomic<int> failures{0};
    std::thread client([&] {
        const int fd = socket(AF_INET, SOCK_DGRAM, 0);
        timeval tv{2, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        auto one = [&] {
            if (sendto(fd, rp.data(), rp.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                       sizeof to) != static_cast<ssize_t>(rp.size()))
                return false;
            std::array<uint8_t, 1600> ans{};
            for (;;) {  // skip the I-Am announcements of the start
                const ssize_t r = recv(fd, ans.data(), ans.size(), 0);
                if (r <= 0) return false;
                const std::span<const uint8_t> got(ans.data(), static_cast<size_t>(r));
                if (got.size() < 4 || got[1] != 0x0A) continue;  // not Original-Unicast-NPDU
                return answer_type(got.subspan(4)) == PduType::ComplexAck;
            }
        };
        for (int i = 0; i < kWarm; ++i)
            if (!one()) ++failures;
        phase.warm_done();
        for (int i = 0; i < kCounted; ++i)
            if (!one()) ++failures;
        phase.done();
        close(fd);
    });
    const long counted = phase.count(io);
    client.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(counted, 0) << static_cast<double>(counted) / kCounted << " per request";
    face.stop();
}
