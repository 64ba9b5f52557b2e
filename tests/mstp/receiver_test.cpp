// The receive frame state machine fed octet by octet.
#include "protocols/mstp/receiver.hpp"

#include <gtest/gtest.h>

using namespace openbcpm::mstp;
using Event = FrameReceiver::Event;

namespace {

std::vector<Event> feed_all(FrameReceiver& rx, const std::vector<uint8_t>& octets) {
    std::vector<Event> events;
    for (uint8_t o : octets) {
        const auto e = rx.feed(o);
        if (e != Event::None) events.push_back(e);
    }
    return events;
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> out;
    for (const auto& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

}  // namespace

TEST(MstpReceiver, TakesFramesForUsAndBroadcastsAmongNoise) {
    FrameReceiver rx(4);
    const std::vector<uint8_t> data{0xAA, 0x55, 0xFF, 0x00};
    const auto stream =
        concat({{0x00, 0x13, 0xFF},  // noise and a pad
                encode_frame(FrameType::Token, 4, 3),
                {0x55},  // a stray preamble octet, then a real frame
                encode_frame(FrameType::DataNotExpectingReply, kBroadcast, 3, data)});
    FrameReceiver::Event last = Event::None;
    std::vector<Frame> frames;
    for (uint8_t o : stream) {
        last = rx.feed(o);
        if (last == Event::ValidFrame) frames.push_back(rx.frame());
    }
    ASSERT_EQ(frames.size(), 2U);
    EXPECT_EQ(frames[0].type, FrameType::Token);
    EXPECT_EQ(frames[0].source, 3);
    EXPECT_EQ(frames[1].destination, kBroadcast);
    EXPECT_EQ(frames[1].data, data);
    EXPECT_EQ(rx.state(), FrameReceiver::State::Idle);
}

TEST(MstpReceiver, SkipsDataOfFramesForOthersEvenWhenItLooksLikeAFrame) {
    FrameReceiver rx(4);
    // The data of a frame for station 9 holds a complete token for us: it
    // must not be taken as one.
    const auto inner = encode_frame(FrameType::Token, 4, 1);
    const auto stream = concat({encode_frame(FrameType::DataNotExpectingReply, 9, 1, inner),
                                encode_frame(FrameType::PollForMaster, 4, 1)});
    const auto events = feed_all(rx, stream);
    ASSERT_EQ(events.size(), 2U);
    EXPECT_EQ(events[0], Event::NotForUs);
    EXPECT_EQ(events[1], Event::ValidFrame);
    EXPECT_EQ(rx.frame().type, FrameType::PollForMaster);
    EXPECT_EQ(rx.stats().not_for_us, 1U);
}

TEST(MstpReceiver, PromiscuousReceiverTakesEveryFrame) {
    FrameReceiver rx(std::nullopt);
    const auto events = feed_all(
        rx, concat({encode_frame(FrameType::Token, 9, 1), encode_frame(FrameType::Token, 1, 9)}));
    EXPECT_EQ(events, (std::vector<Event>{Event::ValidFrame, Event::ValidFrame}));
}

TEST(MstpReceiver, BadHeaderCrcIsAnInvalidFrameAndResynchronises) {
    FrameReceiver rx(4);
    auto bad = encode_frame(FrameType::Token, 4, 3);
    bad[7] ^= 0x01;
    const auto events = feed_all(rx, concat({bad, encode_frame(FrameType::Token, 4, 3)}));
    EXPECT_EQ(events, (std::vector<Event>{Event::InvalidFrame, Event::ValidFrame}));
    EXPECT_EQ(rx.stats().header_crc_errors, 1U);
}

TEST(MstpReceiver, BadDataCrcIsAnInvalidFrame) {
    FrameReceiver rx(4);
    auto bad = encode_frame(FrameType::DataExpectingReply, 4, 3, std::vector<uint8_t>{1, 2, 3});
    bad[9] ^= 0x40;
    EXPECT_EQ(feed_all(rx, bad), (std::vector<Event>{Event::InvalidFrame}));
    EXPECT_EQ(rx.stats().data_crc_errors, 1U);
}

TEST(MstpReceiver, FrameTooLongForTheBufferIsInvalidAndItsDataSkipped) {
    FrameReceiver rx(4, 16);
    std::vector<uint8_t> data(20, 0x55);
    data[1] = 0xFF;  // a preamble inside the data
    const auto events =
        feed_all(rx, concat({encode_frame(FrameType::DataNotExpectingReply, 4, 3, data),
                             encode_frame(FrameType::Token, 4, 3)}));
    EXPECT_EQ(events, (std::vector<Event>{Event::InvalidFrame, Event::ValidFrame}));
    EXPECT_EQ(rx.stats().too_long, 1U);
}

TEST(MstpReceiver, TimeoutAbandonsAFrameInProgress) {
    FrameReceiver rx(4);
    const auto token = encode_frame(FrameType::Token, 4, 3);
    for (size_t i = 0; i < 5; ++i)
        rx.feed(token[i]);
    EXPECT_EQ(rx.state(), FrameReceiver::State::Header);
    EXPECT_EQ(rx.timeout(), Event::InvalidFrame);
    EXPECT_EQ(rx.state(), FrameReceiver::State::Idle);
    // In PREAMBLE a timeout is no invalid frame, only a return to IDLE.
    rx.feed(0x55);
    EXPECT_EQ(rx.timeout(), Event::None);
    EXPECT_EQ(rx.timeout(), Event::None);
    EXPECT_EQ(feed_all(rx, token), (std::vector<Event>{Event::ValidFrame}));
    // In DATA too.
    const auto data =
        encode_frame(FrameType::DataNotExpectingReply, 4, 3, std::vector<uint8_t>{1, 2});
    for (size_t i = 0; i < 9; ++i)
        rx.feed(data[i]);
    EXPECT_EQ(rx.state(), FrameReceiver::State::Data);
    EXPECT_EQ(rx.error(), Event::InvalidFrame);
    EXPECT_EQ(rx.stats().aborted, 2U);
}

TEST(MstpReceiver, RepeatedPreambleOctetsStillSynchronise) {
    FrameReceiver rx(4);
    const auto events =
        feed_all(rx, concat({{0x55, 0x55, 0x55}, encode_frame(FrameType::Token, 4, 3)}));
    EXPECT_EQ(events, (std::vector<Event>{Event::ValidFrame}));
}

TEST(MstpReceiver, DecodeStreamFindsEveryFrame) {
    auto corrupt = encode_frame(FrameType::Token, 1, 2);
    corrupt[3] = 7;
    const auto s = decode_stream(concat({encode_frame(FrameType::Token, 1, 2), corrupt,
                                         encode_frame(FrameType::ReplyPostponed, 2, 1)}));
    ASSERT_EQ(s.frames.size(), 2U);
    EXPECT_EQ(s.invalid, 1U);
    EXPECT_EQ(s.frames[1].type, FrameType::ReplyPostponed);
}
