// MS/TP frames (ASHRAE 135 clause 9.3): preamble 0x55 0xFF, frame type,
// destination, source, 2-octet length (MSB first), header CRC-8, data and
// its CRC-16 (LSB first). Pure codec over byte spans.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

namespace openbcpm::mstp {

inline constexpr uint8_t kPreamble1 = 0x55;
inline constexpr uint8_t kPreamble2 = 0xFF;
inline constexpr uint8_t kBroadcast = 0xFF;
inline constexpr uint8_t kMaxMasterAddress = 127;
inline constexpr size_t kHeaderSize = 8;  // preamble, type, dest, source, length, CRC
// The largest data field of a standard (non-COBS) frame: an NPDU carrying a
// 480-octet APDU with the largest NPCI.
inline constexpr size_t kMaxData = 501;
// What the header CRC register holds after a good header and its CRC, and
// the data CRC register after good data and both CRC octets (Annex G).
inline constexpr uint8_t kHeaderCrcResidue = 0x55;
inline constexpr uint16_t kDataCrcResidue = 0xF0B8;

enum class FrameType : uint8_t {
    Token = 0,
    PollForMaster = 1,
    ReplyToPollForMaster = 2,
    TestRequest = 3,
    TestResponse = 4,
    DataExpectingReply = 5,
    DataNotExpectingReply = 6,
    ReplyPostponed = 7,
    // 8..31 reserved; 32/33 are the COBS-encoded extended data frames, which
    // this node does not send and treats as any unknown type.
};

std::string_view to_string(FrameType t);

struct Frame {
    FrameType type = FrameType::Token;
    uint8_t destination = 0;
    uint8_t source = 0;
    std::vector<uint8_t> data;
    bool operator==(const Frame&) const = default;
};

// One step of each CRC, as the receive state machine accumulates them.
uint8_t header_crc_step(uint8_t crc, uint8_t octet);
uint16_t data_crc_step(uint16_t crc, uint8_t octet);
// The octet(s) to transmit: the ones complement of the accumulated CRC.
uint8_t header_crc(std::span<const uint8_t> header5);
uint16_t data_crc(std::span<const uint8_t> data);

// Octets a frame with `data_length` data octets occupies on the wire.
constexpr size_t frame_size(size_t data_length) {
    return kHeaderSize + (data_length ? data_length + 2 : 0);
}
// The largest frame on the wire: what a fixed frame buffer holds.
inline constexpr size_t kMaxFrameSize = frame_size(kMaxData);

// The whole frame on the wire (no pad octet). Data longer than kMaxData is
// a caller error (std::length_error): the link refuses such NPDUs first.
std::vector<uint8_t> encode_frame(FrameType type, uint8_t destination, uint8_t source,
                                  std::span<const uint8_t> data = {});
inline std::vector<uint8_t> encode_frame(const Frame& f) {
    return encode_frame(f.type, f.destination, f.source, f.data);
}
// The same into `out` (at least frame_size(data.size()) octets, else
// std::length_error), without allocating; returns the octets written.
size_t encode_frame_into(std::span<uint8_t> out, FrameType type, uint8_t destination,
                         uint8_t source, std::span<const uint8_t> data = {});

enum class FrameError : uint8_t {
    Truncated,    // fewer octets than the header or its length announce
    BadPreamble,  // does not start with 0x55 0xFF
    BadHeaderCrc,
    BadDataCrc,
    TooLong,        // length above kMaxData
    TrailingOctets  // more octets than one frame (a single pad 0xFF is allowed)
};
std::string_view to_string(FrameError e);

// Decodes exactly one frame (optionally followed by one 0xFF pad octet).
std::variant<Frame, FrameError> decode_frame(std::span<const uint8_t> octets);

}  // namespace openbcpm::mstp
