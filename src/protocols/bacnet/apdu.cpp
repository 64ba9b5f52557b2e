#include "protocols/bacnet/apdu.hpp"

#include <array>

namespace openbcpm::bacnet {

std::optional<Apdu> decode_apdu(std::span<const uint8_t> b) {
    if (b.empty()) return std::nullopt;
    Apdu a;
    a.type = static_cast<PduType>(b[0] >> 4);
    const uint8_t flags = b[0] & 0x0F;
    size_t p = 0;
    switch (a.type) {
        case PduType::ConfirmedRequest:
            if (b.size() < 4) return std::nullopt;
            a.segmented = (flags & 0x08) != 0;
            a.more_follows = (flags & 0x04) != 0;
            a.segmented_response_accepted = (flags & 0x02) != 0;
            a.max_segments_code = (b[1] >> 4) & 0x07;
            a.max_apdu_code = b[1] & 0x0F;
            a.invoke_id = b[2];
            p = 3;
            if (a.segmented) {
                if (b.size() < 6) return std::nullopt;
                a.sequence_number = b[3];
                a.window_size = b[4];
                p = 5;
            }
            a.service = b[p++];
            break;
        case PduType::UnconfirmedRequest:
            if (b.size() < 2) return std::nullopt;
            a.service = b[1];
            p = 2;
            break;
        case PduType::SimpleAck:
            if (b.size() < 3) return std::nullopt;
            a.invoke_id = b[1];
            a.service = b[2];
            p = 3;
            break;
        case PduType::ComplexAck:
            if (b.size() < 3) return std::nullopt;
            a.segmented = (flags & 0x08) != 0;
            a.more_follows = (flags & 0x04) != 0;
            a.invoke_id = b[1];
            p = 2;
            if (a.segmented) {
                if (b.size() < 5) return std::nullopt;
                a.sequence_number = b[2];
                a.window_size = b[3];
                p = 4;
            }
            a.service = b[p++];
            break;
        case PduType::SegmentAck:
            if (b.size() < 4) return std::nullopt;
            a.negative = (flags & 0x02) != 0;
            a.from_server = (flags & 0x01) != 0;
            a.invoke_id = b[1];
            a.sequence_number = b[2];
            a.window_size = b[3];
            p = 4;
            break;
        case PduType::Error:
            if (b.size() < 3) return std::nullopt;
            a.invoke_id = b[1];
            a.service = b[2];
            p = 3;
            break;
        case PduType::Reject:
            if (b.size() < 3) return std::nullopt;
            a.invoke_id = b[1];
            a.reason = b[2];
            p = 3;
            break;
        case PduType::Abort:
            if (b.size() < 3) return std::nullopt;
            a.from_server = (flags & 0x01) != 0;
            a.invoke_id = b[1];
            a.reason = b[2];
            p = 3;
            break;
        default:
            return std::nullopt;
    }
    a.data = b.subspan(p);
    return a;
}

namespace {
constexpr std::array<size_t, 6> kMaxApdu{50, 128, 206, 480, 1024, 1476};

// Header octets followed by the service data. Sized once and filled with
// std::copy: GCC 12 at -O3 warns falsely (-Warray-bounds) on a brace-initialised
// vector followed by insert().
std::vector<uint8_t> pdu(std::initializer_list<uint8_t> head, std::span<const uint8_t> data) {
    std::vector<uint8_t> out(head.size() + data.size());
    std::copy(head.begin(), head.end(), out.begin());
    std::copy(data.begin(), data.end(), out.begin() + static_cast<ptrdiff_t>(head.size()));
    return out;
}
}  // namespace

size_t max_apdu_from_code(uint8_t code) {
    return code < kMaxApdu.size() ? kMaxApdu[code] : 0;
}

uint8_t max_apdu_to_code(size_t length) {
    uint8_t code = 0;
    for (size_t i = 0; i < kMaxApdu.size(); ++i) {
        if (kMaxApdu[i] <= length) code = static_cast<uint8_t>(i);
    }
    return code;
}

size_t max_segments_from_code(uint8_t code) {
    if (code == 0) return 0;
    if (code >= 7) return 65;
    return size_t{1} << code;
}

uint8_t max_segments_to_code(size_t segments) {
    if (segments == 0) return 0;
    if (segments > 64) return 7;
    uint8_t code = 1;
    while ((size_t{1} << (code + 1)) <= segments && code < 6)
        ++code;
    return code;
}

std::vector<uint8_t> encode_confirmed_request(const ConfirmedHeader& h,
                                              std::span<const uint8_t> data) {
    return pdu({static_cast<uint8_t>(h.segmented_response_accepted ? 0x02 : 0x00),
                static_cast<uint8_t>(((h.max_segments_code & 7) << 4) | (h.max_apdu_code & 0x0F)),
                h.invoke_id, h.service},
               data);
}

std::vector<uint8_t> encode_unconfirmed_request(UnconfirmedService s,
                                                std::span<const uint8_t> data) {
    return pdu({0x10, static_cast<uint8_t>(s)}, data);
}

std::vector<uint8_t> encode_simple_ack(uint8_t invoke_id, uint8_t service) {
    return {0x20, invoke_id, service};
}

std::vector<uint8_t> encode_complex_ack(uint8_t invoke_id, uint8_t service,
                                        std::span<const uint8_t> data) {
    return pdu({0x30, invoke_id, service}, data);
}

void encode_complex_ack(std::vector<uint8_t>& out, uint8_t invoke_id, uint8_t service,
                        std::span<const uint8_t> data) {
    out.push_back(0x30);
    out.push_back(invoke_id);
    out.push_back(service);
    out.insert(out.end(), data.begin(), data.end());
}

std::vector<uint8_t> encode_complex_ack_segment(uint8_t invoke_id, uint8_t service,
                                                uint8_t sequence, uint8_t proposed_window,
                                                bool more_follows, std::span<const uint8_t> data) {
    return pdu({static_cast<uint8_t>(0x38 | (more_follows ? 0x04 : 0x00)), invoke_id, sequence,
                proposed_window, service},
               data);
}

std::vector<uint8_t> encode_segment_ack(bool negative, bool from_server, uint8_t invoke_id,
                                        uint8_t sequence, uint8_t window) {
    return {static_cast<uint8_t>(0x40 | (negative ? 0x02 : 0) | (from_server ? 0x01 : 0)),
            invoke_id, sequence, window};
}

std::vector<uint8_t> encode_error(uint8_t invoke_id, uint8_t service, ErrorClass c,
                                  ErrorCode code) {
    std::vector<uint8_t> out;
    encode_error(out, invoke_id, service, c, code);
    return out;
}

void encode_error(std::vector<uint8_t>& out, uint8_t invoke_id, uint8_t service, ErrorClass c,
                  ErrorCode code) {
    out.push_back(0x50);
    out.push_back(invoke_id);
    out.push_back(service);
    // Enumerated application tags: class and code fit the short forms below.
    const auto put_enum = [&](uint32_t v) {
        if (v <= 0xFF) {
            out.push_back(0x91);
            out.push_back(static_cast<uint8_t>(v));
        } else {
            out.push_back(0x92);
            out.push_back(static_cast<uint8_t>(v >> 8));
            out.push_back(static_cast<uint8_t>(v));
        }
    };
    put_enum(static_cast<uint32_t>(c));
    put_enum(static_cast<uint32_t>(code));
}

std::vector<uint8_t> encode_error_raw(uint8_t invoke_id, uint8_t service,
                                      std::span<const uint8_t> data) {
    return pdu({0x50, invoke_id, service}, data);
}

std::vector<uint8_t> encode_reject(uint8_t invoke_id, RejectReason r) {
    return {0x60, invoke_id, static_cast<uint8_t>(r)};
}

std::vector<uint8_t> encode_abort(bool from_server, uint8_t invoke_id, AbortReason r) {
    return {static_cast<uint8_t>(0x70 | (from_server ? 1 : 0)), invoke_id, static_cast<uint8_t>(r)};
}

}  // namespace openbcpm::bacnet
