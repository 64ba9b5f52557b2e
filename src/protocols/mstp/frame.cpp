#include "protocols/mstp/frame.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace openbcpm::mstp {

namespace {

// Both CRCs are shifted in least significant bit first (the order the UART
// sends), so the registers shift right with the reflected polynomials:
// x^8 + x^7 + 1 -> 0x81, x^16 + x^12 + x^5 + 1 -> 0x8408.
constexpr std::array<uint8_t, 256> make_header_table() {
    std::array<uint8_t, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
        unsigned crc = i;
        for (int b = 0; b < 8; ++b)
            crc = (crc & 1U) ? (crc >> 1) ^ 0x81U : crc >> 1;
        t[i] = static_cast<uint8_t>(crc);
    }
    return t;
}

constexpr std::array<uint16_t, 256> make_data_table() {
    std::array<uint16_t, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
        unsigned crc = i;
        for (int b = 0; b < 8; ++b)
            crc = (crc & 1U) ? (crc >> 1) ^ 0x8408U : crc >> 1;
        t[i] = static_cast<uint16_t>(crc);
    }
    return t;
}

constexpr auto kHeaderTable = make_header_table();
constexpr auto kDataTable = make_data_table();

}  // namespace

uint8_t header_crc_step(uint8_t crc, uint8_t octet) {
    return kHeaderTable[static_cast<uint8_t>(crc ^ octet)];
}

uint16_t data_crc_step(uint16_t crc, uint8_t octet) {
    return static_cast<uint16_t>((crc >> 8) ^ kDataTable[(crc ^ octet) & 0xFFU]);
}

uint8_t header_crc(std::span<const uint8_t> header5) {
    uint8_t crc = 0xFF;
    for (uint8_t o : header5)
        crc = header_crc_step(crc, o);
    return static_cast<uint8_t>(~crc);
}

uint16_t data_crc(std::span<const uint8_t> data) {
    uint16_t crc = 0xFFFF;
    for (uint8_t o : data)
        crc = data_crc_step(crc, o);
    return static_cast<uint16_t>(~crc);
}

std::string_view to_string(FrameType t) {
    switch (t) {
        case FrameType::Token:
            return "Token";
        case FrameType::PollForMaster:
            return "Poll-For-Master";
        case FrameType::ReplyToPollForMaster:
            return "Reply-To-Poll-For-Master";
        case FrameType::TestRequest:
            return "Test-Request";
        case FrameType::TestResponse:
            return "Test-Response";
        case FrameType::DataExpectingReply:
            return "BACnet-Data-Expecting-Reply";
        case FrameType::DataNotExpectingReply:
            return "BACnet-Data-Not-Expecting-Reply";
        case FrameType::ReplyPostponed:
            return "Reply-Postponed";
    }
    return "unknown";
}

std::string_view to_string(FrameError e) {
    switch (e) {
        case FrameError::Truncated:
            return "truncated";
        case FrameError::BadPreamble:
            return "bad preamble";
        case FrameError::BadHeaderCrc:
            return "bad header CRC";
        case FrameError::BadDataCrc:
            return "bad data CRC";
        case FrameError::TooLong:
            return "data too long";
        case FrameError::TrailingOctets:
            return "trailing octets";
    }
    return "unknown";
}

size_t encode_frame_into(std::span<uint8_t> out, FrameType type, uint8_t destination,
                         uint8_t source, std::span<const uint8_t> data) {
    if (data.size() > kMaxData) throw std::length_error("MS/TP frame data above 501 octets");
    const size_t total = frame_size(data.size());
    if (out.size() < total) throw std::length_error("MS/TP frame buffer too small");
    const auto length = static_cast<uint16_t>(data.size());
    out[0] = kPreamble1;
    out[1] = kPreamble2;
    out[2] = static_cast<uint8_t>(type);
    out[3] = destination;
    out[4] = source;
    out[5] = static_cast<uint8_t>(length >> 8);
    out[6] = static_cast<uint8_t>(length & 0xFF);
    out[7] = header_crc(out.subspan(2, 5));
    if (!data.empty()) {
        std::copy(data.begin(), data.end(), out.begin() + kHeaderSize);
        const uint16_t crc = data_crc(data);
        out[kHeaderSize + data.size()] = static_cast<uint8_t>(crc & 0xFF);  // LSB first
        out[kHeaderSize + data.size() + 1] = static_cast<uint8_t>(crc >> 8);
    }
    return total;
}

std::vector<uint8_t> encode_frame(FrameType type, uint8_t destination, uint8_t source,
                                  std::span<const uint8_t> data) {
    if (data.size() > kMaxData) throw std::length_error("MS/TP frame data above 501 octets");
    std::vector<uint8_t> out(frame_size(data.size()));
    encode_frame_into(out, type, destination, source, data);
    return out;
}

std::variant<Frame, FrameError> decode_frame(std::span<const uint8_t> octets) {
    if (octets.size() < 2) return FrameError::Truncated;
    if (octets[0] != kPreamble1 || octets[1] != kPreamble2) return FrameError::BadPreamble;
    if (octets.size() < kHeaderSize) return FrameError::Truncated;
    uint8_t crc = 0xFF;
    for (size_t i = 2; i < kHeaderSize; ++i)
        crc = header_crc_step(crc, octets[i]);
    if (crc != kHeaderCrcResidue) return FrameError::BadHeaderCrc;
    const size_t length = (size_t{octets[5]} << 8) | octets[6];
    if (length > kMaxData) return FrameError::TooLong;
    const size_t total = frame_size(length);
    if (octets.size() < total) return FrameError::Truncated;
    if (octets.size() > total + 1 || (octets.size() == total + 1 && octets[total] != 0xFF))
        return FrameError::TrailingOctets;
    Frame f;
    f.type = static_cast<FrameType>(octets[2]);
    f.destination = octets[3];
    f.source = octets[4];
    if (length) {
        uint16_t dcrc = 0xFFFF;
        for (size_t i = kHeaderSize; i < total; ++i)
            dcrc = data_crc_step(dcrc, octets[i]);
        if (dcrc != kDataCrcResidue) return FrameError::BadDataCrc;
        f.data.assign(octets.begin() + kHeaderSize, octets.begin() + kHeaderSize + length);
    }
    return f;
}

}  // namespace openbcpm::mstp
