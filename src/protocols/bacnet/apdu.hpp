// Application layer PDU headers (ASHRAE 135 clause 20.1): confirmed request,
// unconfirmed request, simple/complex ack, segment ack, error, reject, abort.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "protocols/bacnet/enums.hpp"

namespace openbcpm::bacnet {

enum class PduType : uint8_t {
    ConfirmedRequest = 0,
    UnconfirmedRequest = 1,
    SimpleAck = 2,
    ComplexAck = 3,
    SegmentAck = 4,
    Error = 5,
    Reject = 6,
    Abort = 7,
};

struct Apdu {
    PduType type = PduType::ConfirmedRequest;
    bool segmented = false;                    // SEG
    bool more_follows = false;                 // MOR
    bool segmented_response_accepted = false;  // SA (confirmed request)
    uint8_t max_segments_code = 0;             // 0..7 (confirmed request)
    uint8_t max_apdu_code = 0;                 // 0..15 (confirmed request)
    uint8_t invoke_id = 0;
    uint8_t sequence_number = 0;    // segmented PDUs, segment ack
    uint8_t window_size = 0;        // proposed (segments) or actual (segment ack)
    uint8_t service = 0;            // service choice
    bool negative = false;          // segment ack NAK
    bool from_server = false;       // segment ack / abort SRV
    uint8_t reason = 0;             // reject / abort reason
    std::span<const uint8_t> data;  // service data after the header
};

// Nullopt for a PDU too short for its header or with an unknown type.
std::optional<Apdu> decode_apdu(std::span<const uint8_t> bytes);

// Max APDU length and max segments fields (clause 20.1.2.4, 20.1.2.5).
// Returns 0 for a reserved max-APDU code.
size_t max_apdu_from_code(uint8_t code);
uint8_t max_apdu_to_code(size_t length);
// 0 means unspecified; 7 means more than 64 (returned as 65).
size_t max_segments_from_code(uint8_t code);
uint8_t max_segments_to_code(size_t segments);

struct ConfirmedHeader {
    uint8_t invoke_id = 0;
    uint8_t service = 0;
    bool segmented_response_accepted = true;
    uint8_t max_segments_code = 0;
    uint8_t max_apdu_code = 5;  // 1476
};
std::vector<uint8_t> encode_confirmed_request(const ConfirmedHeader& h,
                                              std::span<const uint8_t> data);
std::vector<uint8_t> encode_unconfirmed_request(UnconfirmedService s,
                                                std::span<const uint8_t> data);
std::vector<uint8_t> encode_simple_ack(uint8_t invoke_id, uint8_t service);
std::vector<uint8_t> encode_complex_ack(uint8_t invoke_id, uint8_t service,
                                        std::span<const uint8_t> data);
// The forms with `out` append the PDU to it (a sender's reused buffer).
void encode_complex_ack(std::vector<uint8_t>& out, uint8_t invoke_id, uint8_t service,
                        std::span<const uint8_t> data);
std::vector<uint8_t> encode_complex_ack_segment(uint8_t invoke_id, uint8_t service,
                                                uint8_t sequence, uint8_t proposed_window,
                                                bool more_follows, std::span<const uint8_t> data);
std::vector<uint8_t> encode_segment_ack(bool negative, bool from_server, uint8_t invoke_id,
                                        uint8_t sequence, uint8_t window);
// Error PDU with the plain Error production (class, code).
std::vector<uint8_t> encode_error(uint8_t invoke_id, uint8_t service, ErrorClass c, ErrorCode code);
void encode_error(std::vector<uint8_t>& out, uint8_t invoke_id, uint8_t service, ErrorClass c,
                  ErrorCode code);
// Error PDU with service-specific error data already encoded.
std::vector<uint8_t> encode_error_raw(uint8_t invoke_id, uint8_t service,
                                      std::span<const uint8_t> data);
std::vector<uint8_t> encode_reject(uint8_t invoke_id, RejectReason r);
std::vector<uint8_t> encode_abort(bool from_server, uint8_t invoke_id, AbortReason r);

}  // namespace openbcpm::bacnet
