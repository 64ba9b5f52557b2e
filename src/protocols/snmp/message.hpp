// SNMPv2c messages (RFC 1901, RFC 3416): version, community and one PDU.
// Decoding also accepts version 0 (SNMPv1, with the v1 PDU types that share
// the v2 layout) so that the agent can tell a v1 request from garbage.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/snmp/value.hpp"

namespace openbcpm::snmp {

inline constexpr int32_t kVersion1 = 0;
inline constexpr int32_t kVersion2c = 1;

enum class PduType : uint8_t {
    GetRequest = 0xA0,
    GetNextRequest = 0xA1,
    Response = 0xA2,
    SetRequest = 0xA3,
    GetBulkRequest = 0xA5,
    InformRequest = 0xA6,
    SNMPv2Trap = 0xA7,
    Report = 0xA8,
};

// A PDU but for its variable bindings.
struct PduHeader {
    PduType type = PduType::GetRequest;
    int32_t request_id = 0;
    // error-status and error-index; a GetBulkRequest carries non-repeaters
    // and max-repetitions in these two places.
    int32_t error_status = 0;
    int32_t error_index = 0;
    // The first binding (1-based, 0 = none) whose value did not decode, and
    // why: WrongType for a tag that is no SNMP value, WrongEncoding for
    // content inconsistent with its tag. That value reads as Null.
    uint32_t bad_value_index = 0;
    ErrorStatus bad_value_error = ErrorStatus::NoError;

    int32_t non_repeaters() const { return error_status; }
    int32_t max_repetitions() const { return error_index; }
};

struct Pdu : PduHeader {
    std::vector<VarBind> varbinds;
};

struct Message {
    int32_t version = kVersion2c;
    std::string community;  // octets
    Pdu pdu;
};

// A message decoded in place, for a responder that keeps its storage from one
// request to the next: the community points into the datagram and the
// bindings go to a VarBindList.
struct MessageHeader {
    int32_t version = kVersion2c;
    std::string_view community;
    PduHeader pdu;
};

enum class DecodeStatus : uint8_t {
    Ok,
    Malformed,   // not a well-formed SNMP message: snmpInASNParseErrs
    BadVersion,  // well-formed up to a version other than 0 or 1: snmpInBadVersions
};

struct Decoded {
    DecodeStatus status = DecodeStatus::Malformed;
    Message message;
};

// One whole datagram; anything after the message is malformed too.
Decoded decode_message(std::span<const uint8_t> datagram);
// The same in place: `header` and `varbinds` (cleared first) take the
// message; on Malformed or BadVersion their contents are unspecified.
// Allocates nothing once `varbinds` has held as many bindings as large.
DecodeStatus decode_message(std::span<const uint8_t> datagram, MessageHeader& header,
                            VarBindList& varbinds);

std::vector<uint8_t> encode_message(const Message& m);
// The same into `out` (replacing its contents, keeping its storage).
void encode_message(int32_t version, std::string_view community, const PduHeader& pdu,
                    std::span<const VarBind> varbinds, std::vector<uint8_t>& out);

// The size encode_message gives for `m` when its variable bindings are
// replaced by bindings that encode to `varbind_octets` in total.
size_t message_size(const Message& m, size_t varbind_octets);
size_t message_size(int32_t version, std::string_view community, const PduHeader& pdu,
                    size_t varbind_octets);

}  // namespace openbcpm::snmp
