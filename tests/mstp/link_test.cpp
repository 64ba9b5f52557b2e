// MstpLink under the VirtualRouter (the test node: router device and two
// panel devices on network 50), driven frame by frame from a pretend master
// at station 2: announcements at the first token, discovery through the
// router, replies inside ANSWER_DATA_REQUEST, Reply Postponed, confirmed COV
// notifications as Data Expecting Reply, 480-octet APDUs.
#include <gtest/gtest.h>

#include "protocols/bacnet/apdu.hpp"
#include "protocols/bacnet/router.hpp"
#include "protocols/bacnet/services.hpp"
#include "protocols/mstp/mstp_link.hpp"
#include "test_database.hpp"

using namespace openbcpm::mstp;
using namespace openbcpm::bacnet;
using namespace std::chrono_literals;
using openbcpm::mstp::Clock;
using openbcpm::mstp::Frame;

namespace {

NpduHeader expecting_reply() {
    NpduHeader h;
    h.expecting_reply = true;
    return h;
}

constexpr uint8_t kMeter = 1;
constexpr uint8_t kPeer = 2;

struct Harness {
    std::vector<Frame> sent;  // everything the meter put on the line
    Clock::time_point now = Clock::time_point{} + 1h;
    std::unique_ptr<testbed::TestNode> test_node = testbed::make_test_node(40);
    MstpLink link{config(), [this](std::span<const uint8_t> o) {
                      sent.push_back(std::get<Frame>(decode_frame(o)));
                  }};
    VirtualRouter router{test_node->config, hooks()};

    static NodeConfig config() {
        NodeConfig c;
        c.station = kMeter;
        c.max_master = 2;
        c.max_info_frames = 1;
        return c;
    }
    RouterHooks hooks() {
        RouterHooks h;
        h.clock = [this] { return now; };
        h.local_time = [] { return DateTime{Date{126, 1, 5, 1}, Time{12, 0, 0, 0}}; };
        return h;
    }
    Harness() {
        router.attach(link);
        link.node().start(now);
        router.start(now);
    }

    // The peer puts a frame on the line; the meter answers what it may.
    size_t hear(FrameType type, uint8_t destination, std::span<const uint8_t> data = {}) {
        const size_t before = sent.size();
        now += 2ms;
        link.node().receive(encode_frame(type, destination, kPeer, data), now);
        now += 2ms;  // past T_turnaround
        link.node().poll(now);
        return before;
    }
    void hear_npdu(FrameType type, uint8_t destination, const NpduHeader& h,
                   std::span<const uint8_t> apdu) {
        hear(type, destination, encode_npdu(h, apdu));
    }

    // Gives the meter the token and plays the peer until the token comes
    // back: answers its polls, acknowledges confirmed requests. Returns the
    // data frames the meter sent meanwhile.
    std::vector<Frame> token_round() {
        std::vector<Frame> data;
        size_t seen = hear(FrameType::Token, kMeter);
        for (int guard = 0; guard < 200; ++guard) {
            if (seen == sent.size()) {
                now += 60ms;  // nobody else answers: T_usage_timeout passes
                link.node().poll(now);
                continue;
            }
            const Frame f = sent[seen++];
            if (f.type == FrameType::Token && f.destination == kPeer) return data;
            if (f.type == FrameType::PollForMaster && f.destination == kPeer) {
                hear(FrameType::ReplyToPollForMaster, kMeter);
            } else if (f.type == FrameType::DataExpectingReply ||
                       f.type == FrameType::DataNotExpectingReply) {
                data.push_back(f);
                if (f.type == FrameType::DataExpectingReply) acknowledge(f);
            }
        }
        ADD_FAILURE() << "the meter kept the token";
        return data;
    }
    void acknowledge(const Frame& f) {
        const auto n = decode_npdu(f.data);
        ASSERT_TRUE(n);
        const auto a = decode_apdu(n->payload);
        ASSERT_TRUE(a);
        NpduHeader h;
        if (n->header.source) h.destination = n->header.source;
        hear_npdu(FrameType::DataNotExpectingReply, kMeter, h,
                  encode_simple_ack(a->invoke_id, a->service));
    }
};

std::optional<Apdu> apdu_of(const Frame& f, NpduHeader* header = nullptr) {
    const auto n = decode_npdu(f.data);
    if (!n || n->header.network_message) return std::nullopt;
    if (header) *header = n->header;
    return decode_apdu(n->payload);
}

std::vector<uint8_t> read_property_request(uint8_t invoke_id, ObjectId o, PropertyId p,
                                           uint8_t max_apdu_code = 3) {  // 480
    ConfirmedHeader c;
    c.invoke_id = invoke_id;
    c.service = static_cast<uint8_t>(ConfirmedService::ReadProperty);
    c.max_apdu_code = max_apdu_code;
    return encode_confirmed_request(c, encode_read_property({o, {p, kNoIndex}}));
}

}  // namespace

TEST(MstpLink, AnnouncesTheRouterAndItsDevicesAtTheFirstToken) {
    Harness h;
    EXPECT_TRUE(h.sent.empty());  // nothing without the token
    std::vector<Frame> data;
    for (int round = 0; round < 4; ++round) {
        const auto got = h.token_round();
        data.insert(data.end(), got.begin(), got.end());
    }
    ASSERT_EQ(data.size(), 4U);
    for (const auto& f : data) {
        EXPECT_EQ(f.destination, kBroadcast);
        EXPECT_EQ(f.type, FrameType::DataNotExpectingReply);
    }
    const auto first = decode_npdu(data[0].data);
    ASSERT_TRUE(first);
    EXPECT_TRUE(first->header.network_message);
    EXPECT_EQ(first->header.message_type, static_cast<uint8_t>(NetworkMessage::IAmRouterToNetwork));
    std::map<uint32_t, std::optional<NetAddress>> sources;
    for (size_t i = 1; i < 4; ++i) {
        NpduHeader hdr;
        const auto a = apdu_of(data[i], &hdr);
        ASSERT_TRUE(a);
        const IAm iam = decode_i_am(a->data);
        EXPECT_EQ(iam.max_apdu, kMstpMaxApdu);
        sources[iam.device.instance] = hdr.source;
    }
    EXPECT_EQ(sources.at(50000), std::nullopt);
    EXPECT_EQ(sources.at(50001), (NetAddress{50, {1}}));
    EXPECT_EQ(sources.at(50002), (NetAddress{50, {2}}));
}

TEST(MstpLink, GlobalWhoIsReachesTheRouterAndThroughItThePanels) {
    Harness h;
    for (int round = 0; round < 4; ++round)
        h.token_round();  // the start-up announcements
    NpduHeader hdr;
    hdr.destination = NetAddress{kGlobalNetwork, {}};
    h.hear_npdu(FrameType::DataNotExpectingReply, kBroadcast, hdr,
                encode_unconfirmed_request(UnconfirmedService::WhoIs, {}));
    std::vector<uint32_t> ids;
    for (int round = 0; round < 3; ++round) {
        for (const auto& f : h.token_round()) {
            const auto a = apdu_of(f);
            ASSERT_TRUE(a);
            ids.push_back(decode_i_am(a->data).device.instance);
        }
    }
    EXPECT_EQ(ids, (std::vector<uint32_t>{50000, 50001, 50002}));
    // A local Who-Is (no DNET) reaches the router's own device only.
    h.hear_npdu(FrameType::DataNotExpectingReply, kBroadcast, NpduHeader{},
                encode_unconfirmed_request(UnconfirmedService::WhoIs, {}));
    const auto got = h.token_round();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(decode_i_am(apdu_of(got[0])->data).device.instance, 50000U);
    EXPECT_TRUE(h.token_round().empty());
}

TEST(MstpLink, AnswersAConfirmedRequestInTheSameTurn) {
    Harness h;
    const size_t before = h.hear(
        FrameType::DataExpectingReply, kMeter,
        encode_npdu(expecting_reply(), read_property_request(7, ObjectId(ObjectType::Device, 50000),
                                                             PropertyId::ObjectName)));
    ASSERT_EQ(h.sent.size(), before + 1);
    const Frame& reply = h.sent.back();
    EXPECT_EQ(reply.type, FrameType::DataNotExpectingReply);
    EXPECT_EQ(reply.destination, kPeer);
    const auto a = apdu_of(reply);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->type, PduType::ComplexAck);
    EXPECT_EQ(a->invoke_id, 7);
    const auto ack = decode_read_property_ack(a->data);
    EXPECT_EQ(ack.value.at(0).as<CharString>()->text, "BCPME_Gateway");
    EXPECT_EQ(h.link.node().stats().replies, 1U);
    EXPECT_EQ(h.link.node().state(), MasterNode::State::Idle);
}

TEST(MstpLink, ReachesAPanelThroughTheRouterAndTheAnswerCarriesSnetSadr) {
    Harness h;
    NpduHeader hdr;
    hdr.expecting_reply = true;
    hdr.destination = NetAddress{50, {2}};
    const size_t before =
        h.hear(FrameType::DataExpectingReply, kMeter,
               encode_npdu(hdr, read_property_request(9, ObjectId(ObjectType::AnalogInput, 1),
                                                      PropertyId::PresentValue)));
    ASSERT_EQ(h.sent.size(), before + 1);
    NpduHeader rh;
    const auto a = apdu_of(h.sent.back(), &rh);
    ASSERT_TRUE(a);
    EXPECT_EQ(rh.source, (NetAddress{50, {2}}));
    EXPECT_FLOAT_EQ(*decode_read_property_ack(a->data).value.at(0).as<float>(), 20.0F);
}

TEST(MstpLink, RequestToAnUnknownNetworkIsRejectedAsTheReply) {
    Harness h;
    NpduHeader hdr;
    hdr.expecting_reply = true;
    hdr.destination = NetAddress{77, {3}};
    const size_t before =
        h.hear(FrameType::DataExpectingReply, kMeter,
               encode_npdu(hdr, read_property_request(1, ObjectId(ObjectType::Device, 1),
                                                      PropertyId::ObjectName)));
    ASSERT_EQ(h.sent.size(), before + 1);
    const auto n = decode_npdu(h.sent.back().data);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->header.message_type, static_cast<uint8_t>(NetworkMessage::RejectMessageToNetwork));
}

TEST(MstpLink, NoAnswerFromTheRouterMeansReplyPostponed) {
    Harness h;
    NpduHeader hdr;
    hdr.expecting_reply = true;
    hdr.destination = NetAddress{50, {9}};  // no such panel: dropped
    const size_t before =
        h.hear(FrameType::DataExpectingReply, kMeter,
               encode_npdu(hdr, read_property_request(1, ObjectId(ObjectType::Device, 1),
                                                      PropertyId::ObjectName)));
    ASSERT_EQ(h.sent.size(), before + 1);
    EXPECT_EQ(h.sent.back().type, FrameType::ReplyPostponed);
    EXPECT_EQ(h.sent.back().destination, kPeer);
    EXPECT_EQ(h.link.node().stats().replies_postponed, 1U);
}

TEST(MstpLink, ConfirmedCovNotificationsGoAsDataExpectingReply) {
    Harness h;
    for (int round = 0; round < 4; ++round)
        h.token_round();
    ConfirmedHeader c;
    c.invoke_id = 3;
    c.service = static_cast<uint8_t>(ConfirmedService::SubscribeCov);
    NpduHeader hdr;
    hdr.expecting_reply = true;
    hdr.destination = NetAddress{50, {1}};
    h.hear_npdu(FrameType::DataExpectingReply, kMeter, hdr,
                encode_confirmed_request(
                    c, encode_subscribe_cov({12, ObjectId(ObjectType::AnalogInput, 1), true, 60})));
    ASSERT_EQ(apdu_of(h.sent.back())->type, PduType::SimpleAck);
    EXPECT_EQ(h.router.cov_subscriptions(1), 1U);
    // The initial notification waits for the token and expects a reply.
    const auto got = h.token_round();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].type, FrameType::DataExpectingReply);
    EXPECT_EQ(got[0].destination, kPeer);
    NpduHeader nh;
    const auto a = apdu_of(got[0], &nh);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->type, PduType::ConfirmedRequest);
    EXPECT_EQ(a->service, static_cast<uint8_t>(ConfirmedService::ConfirmedCovNotification));
    EXPECT_EQ(nh.source, (NetAddress{50, {1}}));
    const auto n = decode_cov_notification(a->data);
    EXPECT_EQ(n.process_id, 12U);
    // Acknowledged within the meter's WAIT_FOR_REPLY: the transaction is done.
    EXPECT_EQ(h.router.active_transactions(), 0U);
    EXPECT_EQ(h.link.node().stats().reply_timeouts, 0U);
}

TEST(MstpLink, LongAnswersAreSegmentedTo480OctetApdus) {
    Harness h;
    for (int round = 0; round < 4; ++round)
        h.token_round();
    ConfirmedHeader c;
    c.invoke_id = 5;
    c.service = static_cast<uint8_t>(ConfirmedService::ReadPropertyMultiple);
    c.max_apdu_code = 5;  // the client would take 1476: the link's 480 rules
    c.segmented_response_accepted = true;
    std::vector<ReadAccessSpec> specs;
    for (uint32_t i = 1; i <= 12; ++i)
        specs.push_back({ObjectId(ObjectType::AnalogInput, i), {{PropertyId::All, kNoIndex}}});
    NpduHeader hdr;
    hdr.expecting_reply = true;
    hdr.destination = NetAddress{50, {1}};
    const size_t before =
        h.hear(FrameType::DataExpectingReply, kMeter,
               encode_npdu(hdr, encode_confirmed_request(c, encode_read_property_multiple(specs))));
    ASSERT_EQ(h.sent.size(), before + 1);
    const auto first = apdu_of(h.sent.back());
    ASSERT_TRUE(first);
    EXPECT_EQ(first->type, PduType::ComplexAck);
    EXPECT_TRUE(first->segmented);
    EXPECT_TRUE(first->more_follows);
    // The other segments follow as the peer acknowledges them, token by token.
    size_t segments = 1;
    for (int round = 0; round < 40 && segments < 100; ++round) {
        for (const auto& f : h.token_round()) {
            const auto a = apdu_of(f);
            if (a && a->type == PduType::ComplexAck && a->invoke_id == 5) ++segments;
        }
        NpduHeader ack;
        ack.destination = NetAddress{50, {1}};
        h.hear_npdu(FrameType::DataNotExpectingReply, kMeter, ack,
                    encode_segment_ack(false, false, 5, static_cast<uint8_t>(segments - 1), 16));
        if (h.router.active_transactions() == 0) break;
    }
    EXPECT_GT(segments, 2U);
    EXPECT_EQ(h.router.active_transactions(), 0U);
    for (const auto& f : h.sent) {
        EXPECT_LE(f.data.size(), kMaxData);
    }
}

TEST(MstpLink, FrameTypeFollowsTheNpduAndBroadcastsNeverExpectReplies) {
    std::vector<Frame> out;
    NodeConfig c;
    c.station = 1;
    c.max_info_frames = 3;
    MstpLink link(
        c, [&](std::span<const uint8_t> o) { out.push_back(std::get<Frame>(decode_frame(o))); });
    const auto t = Clock::time_point{} + 1h;
    link.node().start(t);
    const auto der = encode_npdu(expecting_reply(), std::vector<uint8_t>{0x10, 0x08});
    const auto dner = encode_npdu(NpduHeader{}, std::vector<uint8_t>{0x10, 0x08});
    link.send_npdu(der, {9});
    link.send_npdu(der, {});
    link.send_npdu(dner, {9});
    link.send_npdu(dner, {1, 2});  // not an MS/TP address
    link.send_npdu(std::vector<uint8_t>(kMaxData + 1, 0x01), {9});
    EXPECT_EQ(link.stats().npdus_out, 3U);
    EXPECT_EQ(link.stats().dropped_out, 2U);
    EXPECT_EQ(link.max_apdu(), 480U);

    link.node().receive(encode_frame(FrameType::Token, 1, 2), t + 1ms);
    link.node().poll(t + 3ms);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].type, FrameType::DataExpectingReply);
    EXPECT_EQ(out[0].destination, 9);
    EXPECT_EQ(link.node().state(), MasterNode::State::WaitForReply);
    link.node().receive(encode_frame(FrameType::ReplyPostponed, 1, 9), t + 5ms);
    link.node().poll(t + 7ms);
    ASSERT_GE(out.size(), 3U);
    EXPECT_EQ(out[1].type, FrameType::DataNotExpectingReply);  // the broadcast
    EXPECT_EQ(out[1].destination, kBroadcast);
    EXPECT_EQ(out[2].type, FrameType::DataNotExpectingReply);
    EXPECT_EQ(out[2].destination, 9);
}
