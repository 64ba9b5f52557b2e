#include "protocols/snmp/message.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace openbcpm::snmp {
namespace {

using Bytes = std::vector<uint8_t>;

// snmpget -v2c -c public HOST sysDescr.0, request-id 0x1A2B3C4D, as on the wire.
const Bytes kGetSysDescr{0x30, 0x29, 0x02, 0x01, 0x01, 0x04, 0x06, 'p',  'u',  'b',  'l',
                         'i',  'c',  0xA0, 0x1C, 0x02, 0x04, 0x1A, 0x2B, 0x3C, 0x4D, 0x02,
                         0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0E, 0x30, 0x0C, 0x06, 0x08,
                         0x2B, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00};

TEST(SnmpMessage, DecodesAGetRequestFromTheWire) {
    const Decoded d = decode_message(kGetSysDescr);
    ASSERT_EQ(d.status, DecodeStatus::Ok);
    EXPECT_EQ(d.message.version, kVersion2c);
    EXPECT_EQ(d.message.community, "public");
    EXPECT_EQ(d.message.pdu.type, PduType::GetRequest);
    EXPECT_EQ(d.message.pdu.request_id, 0x1A2B3C4D);
    ASSERT_EQ(d.message.pdu.varbinds.size(), 1u);
    EXPECT_EQ(d.message.pdu.varbinds[0].name, (Oid{1, 3, 6, 1, 2, 1, 1, 1, 0}));
    EXPECT_EQ(d.message.pdu.varbinds[0].value, Value(Null{}));
    EXPECT_EQ(d.message.pdu.bad_value_index, 0u);
}

TEST(SnmpMessage, EncodesTheSameBytes) {
    Message m;
    m.community = "public";
    m.pdu.request_id = 0x1A2B3C4D;
    m.pdu.varbinds.push_back({Oid{1, 3, 6, 1, 2, 1, 1, 1, 0}, Null{}});
    EXPECT_EQ(encode_message(m), kGetSysDescr);
    EXPECT_EQ(message_size(m, 14), kGetSysDescr.size());
}

TEST(SnmpMessage, RoundTripsEveryPduTypeWithLongLengths) {
    for (const PduType t :
         {PduType::GetRequest, PduType::GetNextRequest, PduType::Response, PduType::SetRequest,
          PduType::GetBulkRequest, PduType::InformRequest, PduType::SNMPv2Trap, PduType::Report}) {
        Message m;
        m.community = std::string(200, 'c');
        m.pdu.type = t;
        m.pdu.request_id = -7;
        m.pdu.error_status = 3;
        m.pdu.error_index = 1000;
        for (uint32_t i = 0; i < 300; ++i)
            m.pdu.varbinds.push_back({Oid{1, 3, 6, 1, 3, i}, Counter64{i * 1000003ull}});
        const Bytes b = encode_message(m);
        size_t octets = 0;
        for (const auto& vb : m.pdu.varbinds)
            octets += ber::encoded_size(vb);
        EXPECT_EQ(b.size(), message_size(m, octets));
        const Decoded d = decode_message(b);
        ASSERT_EQ(d.status, DecodeStatus::Ok);
        EXPECT_EQ(d.message.community, m.community);
        EXPECT_EQ(d.message.pdu.type, t);
        EXPECT_EQ(d.message.pdu.request_id, -7);
        EXPECT_EQ(d.message.pdu.non_repeaters(), 3);
        EXPECT_EQ(d.message.pdu.max_repetitions(), 1000);
        EXPECT_EQ(d.message.pdu.varbinds, m.pdu.varbinds);
    }
}

TEST(SnmpMessage, VersionsOtherThanV1AndV2cAreBadVersions) {
    Bytes v3 = kGetSysDescr;
    v3[4] = 0x03;
    EXPECT_EQ(decode_message(v3).status, DecodeStatus::BadVersion);
    Bytes v1 = kGetSysDescr;
    v1[4] = 0x00;
    const Decoded d = decode_message(v1);
    ASSERT_EQ(d.status, DecodeStatus::Ok);
    EXPECT_EQ(d.message.version, kVersion1);
}

TEST(SnmpMessage, V1HasNoGetBulk) {
    Bytes bulk = kGetSysDescr;
    bulk[13] = 0xA5;
    EXPECT_EQ(decode_message(bulk).status, DecodeStatus::Ok);
    bulk[4] = 0x00;
    EXPECT_EQ(decode_message(bulk).status, DecodeStatus::Malformed);
}

TEST(SnmpMessage, RejectsMalformedMessages) {
    // Trailing octets after the message.
    Bytes trailing = kGetSysDescr;
    trailing.push_back(0x00);
    EXPECT_EQ(decode_message(trailing).status, DecodeStatus::Malformed);
    // Every truncation.
    for (size_t n = 0; n < kGetSysDescr.size(); ++n) {
        EXPECT_EQ(decode_message(std::span(kGetSysDescr).first(n)).status, DecodeStatus::Malformed)
            << n;
    }
    // An unknown PDU tag, and the v1 Trap-PDU.
    for (const uint8_t t : {0xA4, 0xA9, 0x30}) {
        Bytes b = kGetSysDescr;
        b[13] = t;
        EXPECT_EQ(decode_message(b).status, DecodeStatus::Malformed) << int{t};
    }
    // A name that is not an OBJECT IDENTIFIER.
    Bytes name = kGetSysDescr;
    name[31] = 0x04;
    EXPECT_EQ(decode_message(name).status, DecodeStatus::Malformed);
    // Request-id wider than Integer32.
    Bytes wide{0x30, 0x2A, 0x02, 0x01, 0x01, 0x04, 0x06, 'p',  'u',  'b',  'l',
               'i',  'c',  0xA0, 0x1D, 0x02, 0x05, 0x01, 0x1A, 0x2B, 0x3C, 0x4D,
               0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0E, 0x30, 0x0C, 0x06,
               0x08, 0x2B, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00};
    EXPECT_EQ(decode_message(wide).status, DecodeStatus::Malformed);
    // An indefinite length on the outer SEQUENCE.
    Bytes indefinite = kGetSysDescr;
    indefinite[1] = 0x80;
    EXPECT_EQ(decode_message(indefinite).status, DecodeStatus::Malformed);
}

TEST(SnmpMessage, MarksTheFirstUndecodableValue) {
    Message m;
    m.community = "private";
    m.pdu.type = PduType::SetRequest;
    m.pdu.varbinds = {{Oid{1, 3, 6, 1, 3, 1}, int32_t{1}},
                      {Oid{1, 3, 6, 1, 3, 2}, Null{}},
                      {Oid{1, 3, 6, 1, 3, 3}, Counter32{1}}};
    // An IpAddress of three octets.
    Decoded d = decode_message(testing::message_with_raw_value(m, 2, {0x40, 0x03, 1, 2, 3}));
    ASSERT_EQ(d.status, DecodeStatus::Ok);
    EXPECT_EQ(d.message.pdu.bad_value_index, 2u);
    EXPECT_EQ(d.message.pdu.bad_value_error, ErrorStatus::WrongEncoding);
    EXPECT_EQ(d.message.pdu.varbinds[1].value, Value(Null{}));
    EXPECT_EQ(d.message.pdu.varbinds[2].value, Value(Counter32{1}));

    // An unknown application tag is the wrong type rather than a bad encoding.
    d = decode_message(testing::message_with_raw_value(m, 2, {0x47, 0x01, 0x00}));
    ASSERT_EQ(d.status, DecodeStatus::Ok);
    EXPECT_EQ(d.message.pdu.bad_value_index, 2u);
    EXPECT_EQ(d.message.pdu.bad_value_error, ErrorStatus::WrongType);

    // A value whose own length runs past its binding is no message at all.
    d = decode_message(testing::message_with_raw_value(m, 2, {0x02, 0x05, 0x01}));
    EXPECT_EQ(d.status, DecodeStatus::Malformed);
}

}  // namespace
}  // namespace openbcpm::snmp
