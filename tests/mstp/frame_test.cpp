// The MS/TP frame codec: the CRC examples of Annex G, the frame layout, and
// every way a frame can be malformed.
#include "protocols/mstp/frame.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace openbcpm::mstp;

TEST(MstpCrc, HeaderCrcFollowsAnnexG1) {
    // A Token from 0x05 to 0x10: the register after each octet, as Annex G lists it.
    uint8_t crc = 0xFF;
    const uint8_t header[] = {0x00, 0x10, 0x05, 0x00, 0x00};
    const uint8_t expected[] = {0x55, 0xC2, 0xBC, 0x95, 0x73};
    for (size_t i = 0; i < 5; ++i) {
        crc = header_crc_step(crc, header[i]);
        EXPECT_EQ(crc, expected[i]) << "after octet " << i;
    }
    EXPECT_EQ(header_crc(header), 0x8C);
    EXPECT_EQ(header_crc_step(crc, 0x8C), kHeaderCrcResidue);
}

TEST(MstpCrc, DataCrcFollowsAnnexG2) {
    uint16_t crc = 0xFFFF;
    const uint8_t data[] = {0x01, 0x22, 0x30};
    const uint16_t expected[] = {0x1E0E, 0xEB70, 0x42EF};
    for (size_t i = 0; i < 3; ++i) {
        crc = data_crc_step(crc, data[i]);
        EXPECT_EQ(crc, expected[i]) << "after octet " << i;
    }
    EXPECT_EQ(data_crc(data), 0xBD10);
    crc = data_crc_step(crc, 0x10);  // LSB first
    EXPECT_EQ(crc, 0x0F3A);
    crc = data_crc_step(crc, 0xBD);
    EXPECT_EQ(crc, kDataCrcResidue);
}

TEST(MstpFrame, EncodesTokenAsTheStandardShowsIt) {
    const auto f = encode_frame(FrameType::Token, 0x10, 0x05);
    EXPECT_EQ(f, (std::vector<uint8_t>{0x55, 0xFF, 0x00, 0x10, 0x05, 0x00, 0x00, 0x8C}));
}

TEST(MstpFrame, EncodesDataWithLengthMsbFirstAndCrcLsbFirst) {
    const std::vector<uint8_t> data{0x01, 0x22, 0x30};
    const auto f = encode_frame(FrameType::DataNotExpectingReply, 0x02, 0x01, data);
    ASSERT_EQ(f.size(), frame_size(3));
    EXPECT_EQ(f[5], 0x00);
    EXPECT_EQ(f[6], 0x03);
    EXPECT_EQ(f[8], 0x01);
    EXPECT_EQ(f[11], 0x10);
    EXPECT_EQ(f[12], 0xBD);
}

TEST(MstpFrame, RoundTripsEveryLengthUpTo501) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{255}, size_t{256}, kMaxData}) {
        std::vector<uint8_t> data(n);
        for (size_t i = 0; i < n; ++i)
            data[i] = static_cast<uint8_t>(i * 7 + 0x55);  // preamble octets inside too
        const auto wire = encode_frame(FrameType::DataExpectingReply, 0x7F, 0x00, data);
        const auto decoded = decode_frame(wire);
        ASSERT_TRUE(std::holds_alternative<Frame>(decoded)) << n;
        const Frame& f = std::get<Frame>(decoded);
        EXPECT_EQ(f.type, FrameType::DataExpectingReply);
        EXPECT_EQ(f.destination, 0x7F);
        EXPECT_EQ(f.source, 0x00);
        EXPECT_EQ(f.data, data);
    }
}

TEST(MstpFrame, RefusesToEncodeMoreThan501Octets) {
    const std::vector<uint8_t> data(kMaxData + 1);
    EXPECT_THROW(encode_frame(FrameType::DataNotExpectingReply, 1, 2, data), std::length_error);
}

TEST(MstpFrame, AcceptsOnePadOctet) {
    auto wire = encode_frame(FrameType::PollForMaster, 3, 1);
    wire.push_back(0xFF);
    EXPECT_TRUE(std::holds_alternative<Frame>(decode_frame(wire)));
    wire.push_back(0xFF);
    EXPECT_EQ(std::get<FrameError>(decode_frame(wire)), FrameError::TrailingOctets);
}

TEST(MstpFrame, ReportsEachMalformation) {
    const std::vector<uint8_t> data{1, 2, 3, 4};
    const auto good = encode_frame(FrameType::DataNotExpectingReply, 5, 6, data);
    auto error_of = [](const std::vector<uint8_t>& w) {
        const auto r = decode_frame(w);
        return std::holds_alternative<FrameError>(r) ? std::get<FrameError>(r)
                                                     : static_cast<FrameError>(255);
    };
    EXPECT_EQ(error_of({}), FrameError::Truncated);
    EXPECT_EQ(error_of({0x55, 0xFF, 0x00}), FrameError::Truncated);
    EXPECT_EQ(error_of(std::vector<uint8_t>(good.begin(), good.end() - 1)), FrameError::Truncated);
    auto bad = good;
    bad[1] = 0xFE;
    EXPECT_EQ(error_of(bad), FrameError::BadPreamble);
    bad = good;
    bad[4] ^= 0x01;
    EXPECT_EQ(error_of(bad), FrameError::BadHeaderCrc);
    bad = good;
    bad[9] ^= 0x80;
    EXPECT_EQ(error_of(bad), FrameError::BadDataCrc);
    bad = good;
    bad.back() ^= 0x01;
    EXPECT_EQ(error_of(bad), FrameError::BadDataCrc);
    // A good header announcing 502 octets.
    std::vector<uint8_t> long_header{0x55, 0xFF, 0x06, 0x01, 0x02, 0x01, 0xF6};
    long_header.push_back(header_crc(std::span<const uint8_t>(long_header).subspan(2, 5)));
    EXPECT_EQ(error_of(long_header), FrameError::TooLong);
}

TEST(MstpFrame, NamesFrameTypes) {
    EXPECT_EQ(to_string(FrameType::ReplyPostponed), "Reply-Postponed");
    EXPECT_EQ(to_string(static_cast<FrameType>(40)), "unknown");
    EXPECT_EQ(to_string(FrameError::BadHeaderCrc), "bad header CRC");
}
