// The subset of ASN.1 BER (X.690) that SNMP uses: single-octet tags and
// definite lengths. Decoding reads a byte span and never past its end; it
// rejects indefinite and over-long lengths, integers wider than their type and
// OBJECT IDENTIFIERs outside RFC 2578's limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "protocols/snmp/oid.hpp"
#include "protocols/snmp/value.hpp"

namespace openbcpm::snmp::ber {

namespace tag {
inline constexpr uint8_t kInteger = 0x02;
inline constexpr uint8_t kOctetString = 0x04;
inline constexpr uint8_t kNull = 0x05;
inline constexpr uint8_t kObjectId = 0x06;
inline constexpr uint8_t kSequence = 0x30;
inline constexpr uint8_t kIpAddress = 0x40;  // [APPLICATION 0]
inline constexpr uint8_t kCounter32 = 0x41;
inline constexpr uint8_t kGauge32 = 0x42;
inline constexpr uint8_t kTimeTicks = 0x43;
inline constexpr uint8_t kOpaque = 0x44;
inline constexpr uint8_t kCounter64 = 0x46;
inline constexpr uint8_t kNoSuchObject = 0x80;  // [CONTEXT 0] IMPLICIT NULL
inline constexpr uint8_t kNoSuchInstance = 0x81;
inline constexpr uint8_t kEndOfMibView = 0x82;
}  // namespace tag

// Lengths above this need more than four length octets: no SNMP message does.
inline constexpr size_t kMaxLengthOctets = 4;

struct Tlv {
    uint8_t tag = 0;
    std::span<const uint8_t> content;
};

// A bounds-checked cursor over a sequence of BER elements.
class Reader {
  public:
    explicit Reader(std::span<const uint8_t> in) : in_(in) {}
    bool at_end() const { return pos_ == in_.size(); }
    // The next element; nullopt (and the cursor unmoved) when it is malformed:
    // a multi-octet tag, an indefinite or over-long length, or content that
    // runs past the end of the input.
    std::optional<Tlv> next();
    // The next element's content when its tag is `expected`.
    std::optional<std::span<const uint8_t>> next(uint8_t expected);

  private:
    std::span<const uint8_t> in_;
    size_t pos_ = 0;
};

// Content decoders. Each takes exactly the content octets of one element.
std::optional<int32_t> decode_integer32(std::span<const uint8_t> content);
std::optional<uint32_t> decode_unsigned32(std::span<const uint8_t> content);
std::optional<uint64_t> decode_unsigned64(std::span<const uint8_t> content);
std::optional<Oid> decode_oid(std::span<const uint8_t> content);
// The same into `out`, reusing its storage; false (and `out` unspecified) when malformed.
bool decode_oid(std::span<const uint8_t> content, Oid& out);

// True for the tags of ObjectSyntax and the three exceptions.
bool is_value_tag(uint8_t t);
// A variable binding's value; nullopt when the tag is not a value tag or the
// content is inconsistent with it (an IpAddress of 3 octets, a negative Counter32).
std::optional<Value> decode_value(const Tlv& tlv);
// The same into `out`, reusing the storage of an OCTET STRING or OID it
// holds; false (and `out` unspecified) when decode_value gives nullopt.
bool decode_value(const Tlv& tlv, Value& out);

// Encoders append to a byte vector.
class Writer {
  public:
    explicit Writer(std::vector<uint8_t>& out) : out_(out) {}
    void integer(int64_t v, uint8_t t = tag::kInteger);
    void unsigned_integer(uint64_t v, uint8_t t);
    void octets(std::string_view bytes, uint8_t t = tag::kOctetString);
    void null(uint8_t t = tag::kNull);
    // An Oid of fewer than two arcs is written as if padded with zero arcs.
    void oid(const Oid& o);
    void value(const Value& v);
    void varbind(const VarBind& vb);
    // A constructed element: begin() writes the tag, end() the length.
    size_t begin(uint8_t t);
    void end(size_t mark);

  private:
    void header(uint8_t t, size_t length);
    std::vector<uint8_t>& out_;
};

// Sizes of encodings, for fitting a response into a maximum message size.
size_t length_size(size_t content_length);
inline size_t tlv_size(size_t content_length) {
    return 1 + length_size(content_length) + content_length;
}
size_t integer_size(int64_t v);  // whole element
size_t encoded_size(const Value& v);
size_t encoded_size(const VarBind& vb);

}  // namespace openbcpm::snmp::ber
