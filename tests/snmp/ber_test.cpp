#include "protocols/snmp/ber.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace openbcpm::snmp {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes encode(const Value& v) {
    Bytes out;
    ber::Writer(out).value(v);
    return out;
}

std::optional<Value> decode(const Bytes& b) {
    ber::Reader r(b);
    auto tlv = r.next();
    if (!tlv || !r.at_end()) return std::nullopt;
    return ber::decode_value(*tlv);
}

TEST(SnmpBer, IntegersUseTheFewestOctets) {
    EXPECT_EQ(encode(int32_t{0}), (Bytes{0x02, 0x01, 0x00}));
    EXPECT_EQ(encode(int32_t{127}), (Bytes{0x02, 0x01, 0x7F}));
    EXPECT_EQ(encode(int32_t{128}), (Bytes{0x02, 0x02, 0x00, 0x80}));
    EXPECT_EQ(encode(int32_t{-1}), (Bytes{0x02, 0x01, 0xFF}));
    EXPECT_EQ(encode(int32_t{-128}), (Bytes{0x02, 0x01, 0x80}));
    EXPECT_EQ(encode(int32_t{-129}), (Bytes{0x02, 0x02, 0xFF, 0x7F}));
    EXPECT_EQ(encode(std::numeric_limits<int32_t>::min()),
              (Bytes{0x02, 0x04, 0x80, 0x00, 0x00, 0x00}));
    EXPECT_EQ(encode(std::numeric_limits<int32_t>::max()),
              (Bytes{0x02, 0x04, 0x7F, 0xFF, 0xFF, 0xFF}));
}

TEST(SnmpBer, UnsignedTypesGetALeadingZeroForTheTopBit) {
    EXPECT_EQ(encode(Counter32{0xFFFFFFFF}), (Bytes{0x41, 0x05, 0x00, 0xFF, 0xFF, 0xFF, 0xFF}));
    EXPECT_EQ(encode(Gauge32{0x80}), (Bytes{0x42, 0x02, 0x00, 0x80}));
    EXPECT_EQ(encode(TimeTicks{0}), (Bytes{0x43, 0x01, 0x00}));
    EXPECT_EQ(encode(Counter64{~uint64_t{0}}),
              (Bytes{0x46, 0x09, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
    EXPECT_EQ(encode(Counter64{uint64_t{1} << 32}),
              (Bytes{0x46, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00}));
}

TEST(SnmpBer, RejectsIntegersWiderThanTheirType) {
    EXPECT_FALSE(decode({0x02, 0x05, 0x00, 0x80, 0x00, 0x00, 0x00}));  // 2^31
    EXPECT_FALSE(decode({0x02, 0x00}));                                // no content
    EXPECT_FALSE(decode({0x41, 0x01, 0x80}));                          // negative Counter32
    EXPECT_FALSE(decode({0x41, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00}));  // 2^32
    EXPECT_FALSE(decode({0x41, 0x06, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF}));
    EXPECT_FALSE(decode({0x46, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}));  // 2^64
    EXPECT_FALSE(decode({0x43, 0x01, 0xFF}));                          // negative TimeTicks
    EXPECT_EQ(decode({0x02, 0x04, 0xFF, 0xFF, 0xFF, 0xFE}), Value(int32_t{-2}));
    // Redundant leading octets within the type's width are tolerated.
    EXPECT_EQ(decode({0x02, 0x02, 0x00, 0x05}), Value(int32_t{5}));
    EXPECT_EQ(decode({0x42, 0x05, 0x00, 0xFF, 0xFF, 0xFF, 0xFF}), Value(Gauge32{0xFFFFFFFF}));
}

TEST(SnmpBer, LengthsShortAndLongForm) {
    Bytes long_string{0x04, 0x81, 0x80};
    long_string.resize(3 + 128, 'x');
    EXPECT_EQ(decode(long_string), Value(std::string(128, 'x')));
    Bytes two_octets{0x04, 0x82, 0x01, 0x00};
    two_octets.resize(4 + 256, 'y');
    EXPECT_EQ(decode(two_octets), Value(std::string(256, 'y')));
    // A long form that could have been short is still a definite length.
    EXPECT_EQ(decode({0x04, 0x81, 0x02, 'o', 'k'}), Value(std::string("ok")));
    EXPECT_EQ(decode({0x04, 0x84, 0x00, 0x00, 0x00, 0x01, 'z'}), Value(std::string("z")));
}

TEST(SnmpBer, RejectsBadLengths) {
    EXPECT_FALSE(decode({0x04, 0x80, 'a', 0x00, 0x00}));              // indefinite
    EXPECT_FALSE(decode({0x04, 0x85, 0, 0, 0, 0, 1, 'a'}));           // five length octets
    EXPECT_FALSE(decode({0x04, 0x03, 'a', 'b'}));                     // past the end
    EXPECT_FALSE(decode({0x04, 0x82, 0x01}));                         // length octets cut off
    EXPECT_FALSE(decode({0x04, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 'a'}));  // huge
    EXPECT_FALSE(decode({0x04}));                                     // no length at all
    EXPECT_FALSE(decode({0x1F, 0x01, 0x01, 0x00}));                   // multi-octet tag
}

TEST(SnmpBer, ReaderLeavesTheCursorOnAFailedExpectation) {
    const Bytes b{0x02, 0x01, 0x05, 0x04, 0x01, 'a'};
    ber::Reader r(b);
    EXPECT_FALSE(r.next(ber::tag::kOctetString));
    const auto i = r.next(ber::tag::kInteger);
    ASSERT_TRUE(i);
    EXPECT_EQ(ber::decode_integer32(*i), 5);
    EXPECT_TRUE(r.next(ber::tag::kOctetString));
    EXPECT_TRUE(r.at_end());
    EXPECT_FALSE(r.next());
}

TEST(SnmpBer, ObjectIdentifiers) {
    EXPECT_EQ(encode(Oid{1, 3, 6, 1}), (Bytes{0x06, 0x03, 0x2B, 0x06, 0x01}));
    EXPECT_EQ(encode(Oid{1, 3, 6, 1, 4, 1, 3833}),
              (Bytes{0x06, 0x07, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x9D, 0x79}));
    EXPECT_EQ(encode(Oid{1, 3, 0xFFFFFFFF}),
              (Bytes{0x06, 0x06, 0x2B, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F}));
    EXPECT_EQ(encode(Oid{2, 999}), (Bytes{0x06, 0x02, 0x88, 0x37}));
    EXPECT_EQ(encode(Oid{0, 0}), (Bytes{0x06, 0x01, 0x00}));
    EXPECT_EQ(decode({0x06, 0x02, 0x88, 0x37}), Value(Oid{2, 999}));
    EXPECT_EQ(decode({0x06, 0x01, 0x00}), Value(Oid{0, 0}));
    EXPECT_EQ(decode({0x06, 0x01, 0x4F}), Value(Oid{1, 39}));
    // The first sub-identifier may exceed 2^32-1 when it carries 2.(2^32-1).
    EXPECT_EQ(decode({0x06, 0x05, 0x90, 0x80, 0x80, 0x80, 0x4F}), Value(Oid{2, 0xFFFFFFFF}));
}

TEST(SnmpBer, RejectsMalformedObjectIdentifiers) {
    EXPECT_FALSE(decode({0x06, 0x00}));                                      // empty
    EXPECT_FALSE(decode({0x06, 0x06, 0x2B, 0x90, 0x80, 0x80, 0x80, 0x00}));  // 2^32
    EXPECT_FALSE(decode({0x06, 0x03, 0x2B, 0x80, 0x01}));                    // leading 0x80
    EXPECT_FALSE(decode({0x06, 0x02, 0x2B, 0x86}));                          // cut off
    EXPECT_FALSE(decode({0x06, 0x05, 0x90, 0x80, 0x80, 0x80, 0x50}));        // 2.(2^32)
    // 128 sub-identifiers are allowed, 129 are not.
    Bytes max{0x06, 127, 0x2B};
    max.resize(2 + 127, 0x01);
    auto v = decode(max);
    ASSERT_TRUE(v);
    EXPECT_EQ(std::get<Oid>(*v).size(), 128u);
    Bytes over{0x06, 128, 0x2B};
    over.resize(2 + 128, 0x01);
    EXPECT_FALSE(decode(over));
}

TEST(SnmpBer, OtherValuesRoundTrip) {
    const std::vector<Value> values{Null{},
                                    std::string(""),
                                    std::string("BCPME", 5),
                                    std::string(300, '\0'),
                                    IpAddress{{192, 168, 1, 67}},
                                    Counter32{5},
                                    Gauge32{0},
                                    TimeTicks{123456},
                                    Opaque{"\x9f\x78\x04"},
                                    Counter64{1234567890123ull},
                                    NoSuchObject{},
                                    NoSuchInstance{},
                                    EndOfMibView{},
                                    Oid{1, 3, 6, 1, 2, 1, 1, 1, 0},
                                    int32_t{-100000}};
    for (const Value& v : values) {
        const Bytes b = encode(v);
        EXPECT_EQ(b.size(), ber::encoded_size(v)) << to_string(v);
        EXPECT_EQ(decode(b), v) << to_string(v);
    }
    EXPECT_EQ(encode(NoSuchObject{}), (Bytes{0x80, 0x00}));
    EXPECT_EQ(encode(NoSuchInstance{}), (Bytes{0x81, 0x00}));
    EXPECT_EQ(encode(EndOfMibView{}), (Bytes{0x82, 0x00}));
    EXPECT_EQ(encode(IpAddress{{10, 0, 0, 1}}), (Bytes{0x40, 0x04, 10, 0, 0, 1}));
}

TEST(SnmpBer, RejectsContentInconsistentWithItsTag) {
    EXPECT_FALSE(decode({0x40, 0x03, 10, 0, 0}));  // IpAddress of three octets
    EXPECT_FALSE(decode({0x05, 0x01, 0x00}));      // NULL with content
    EXPECT_FALSE(decode({0x82, 0x01, 0x00}));      // endOfMibView with content
    EXPECT_FALSE(decode({0x47, 0x01, 0x00}));      // no SNMP type
    EXPECT_FALSE(decode({0x30, 0x00}));            // a SEQUENCE is no value
    EXPECT_TRUE(ber::is_value_tag(0x44));
    EXPECT_FALSE(ber::is_value_tag(0x47));
}

TEST(SnmpBer, ConstructedLengthsArePatchedInPlace) {
    for (const size_t n : {0u, 1u, 127u, 128u, 255u, 256u, 65535u, 65536u, 70000u}) {
        Bytes out;
        ber::Writer w(out);
        const size_t mark = w.begin(ber::tag::kSequence);
        w.octets(std::string(n, 'q'));
        w.end(mark);
        const size_t inner = ber::tlv_size(n);
        ASSERT_EQ(out.size(), ber::tlv_size(inner)) << n;
        ber::Reader r(out);
        const auto seq = r.next(ber::tag::kSequence);
        ASSERT_TRUE(seq) << n;
        EXPECT_TRUE(r.at_end());
        ber::Reader in(*seq);
        const auto s = in.next(ber::tag::kOctetString);
        ASSERT_TRUE(s);
        EXPECT_EQ(s->size(), n);
    }
}

TEST(SnmpBer, VarBindSizeMatchesItsEncoding) {
    const VarBind vb{Oid{1, 3, 6, 1, 4, 1, 3833, 1, 30, 1, 1, 6, 3, 4, 0}, std::string(200, 'a')};
    Bytes out;
    ber::Writer(out).varbind(vb);
    EXPECT_EQ(out.size(), ber::encoded_size(vb));
}

TEST(SnmpOid, ParsesAndPrints) {
    EXPECT_EQ(Oid::parse(".1.3.6.1.2.1.1.1.0"), (Oid{1, 3, 6, 1, 2, 1, 1, 1, 0}));
    EXPECT_EQ(Oid::parse("1.3.4294967295")->to_string(), "1.3.4294967295");
    EXPECT_FALSE(Oid::parse("1.3.4294967296"));
    EXPECT_FALSE(Oid::parse("1..3"));
    EXPECT_FALSE(Oid::parse(""));
    EXPECT_FALSE(Oid::parse("1.3.x"));
}

TEST(SnmpOid, OrdersLexicographically) {
    EXPECT_LT((Oid{1, 3, 6}), (Oid{1, 3, 6, 0}));
    EXPECT_LT((Oid{1, 3, 6, 9}), (Oid{1, 3, 7}));
    EXPECT_LT((Oid{1, 3, 6, 1, 2, 1, 1, 9, 1, 4, 2}), (Oid{1, 3, 6, 1, 2, 1, 11, 1, 0}));
    EXPECT_TRUE(subtree_before(Oid{1, 3, 6, 1, 2}, Oid{1, 3, 6, 1, 3, 0}));
    EXPECT_FALSE(subtree_before(Oid{1, 3, 6, 1, 2}, Oid{1, 3, 6, 1, 2, 7}));
    EXPECT_FALSE(subtree_before(Oid{1, 3, 6, 1, 2}, Oid{1, 3, 6}));
    EXPECT_FALSE(subtree_before(Oid{1, 3, 6, 1, 4}, Oid{1, 3, 6, 1, 3, 99}));
}

}  // namespace
}  // namespace openbcpm::snmp
