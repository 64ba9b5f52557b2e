// The meter's MS/TP face on a real Device (the simulator's meter, its BACnet
// devices from the point catalogue) on a pseudo-terminal: the settings give
// the port, baud, MAC and Max_Master; the router device and a panel device
// answer through the line; Max_Master written over BACnet reaches the node
// and the setting.
#include "protocols/mstp/meter_face.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <functional>
#include <thread>

#include "config/config.hpp"
#include "device/device.hpp"
#include "protocols/bacnet/apdu.hpp"
#include "protocols/bacnet/services.hpp"
#include "pty_peer.hpp"

using namespace openbcpm;
using namespace openbcpm::bacnet;
using namespace std::chrono_literals;
using openbcpm::mstp::FrameType;
using openbcpm::mstp::testing::PtyPeer;

namespace {

Config meter_config(const std::string& device) {
    return parse_config(R"(
[device]
channels = 84
[gateway]
protocol_mode = 1
[serial]
device = ")" + device + R"("
baud = 19200
[bacnet]
mstp_mac_addr = 6
mstp_max_master = 7
)",
                        "meter_face_test");
}

std::vector<uint8_t> request(uint8_t invoke_id, ConfirmedService service,
                             const std::vector<uint8_t>& data,
                             std::optional<NetAddress> to = std::nullopt) {
    ConfirmedHeader c;
    c.invoke_id = invoke_id;
    c.service = static_cast<uint8_t>(service);
    c.max_apdu_code = 3;  // 480
    NpduHeader h;
    h.expecting_reply = true;
    h.destination = std::move(to);
    return encode_npdu(h, encode_confirmed_request(c, data));
}

// The APDU of the meter's reply to a request sent while the peer (station 7)
// holds the token (an Apdu's fields are views into these octets).
std::vector<uint8_t> ask(PtyPeer& peer, const std::vector<uint8_t>& npdu) {
    peer.send(mstp::encode_frame(FrameType::DataExpectingReply, 6, 7, npdu));
    const auto reply = peer.next(1s);
    if (!reply || reply->type != FrameType::DataNotExpectingReply) return {};
    const auto n = decode_npdu(reply->data);
    if (!n) return {};
    return {n->payload.begin(), n->payload.end()};
}

}  // namespace

TEST(MstpMeterFace, TheMetersDevicesAnswerOverTheLineAsTheSettingsSay) {
    PtyPeer peer;
    Device device(meter_config(peer.name()), std::nullopt);
    boost::asio::io_context io;
    auto face = mstp::make_meter_mstp_face(io, device);
    auto* meter_face = dynamic_cast<mstp::MeterMstpFace*>(face.get());
    ASSERT_NE(meter_face, nullptr);
    EXPECT_EQ(face->name(), "bacnet-mstp");
    face->start();
    const auto& o = meter_face->mstp()->options();
    EXPECT_EQ(o.device, peer.name());
    EXPECT_EQ(o.baud, 19200U);
    EXPECT_EQ(o.mac, 6);
    EXPECT_EQ(o.max_master, 7);
    auto guard = boost::asio::make_work_guard(io);
    std::thread loop([&] { io.run(); });
    // Whatever fails below, the loop stops and the thread is joined.
    struct Join {
        std::function<void()> f;
        ~Join() { f(); }
    } join{[&] {
        if (!loop.joinable()) return;
        boost::asio::post(io, [&] {
            face->stop();
            guard.reset();
        });
        loop.join();
    }};

    // Silent line: MAC 6 claims the token in its slot and polls 7, the peer.
    const auto pfm = peer.next_of(FrameType::PollForMaster, 2s);
    ASSERT_TRUE(pfm);
    EXPECT_EQ(pfm->source, 6);
    EXPECT_EQ(pfm->destination, 7);
    peer.send(mstp::encode_frame(FrameType::ReplyToPollForMaster, 6, 7));
    ASSERT_TRUE(peer.next_of(FrameType::Token, 500ms));

    auto reply = ask(peer, request(1, ConfirmedService::ReadProperty,
                                   encode_read_property({ObjectId(ObjectType::Device, 50000),
                                                         {PropertyId::ObjectName, kNoIndex}})));
    auto a = decode_apdu(reply);
    ASSERT_TRUE(a);
    ASSERT_EQ(a->type, PduType::ComplexAck);
    EXPECT_EQ(decode_read_property_ack(a->data).value.at(0).as<CharString>()->text,
              "BCPME_Gateway");

    reply = ask(peer, request(2, ConfirmedService::ReadProperty,
                              encode_read_property({ObjectId(ObjectType::Device, 50001),
                                                    {PropertyId::MaxApduLengthAccepted, kNoIndex}}),
                              NetAddress{50, {1}}));
    a = decode_apdu(reply);
    ASSERT_TRUE(a);
    ASSERT_EQ(a->type, PduType::ComplexAck);
    EXPECT_EQ(*decode_read_property_ack(a->data).value.at(0).as<uint64_t>(), 480U);

    WritePropertyRequest w;
    w.object = ObjectId(ObjectType::Device, 50000);
    w.value.ref = {PropertyId::MaxMaster, kNoIndex};
    w.value.value = {Element::app(uint64_t{20})};
    reply = ask(peer, request(3, ConfirmedService::WriteProperty, encode_write_property(w)));
    a = decode_apdu(reply);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->type, PduType::SimpleAck);

    join.f();
    EXPECT_EQ(meter_face->mstp()->link()->node().max_master(), 20);
    EXPECT_EQ(device.settings().gateway.mstp_max_master, 20);
}
