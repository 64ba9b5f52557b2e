// The MS/TP face on a pseudo-terminal: the meter claims the token on a
// silent line, finds the test's station by Poll For Master, answers a
// ReadProperty while the test holds the token and sends its announcements
// when it gets the token. The io_context runs on its own thread here (the
// test's reads block); the face itself has none.
#include "protocols/mstp/face.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <thread>

#include "protocols/bacnet/apdu.hpp"
#include "protocols/bacnet/services.hpp"
#include "pty_peer.hpp"
#include "test_database.hpp"

using namespace openbcpm::mstp;
using namespace openbcpm::bacnet;
using namespace std::chrono_literals;
using openbcpm::mstp::Clock;
using openbcpm::mstp::testing::PtyPeer;

TEST(MstpFace, ClaimsTheTokenFindsAPeerAndAnswersOverAPseudoTerminal) {
    PtyPeer peer;
    boost::asio::io_context io;
    auto node = testbed::make_test_node(4);
    VirtualRouter router(node->config, {});
    MstpOptions o;
    o.device = peer.name();
    o.baud = 38400;
    o.mac = 1;
    o.max_master = 3;
    MstpFace face(io, router, o);
    const auto started = Clock::now();
    face.start();
    auto guard = boost::asio::make_work_guard(io);
    std::thread loop([&] { io.run(); });

    // A silent line: the token is generated after T_no_token + T_slot.
    const auto pfm = peer.next(2s);
    const auto claimed = Clock::now() - started;
    ASSERT_TRUE(pfm);
    EXPECT_EQ(pfm->type, FrameType::PollForMaster);
    EXPECT_EQ(pfm->destination, 2);
    EXPECT_GE(claimed, 510ms);
    EXPECT_LT(claimed, 700ms);
    peer.send(encode_frame(FrameType::ReplyToPollForMaster, 1, 2));
    const auto token = peer.next(500ms);
    ASSERT_TRUE(token);
    EXPECT_EQ(token->type, FrameType::Token);
    EXPECT_EQ(token->destination, 2);

    // We hold the token: ask the router device its name.
    ConfirmedHeader c;
    c.invoke_id = 42;
    c.service = static_cast<uint8_t>(ConfirmedService::ReadProperty);
    c.max_apdu_code = 3;  // 480
    NpduHeader h;
    h.expecting_reply = true;
    const auto npdu = encode_npdu(
        h, encode_confirmed_request(c, encode_read_property({ObjectId(ObjectType::Device, 50000),
                                                             {PropertyId::ObjectName, kNoIndex}})));
    const auto asked = Clock::now();
    peer.send(encode_frame(FrameType::DataExpectingReply, 1, 2, npdu));
    const auto reply = peer.next(1s);
    const auto reply_delay = Clock::now() - asked;
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->type, FrameType::DataNotExpectingReply);
    EXPECT_EQ(reply->destination, 2);
    EXPECT_LT(reply_delay, kTreplyDelay);
    const auto n = decode_npdu(reply->data);
    ASSERT_TRUE(n);
    const auto a = decode_apdu(n->payload);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->invoke_id, 42);
    EXPECT_EQ(decode_read_property_ack(a->data).value.at(0).as<CharString>()->text,
              "BCPME_Gateway");

    // The token back to the meter: its first announcement, then the token to us.
    peer.send(encode_frame(FrameType::Token, 1, 2));
    const auto data = peer.next(500ms);
    ASSERT_TRUE(data);
    EXPECT_EQ(data->type, FrameType::DataNotExpectingReply);
    EXPECT_EQ(data->destination, kBroadcast);
    const auto back = peer.next(500ms);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->type, FrameType::Token);

    boost::asio::post(io, [&] {
        face.stop();
        guard.reset();
    });
    loop.join();
    EXPECT_FALSE(face.running());
    EXPECT_EQ(face.write_errors(), 0U);
}

TEST(MstpFace, PassesTheTokenAgainWhenTheSuccessorDoesNotUseIt) {
    PtyPeer peer;
    boost::asio::io_context io;
    auto node = testbed::make_test_node(4);
    VirtualRouter router(node->config, {});
    MstpOptions o;
    o.device = peer.name();
    o.baud = 76800;
    o.mac = 3;
    o.max_master = 5;
    MstpFace face(io, router, o);
    face.start();
    auto guard = boost::asio::make_work_guard(io);
    std::thread loop([&] { io.run(); });
    const auto pfm = peer.next_of(FrameType::PollForMaster, 2s);
    ASSERT_TRUE(pfm);
    ASSERT_EQ(pfm->destination, 4);
    peer.send(encode_frame(FrameType::ReplyToPollForMaster, 3, 4));
    ASSERT_TRUE(peer.next_of(FrameType::Token, 500ms));
    const auto first = Clock::now();
    // We do not use it: one retry after T_usage_timeout, then a new successor is sought.
    const auto retry = peer.next(500ms);
    const auto retried_after = Clock::now() - first;
    ASSERT_TRUE(retry);
    EXPECT_EQ(retry->type, FrameType::Token);
    EXPECT_GE(retried_after, 45ms);
    EXPECT_LT(retried_after, 150ms);
    const auto poll = peer.next(500ms);
    ASSERT_TRUE(poll);
    EXPECT_EQ(poll->type, FrameType::PollForMaster);
    EXPECT_EQ(poll->destination, 5);
    boost::asio::post(io, [&] {
        face.stop();
        guard.reset();
    });
    loop.join();
    EXPECT_EQ(face.link()->node().stats().successors_lost, 1U);
}

TEST(MstpFace, StartFailsClearlyWithoutAPort) {
    boost::asio::io_context io;
    auto node = testbed::make_test_node(1);
    VirtualRouter router(node->config, {});
    MstpOptions o;
    MstpFace none(io, router, o);
    EXPECT_THROW(none.start(), std::runtime_error);
    o.device = "/nonexistent/ttyUSB9";
    MstpFace missing(io, router, o);
    try {
        missing.start();
        FAIL() << "started on a missing device";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/ttyUSB9"), std::string::npos);
    }
    EXPECT_FALSE(missing.running());
}

TEST(MstpFace, OptionsFollowTheGatewaySettings) {
    openbcpm::GatewaySettings g;
    g.serial_device = "/dev/ttyS1";
    g.upstream_baud = 76800;
    g.mstp_mac_addr = 17;
    g.mstp_max_master = 40;
    const auto o = mstp_options_from_settings(g);
    EXPECT_EQ(o.device, "/dev/ttyS1");
    EXPECT_EQ(o.baud, 76800U);
    EXPECT_EQ(o.mac, 17);
    EXPECT_EQ(o.max_master, 40);
    EXPECT_EQ(o.max_info_frames, 1);
}
