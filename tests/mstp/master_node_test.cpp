// The master node state machine on a simulated bus in virtual time: ring
// formation, maintenance polls, sole master, replies and Reply Postponed,
// timeouts, failed and returning stations, lost token, Max_Info_Frames and
// Max_Master, T_turnaround and T_frame_abort.
#include "protocols/mstp/master_node.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "sim_bus.hpp"

using namespace openbcpm::mstp;
using openbcpm::mstp::testing::SimBus;
using namespace std::chrono_literals;

namespace {

NodeConfig master(uint8_t station, uint8_t max_master = 10) {
    NodeConfig c;
    c.station = station;
    c.max_master = max_master;
    return c;
}

// Token passes (source, destination) on the wire from index `from`.
std::set<std::pair<int, int>> token_passes(const SimBus& bus, size_t from) {
    std::set<std::pair<int, int>> out;
    for (const auto& [i, f] : bus.frames(from)) {
        if (f.type == FrameType::Token) out.emplace(f.source, f.destination);
    }
    return out;
}

std::set<int> polled(const SimBus& bus, size_t from, int by) {
    std::set<int> out;
    for (const auto& [i, f] : bus.frames(from)) {
        if (f.type == FrameType::PollForMaster && f.source == by) out.insert(f.destination);
    }
    return out;
}

double ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

// A node alone, driven by hand.
struct Probe {
    std::vector<std::vector<uint8_t>> sent;
    std::vector<Frame> indications;
    MasterNode node;
    Clock::time_point t0 = Clock::time_point{} + 1h;
    explicit Probe(NodeConfig c)
        : node(
              c, [this](std::span<const uint8_t> o) { sent.emplace_back(o.begin(), o.end()); },
              [this](const Frame& f) { indications.push_back(f); }) {
        node.start(t0);
    }
    Frame last() const { return std::get<Frame>(decode_frame(sent.back())); }
};

}  // namespace

TEST(MstpMasterNode, ThreeMastersFormARingFromColdStart) {
    SimBus bus;
    const auto a = bus.add(master(1)), b = bus.add(master(3)), c = bus.add(master(7));
    bus.run_for(2s);
    // The lowest address claimed the token in its slot; the others saw it.
    EXPECT_EQ(bus.node(a).stats().tokens_generated, 1U);
    EXPECT_EQ(bus.node(b).stats().tokens_generated, 0U);
    EXPECT_EQ(bus.node(c).stats().tokens_generated, 0U);
    const auto first = bus.frames().front().second;
    EXPECT_EQ(first.type, FrameType::PollForMaster);
    EXPECT_EQ(first.source, 1);
    EXPECT_NEAR(ms(bus.wire().front().start - (Clock::time_point{} + 1h)), 510.0, 0.5);

    const size_t mark = bus.wire().size();
    bus.run_for(3s);
    EXPECT_EQ(token_passes(bus, mark), (std::set<std::pair<int, int>>{{1, 3}, {3, 7}, {7, 1}}));
    EXPECT_EQ(bus.node(a).next_station(), 3);
    EXPECT_EQ(bus.node(b).next_station(), 7);
    EXPECT_EQ(bus.node(c).next_station(), 1);
    // Every Npoll tokens each node polls the gap after it (and only that).
    EXPECT_EQ(polled(bus, mark, 1), (std::set<int>{2}));
    EXPECT_EQ(polled(bus, mark, 3), (std::set<int>{4, 5, 6}));
    EXPECT_EQ(polled(bus, mark, 7), (std::set<int>{8, 9, 10, 0}));
    EXPECT_EQ(bus.collisions(), 0U);
    EXPECT_EQ(bus.node(a).stats().invalid_frames, 0U);
}

TEST(MstpMasterNode, EveryTransmissionWaitsTurnaroundAfterTheLastFrameHeard) {
    SimBus bus(9600);
    bus.add(master(1));
    bus.add(master(2));
    bus.add(master(4));
    bus.run_for(3s);
    const auto& w = bus.wire();
    ASSERT_GT(w.size(), 100U);
    auto shortest = Clock::duration::max();
    for (size_t i = 1; i < w.size(); ++i) {
        if (w[i].member != w[i - 1].member)
            shortest = std::min(shortest, w[i].start - w[i - 1].end);
    }
    // 40 bit times at 9600 baud.
    EXPECT_GE(shortest, microseconds(4167));
    EXPECT_LT(shortest, microseconds(4200));  // and not much more: T_usage_delay is 15 ms
    EXPECT_EQ(bus.collisions(), 0U);
}

TEST(MstpMasterNode, SoleMasterSendsItsDataAndKeepsPolling) {
    SimBus bus;
    const auto a = bus.add(master(5, 8));
    for (uint8_t i = 0; i < 3; ++i)
        bus.node(a).enqueue(FrameType::DataNotExpectingReply, kBroadcast, {i});
    bus.run_for(3s);
    EXPECT_TRUE(bus.node(a).sole_master());
    EXPECT_EQ(bus.node(a).queued(), 0U);
    size_t data = 0;
    for (const auto& [i, f] : bus.frames()) {
        if (f.type == FrameType::DataNotExpectingReply) ++data;
    }
    EXPECT_EQ(data, 3U);
    EXPECT_EQ(polled(bus, 0, 5), (std::set<int>{0, 1, 2, 3, 4, 6, 7, 8}));
    // Polls to absent stations are T_usage_timeout apart.
    std::vector<Clock::time_point> polls;
    for (const auto& [i, f] : bus.frames()) {
        if (f.type == FrameType::PollForMaster) polls.push_back(bus.wire()[i].end);
    }
    ASSERT_GE(polls.size(), 3U);
    EXPECT_NEAR(ms(polls[2] - polls[1]), 50.0 + ms(bus.node(a).wire_time(8)), 0.01);
}

TEST(MstpMasterNode, SoleMasterMakesRoomForANewcomer) {
    SimBus bus;
    const auto a = bus.add(master(5, 8));
    bus.run_for(2s);
    ASSERT_TRUE(bus.node(a).sole_master());
    const auto b = bus.add(master(2, 8));
    bus.run_for(4s);
    EXPECT_FALSE(bus.node(a).sole_master());
    const size_t mark = bus.wire().size();
    bus.run_for(1s);
    EXPECT_EQ(token_passes(bus, mark), (std::set<std::pair<int, int>>{{5, 2}, {2, 5}}));
    EXPECT_GT(bus.node(b).stats().tokens_received, 10U);
}

TEST(MstpMasterNode, DataExpectingReplyIsAnsweredWhileTheRequesterWaits) {
    SimBus bus;
    const auto a = bus.add(master(1)), b = bus.add(master(2));
    bus.member(b).on_data = [](MasterNode& n, const Frame& f) {
        if (f.type == FrameType::DataExpectingReply)
            n.enqueue(FrameType::DataNotExpectingReply, f.source, {0xAB, f.data[0]});
    };
    bus.run_for(1500ms);
    const size_t mark = bus.wire().size();
    bus.node(a).enqueue(FrameType::DataExpectingReply, 2, {0x42});
    bus.run_for(500ms);
    const auto frames = bus.frames(mark);
    size_t request = 0;
    for (size_t k = 0; k < frames.size(); ++k) {
        if (frames[k].second.type == FrameType::DataExpectingReply) request = k;
    }
    ASSERT_LT(request + 1, frames.size());
    // The very next frame is the reply, from the node asked.
    const Frame& reply = frames[request + 1].second;
    EXPECT_EQ(reply.type, FrameType::DataNotExpectingReply);
    EXPECT_EQ(reply.source, 2);
    EXPECT_EQ(reply.destination, 1);
    EXPECT_EQ(reply.data, (std::vector<uint8_t>{0xAB, 0x42}));
    const auto gap =
        bus.wire()[frames[request + 1].first].start - bus.wire()[frames[request].first].end;
    EXPECT_LT(gap, kTreplyDelay);
    EXPECT_LT(gap, 2ms);
    ASSERT_FALSE(bus.member(a).indications.empty());
    EXPECT_EQ(bus.member(a).indications.back().data, reply.data);
    EXPECT_EQ(bus.node(b).stats().replies, 1U);
    EXPECT_EQ(bus.node(b).stats().replies_postponed, 0U);
    EXPECT_EQ(bus.node(a).stats().reply_timeouts, 0U);
}

TEST(MstpMasterNode, ReplyPostponedThenTheAnswerComesWithTheToken) {
    SimBus bus;
    const auto a = bus.add(master(1)), b = bus.add(master(2));
    bus.run_for(1500ms);
    const size_t mark = bus.wire().size();
    bus.node(a).enqueue(FrameType::DataExpectingReply, 2, {0x01});
    bus.run_for(200ms);
    bool postponed = false;
    for (const auto& [i, f] : bus.frames(mark)) {
        if (f.type == FrameType::ReplyPostponed && f.source == 2 && f.destination == 1)
            postponed = true;
    }
    EXPECT_TRUE(postponed);
    EXPECT_EQ(bus.node(a).stats().reply_timeouts, 0U);
    ASSERT_EQ(bus.member(b).indications.size(), 1U);
    // The answer, later, goes when station 2 holds the token.
    bus.node(b).enqueue(FrameType::DataNotExpectingReply, 1, {0x99});
    bus.run_for(200ms);
    ASSERT_EQ(bus.member(a).indications.size(), 1U);
    EXPECT_EQ(bus.member(a).indications[0].data, (std::vector<uint8_t>{0x99}));
}

TEST(MstpMasterNode, ReplyTimeoutPassesTheToken) {
    SimBus bus;
    const auto a = bus.add(master(1));
    bus.add(master(2));
    bus.run_for(1500ms);
    const size_t mark = bus.wire().size();
    bus.node(a).enqueue(FrameType::DataExpectingReply, 9, {0x01});  // nobody at 9
    bus.run_for(1s);
    const auto frames = bus.frames(mark);
    for (size_t k = 0; k + 1 < frames.size(); ++k) {
        if (frames[k].second.type != FrameType::DataExpectingReply) continue;
        const auto& next = bus.wire()[frames[k + 1].first];
        EXPECT_EQ(frames[k + 1].second.source, 1);
        EXPECT_NEAR(ms(next.start - bus.wire()[frames[k].first].end), 300.0, 0.01);
    }
    EXPECT_EQ(bus.node(a).stats().reply_timeouts, 1U);
}

TEST(MstpMasterNode, AFailedSuccessorIsBypassedAndFoundAgainWhenBack) {
    SimBus bus;
    const auto a = bus.add(master(1));
    const auto b = bus.add(master(3));
    bus.add(master(7));
    bus.run_for(1500ms);
    // Station 3 dies just as station 1 hands it the token.
    ASSERT_TRUE(bus.run_until(bus.now() + 1s, [&] {
        const auto f = bus.wire().back().frame();
        return f && f->type == FrameType::Token && f->destination == 3;
    }));
    bus.kill(b);
    bus.run_for(1s);
    size_t mark = bus.wire().size();
    bus.run_for(500ms);
    EXPECT_EQ(token_passes(bus, mark), (std::set<std::pair<int, int>>{{1, 7}, {7, 1}}));
    EXPECT_EQ(bus.node(a).stats().token_retries, 1U);
    EXPECT_EQ(bus.node(a).stats().successors_lost, 1U);
    bus.revive(b);
    bus.run_for(3s);
    mark = bus.wire().size();
    bus.run_for(500ms);
    EXPECT_EQ(token_passes(bus, mark), (std::set<std::pair<int, int>>{{1, 3}, {3, 7}, {7, 1}}));
    EXPECT_EQ(bus.collisions(), 0U);
}

TEST(MstpMasterNode, ALostTokenIsRegeneratedByTheLowestAddressInItsSlot) {
    SimBus bus;
    const auto a = bus.add(master(2)), b = bus.add(master(4)), c = bus.add(master(6));
    bus.run_for(1500ms);
    // Station 4 sends a request to nobody and dies while waiting for the reply.
    bus.node(b).enqueue(FrameType::DataExpectingReply, 9, {0x01});
    const bool sent = bus.run_until(bus.now() + 1s, [&] {
        const auto f = bus.wire().back().frame();
        return f && f->type == FrameType::DataExpectingReply;
    });
    ASSERT_TRUE(sent);
    const auto request_end = bus.wire().back().end;
    const size_t mark = bus.wire().size();
    bus.kill(b);
    bus.run_for(2s);
    const auto frames = bus.frames(mark);
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(frames[0].second.type, FrameType::PollForMaster);
    EXPECT_EQ(frames[0].second.source, 2);
    // T_no_token + 2 x T_slot after the last activity (which ended at the
    // request's last stop bit).
    EXPECT_NEAR(ms(bus.wire()[frames[0].first].start - request_end), 520.0, 0.01);
    EXPECT_EQ(bus.node(a).stats().tokens_generated, 2U);  // at start-up, and now
    EXPECT_EQ(bus.node(c).stats().tokens_generated, 0U);
    const size_t later = bus.wire().size();
    bus.run_for(500ms);
    EXPECT_EQ(token_passes(bus, later), (std::set<std::pair<int, int>>{{2, 6}, {6, 2}}));
}

TEST(MstpMasterNode, MaxInfoFramesBoundsTheFramesSentPerToken) {
    SimBus bus;
    auto cfg = master(1);
    cfg.max_info_frames = 3;
    const auto a = bus.add(cfg);
    bus.add(master(2));
    bus.run_for(1500ms);
    const size_t mark = bus.wire().size();
    for (uint8_t i = 0; i < 7; ++i)
        bus.node(a).enqueue(FrameType::DataNotExpectingReply, kBroadcast, {i});
    bus.run_for(500ms);
    std::vector<size_t> runs{0};
    size_t total = 0;
    for (const auto& [i, f] : bus.frames(mark)) {
        if (f.source != 1) continue;
        if (f.type == FrameType::Token) {
            runs.push_back(0);
        } else if (f.type == FrameType::DataNotExpectingReply) {
            ++runs.back();
            ++total;
        }
    }
    EXPECT_EQ(total, 7U);
    EXPECT_EQ(*std::max_element(runs.begin(), runs.end()), 3U);
}

TEST(MstpMasterNode, MaxMasterBoundsPollingAndCanChangeAtRunTime) {
    SimBus bus;
    const auto a = bus.add(master(1, 5));
    bus.run_for(3s);
    EXPECT_EQ(polled(bus, 0, 1), (std::set<int>{0, 2, 3, 4, 5}));
    bus.node(a).set_max_master(3);
    const size_t mark = bus.wire().size();
    bus.run_for(3s);
    EXPECT_EQ(polled(bus, mark, 1), (std::set<int>{0, 2, 3}));
}

TEST(MstpMasterNode, AnswersPollForMasterAfterTurnaround) {
    NodeConfig c = master(4);
    c.baud = 9600;
    Probe p(c);
    const auto t = p.t0 + 100ms;
    p.node.receive(encode_frame(FrameType::PollForMaster, 4, 1), t);
    EXPECT_TRUE(p.sent.empty());  // the driver waits 40 bit times
    EXPECT_EQ(p.node.next_deadline(), t + microseconds(4167));
    p.node.poll(t + microseconds(4166));
    EXPECT_TRUE(p.sent.empty());
    p.node.poll(t + microseconds(4167));
    ASSERT_EQ(p.sent.size(), 1U);
    EXPECT_EQ(p.last().type, FrameType::ReplyToPollForMaster);
    EXPECT_EQ(p.last().destination, 1);
    EXPECT_EQ(p.last().source, 4);
}

TEST(MstpMasterNode, EchoesTestRequestData) {
    Probe p(master(4));
    p.node.receive(encode_frame(FrameType::TestRequest, 4, 1, std::vector<uint8_t>{1, 2, 3}),
                   p.t0 + 10ms);
    p.node.poll(p.t0 + 20ms);
    ASSERT_EQ(p.sent.size(), 1U);
    EXPECT_EQ(p.last().type, FrameType::TestResponse);
    EXPECT_EQ(p.last().data, (std::vector<uint8_t>{1, 2, 3}));
}

TEST(MstpMasterNode, IgnoresBroadcastTokensAndRequestsButTakesBroadcastData) {
    Probe p(master(4));
    const auto t = p.t0 + 10ms;
    p.node.receive(encode_frame(FrameType::Token, kBroadcast, 1), t);
    p.node.receive(
        encode_frame(FrameType::DataExpectingReply, kBroadcast, 1, std::vector<uint8_t>{1}), t);
    p.node.receive(
        encode_frame(FrameType::DataNotExpectingReply, kBroadcast, 1, std::vector<uint8_t>{2}), t);
    p.node.receive(encode_frame(FrameType::DataNotExpectingReply, 5, 1, std::vector<uint8_t>{3}),
                   t);
    p.node.poll(t + 10ms);
    EXPECT_TRUE(p.sent.empty());
    EXPECT_EQ(p.node.state(), MasterNode::State::Idle);
    ASSERT_EQ(p.indications.size(), 1U);
    EXPECT_EQ(p.indications[0].data, (std::vector<uint8_t>{2}));
}

TEST(MstpMasterNode, FrameAbortSeparatesAStalledFrameFromTheNext) {
    for (const auto gap : {10ms, 40ms}) {
        Probe p(master(4));  // T_frame_abort 30 ms
        const auto token = encode_frame(FrameType::Token, 4, 3);
        const auto t = p.t0 + 100ms;
        p.node.receive(std::span<const uint8_t>(token).first(5), t);
        p.node.poll(t + gap);
        p.node.receive(token, t + gap);
        p.node.poll(t + gap + 5ms);
        // A token taken: the node's first act is to poll for a successor.
        const bool took_token = !p.sent.empty() && p.last().type == FrameType::PollForMaster;
        EXPECT_EQ(took_token, gap > 30ms) << "gap " << gap.count() << " ms";
    }
}

TEST(MstpMasterNode, FrameAbortIsAtLeastSixtyBitTimes) {
    NodeConfig c = master(4);
    c.baud = 9600;
    c.timing.frame_abort = 1ms;  // below 60 bit times (6.25 ms): raised
    Probe p(c);
    const auto token = encode_frame(FrameType::Token, 4, 3);
    const auto t = p.t0 + 100ms;
    p.node.receive(std::span<const uint8_t>(token).first(4), t);
    EXPECT_EQ(p.node.next_deadline(), t + microseconds(6250));
}

TEST(MstpMasterNode, DiscardsItsOwnEchoWhenAsked) {
    SimBus bus;
    auto cfg = master(1);
    cfg.discard_echo = true;
    const auto a = bus.add(cfg);
    bus.member(a).hears_itself = true;
    bus.add(master(2));
    bus.run_for(3s);
    EXPECT_GT(bus.node(a).stats().echo_octets, 100U);
    EXPECT_EQ(bus.node(a).stats().own_address_frames, 0U);
    const size_t mark = bus.wire().size();
    bus.run_for(500ms);
    EXPECT_EQ(token_passes(bus, mark), (std::set<std::pair<int, int>>{{1, 2}, {2, 1}}));
}

TEST(MstpMasterNode, QueueIsBounded) {
    NodeConfig c = master(1);
    c.max_queue = 2;
    Probe p(c);
    EXPECT_TRUE(p.node.enqueue(FrameType::DataNotExpectingReply, 2, {1}));
    EXPECT_TRUE(p.node.enqueue(FrameType::DataNotExpectingReply, 2, {2}));
    EXPECT_FALSE(p.node.enqueue(FrameType::DataNotExpectingReply, 2, {3}));
    EXPECT_FALSE(p.node.enqueue(FrameType::DataNotExpectingReply, 2, std::vector<uint8_t>(502)));
    EXPECT_EQ(p.node.stats().queue_drops, 2U);
}

// Frames decided within T_turnaround of an octet heard wait for it in the
// node's kept buffer; a later batch waits behind an earlier one, which goes
// out first (the buffer is compacted then), every frame intact and in order.
TEST(MstpMasterNode, HeldFramesGoOutInOrderWhileLaterOnesWait) {
    NodeConfig c = master(1, 2);
    c.max_info_frames = 40;
    Probe p(c);
    for (uint8_t i = 0; i < 40; ++i)
        ASSERT_TRUE(p.node.enqueue(FrameType::DataNotExpectingReply, kBroadcast, {i, 0x5A}));
    const auto ta = p.node.turnaround();
    const auto t = p.t0 + std::chrono::milliseconds(1);
    // The token: the 40 frames and a poll for a successor, all held.
    p.node.receive(encode_frame(FrameType::Token, 1, 2), t);
    EXPECT_TRUE(p.sent.empty());
    EXPECT_EQ(p.node.next_deadline(), t + ta);
    // Station 2 answers the poll before those went out: the token to it waits behind them.
    const auto t2 = t + ta / 2;
    p.node.receive(encode_frame(FrameType::ReplyToPollForMaster, 1, 2), t2);
    EXPECT_TRUE(p.sent.empty());
    p.node.poll(t + ta);
    ASSERT_EQ(p.sent.size(), 41U);
    EXPECT_EQ(p.node.next_deadline(), t2 + ta);
    p.node.poll(t2 + ta);
    ASSERT_EQ(p.sent.size(), 42U);
    for (uint8_t i = 0; i < 40; ++i) {
        const auto f = std::get<Frame>(decode_frame(p.sent[i]));
        EXPECT_EQ(f.type, FrameType::DataNotExpectingReply);
        EXPECT_EQ(f.data, (std::vector<uint8_t>{i, 0x5A}));
    }
    const auto poll = std::get<Frame>(decode_frame(p.sent[40]));
    EXPECT_EQ(poll.type, FrameType::PollForMaster);
    EXPECT_EQ(poll.destination, 2);
    EXPECT_EQ(p.last().type, FrameType::Token);
    EXPECT_EQ(p.last().destination, 2);
    EXPECT_EQ(p.node.queued(), 0U);
}
