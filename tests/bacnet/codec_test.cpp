// Codec tests: tag encoding against the examples of ASHRAE 135 clause 20.2
// and Annex F, round trips of every service production, malformed input.
#include <gtest/gtest.h>

#include "protocols/bacnet/apdu.hpp"
#include "protocols/bacnet/bvll.hpp"
#include "protocols/bacnet/npdu.hpp"
#include "protocols/bacnet/services.hpp"
#include "protocols/bacnet/value.hpp"

using namespace openbcpm::bacnet;
using Bytes = std::vector<uint8_t>;

namespace {

Bytes app_bytes(const Primitive& p) {
    Bytes out;
    Writer w(out);
    w.app(p);
    return out;
}

}  // namespace

TEST(BacnetTags, ApplicationEncodingsMatchTheStandardExamples) {
    EXPECT_EQ(app_bytes(Null{}), (Bytes{0x00}));
    EXPECT_EQ(app_bytes(false), (Bytes{0x10}));
    EXPECT_EQ(app_bytes(true), (Bytes{0x11}));
    EXPECT_EQ(app_bytes(uint64_t{72}), (Bytes{0x21, 0x48}));
    EXPECT_EQ(app_bytes(uint64_t{0x10000}), (Bytes{0x23, 0x01, 0x00, 0x00}));
    EXPECT_EQ(app_bytes(int64_t{72}), (Bytes{0x31, 0x48}));
    EXPECT_EQ(app_bytes(int64_t{-1}), (Bytes{0x31, 0xFF}));
    EXPECT_EQ(app_bytes(int64_t{-129}), (Bytes{0x32, 0xFF, 0x7F}));
    EXPECT_EQ(app_bytes(72.0F), (Bytes{0x44, 0x42, 0x90, 0x00, 0x00}));
    EXPECT_EQ(app_bytes(72.0), (Bytes{0x55, 0x08, 0x40, 0x52, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}));
    EXPECT_EQ(app_bytes(OctetString{0x43, 0x21}), (Bytes{0x62, 0x43, 0x21}));
    EXPECT_EQ(app_bytes(CharString{0, "This is a BACnet string!"}).size(), 2u + 1u + 24u);
    EXPECT_EQ(app_bytes(CharString{0, "This is a BACnet string!"})[0], 0x75);
    EXPECT_EQ(app_bytes(CharString{0, "This is a BACnet string!"})[1], 25);
    EXPECT_EQ(app_bytes(BitString{true, false, true, false, true}), (Bytes{0x82, 0x03, 0xA8}));
    EXPECT_EQ(app_bytes(Enumerated{0}), (Bytes{0x91, 0x00}));
    EXPECT_EQ(app_bytes(Date{91, 1, 24, 4}), (Bytes{0xA4, 0x5B, 0x01, 0x18, 0x04}));
    EXPECT_EQ(app_bytes(Time{17, 35, 45, 17}), (Bytes{0xB4, 0x11, 0x23, 0x2D, 0x11}));
    EXPECT_EQ(app_bytes(ObjectId(ObjectType::BinaryInput, 15)),
              (Bytes{0xC4, 0x00, 0xC0, 0x00, 0x0F}));
}

TEST(BacnetTags, ContextOpeningClosingAndExtendedForms) {
    Bytes out;
    Writer w(out);
    w.ctx_unsigned(0, 256);
    w.open(3);
    w.ctx_real(1, 1.0F);
    w.close(3);
    w.ctx_unsigned(20, 1);  // extended tag number
    EXPECT_EQ(
        out, (Bytes{0x0A, 0x01, 0x00, 0x3E, 0x1C, 0x3F, 0x80, 0x00, 0x00, 0x3F, 0xF9, 0x14, 0x01}));
    Reader r(out);
    EXPECT_EQ(r.ctx_unsigned(0), 256u);
    r.open(3);
    EXPECT_FLOAT_EQ(r.ctx_real(1), 1.0F);
    r.close(3);
    EXPECT_EQ(r.ctx_unsigned(20), 1u);
    EXPECT_TRUE(r.at_end());
}

TEST(BacnetTags, LongLengthsRoundTrip) {
    for (size_t n : {5u, 253u, 254u, 300u, 70000u}) {
        const OctetString o(n, 0x5A);
        const auto bytes = app_bytes(o);
        EXPECT_EQ(decode_single(bytes), Primitive(o)) << n;
    }
}

TEST(BacnetTags, EveryPrimitiveRoundTrips) {
    const std::vector<Primitive> values{Null{},
                                        true,
                                        false,
                                        uint64_t{0},
                                        uint64_t{4294967295u},
                                        int64_t{-8388608},
                                        int64_t{2147483647},
                                        -3.5F,
                                        1e300,
                                        OctetString{},
                                        CharString{0, "BCPME_1"},
                                        BitString{},
                                        BitString(41),
                                        Enumerated{65535},
                                        Date{},
                                        Time{0, 0, 0, 0},
                                        ObjectId(ObjectType::Device, kMaxInstance)};
    for (const auto& v : values)
        EXPECT_EQ(decode_single(app_bytes(v)), v) << to_string(v);
}

// The first 64 bits are inline, the rest on the heap: both halves, the
// edges and shrinking (bits beyond the size are gone, not hidden).
TEST(BacnetTags, BitStringsOfAnyLengthRoundTripAndCompareByTheirBits) {
    for (const size_t n : {1u, 7u, 63u, 64u, 65u, 128u, 129u, 300u}) {
        BitString b(n);
        for (size_t i = 0; i < n; i += 3)
            b.set(i, true);
        b.set(n - 1, true);
        const auto back = decode_single(app_bytes(b));
        EXPECT_EQ(back, Primitive{b}) << n;
        EXPECT_EQ(std::get<BitString>(back).size(), n);
        EXPECT_TRUE(b.get(n - 1));
        EXPECT_FALSE(b.get(n)) << "beyond the size";
    }
    BitString grown(2);
    grown.set(70, true);
    EXPECT_EQ(grown.size(), 71u);
    grown.resize(2);
    EXPECT_EQ(grown, BitString(2));
    BitString a{true, true, true};
    a.resize(1);
    a.resize(3);
    EXPECT_EQ(a, (BitString{true, false, false}));
    EXPECT_EQ(app_bytes(BitString(65)).size(),
              2u + 1u + 9u);  // tag, length, unused count, 9 octets
}

TEST(BacnetNpdu, AddressesOfEveryLengthUpTo255OctetsRoundTrip) {
    for (const size_t len : {1u, 6u, 18u, 255u}) {
        NpduHeader h;
        Bytes mac(len);
        for (size_t i = 0; i < len; ++i)
            mac[i] = static_cast<uint8_t>(i + 1);
        h.destination = NetAddress{7, MacAddress(mac.begin(), mac.end())};
        h.source = NetAddress{9, MacAddress{0xAB}};
        const auto n = decode_npdu(encode_npdu(h, Bytes{0x10, 0x08}));
        ASSERT_TRUE(n) << len;
        EXPECT_EQ(n->header.destination->mac.to_vector(), mac);
        EXPECT_EQ(n->header.source->mac, MacAddress{0xAB});
        EXPECT_EQ(n->payload.size(), 2u);
    }
    const Bytes too_long(256);
    EXPECT_THROW((void)MacAddress(too_long.begin(), too_long.end()), std::length_error);
    EXPECT_TRUE((MacAddress{1, 2} < MacAddress{1, 2, 0}));
    EXPECT_TRUE((MacAddress{1, 2} < MacAddress{1, 3}));
}

TEST(BacnetTags, MalformedInputThrowsDecodeErrorNeverReadsPastTheEnd) {
    const std::vector<Bytes> bad{
        {0x44, 0x42, 0x90},           // real cut short
        {0x23, 0x01},                 // unsigned cut short
        {0x45, 0x05, 0, 0, 0, 0, 0},  // real of length 5
        {0xD1, 0x00},                 // reserved application tag 13
        {0x12},                       // boolean with LVT 2
        {0x20},                       // unsigned of length 0
        {0x75, 0xFE, 0x00},           // extended length cut short
        {0x82, 0x08, 0xFF},           // bit string with 8 unused bits
        {0x71},                       // character string cut short
        {0x0F},                       // context tag 0 closing as a value
        {0xF9},                       // extended tag number missing
    };
    for (const auto& b : bad) {
        EXPECT_THROW((void)decode_elements(b), DecodeError) << testing::PrintToString(b);
    }
    Bytes deep(200, 0x0E);  // 200 opening tags
    EXPECT_THROW((void)decode_elements(deep), DecodeError);
    Bytes unbalanced{0x0E, 0x21, 0x01};  // opening without closing
    EXPECT_THROW((void)decode_elements(unbalanced), DecodeError);
}

TEST(BacnetBvll, DecodeChecksTypeAndLength) {
    const Bytes good{0x81, 0x0A, 0x00, 0x06, 0x01, 0x00};
    const auto m = decode_bvll(good);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->function, BvlcFunction::OriginalUnicastNpdu);
    EXPECT_EQ(m->npdu.size(), 2u);
    EXPECT_FALSE(decode_bvll(Bytes{0x82, 0x0A, 0x00, 0x06, 0x01, 0x00}));  // not B/IP
    EXPECT_FALSE(decode_bvll(Bytes{0x81, 0x0A, 0x00, 0x07, 0x01, 0x00}));  // length mismatch
    EXPECT_FALSE(decode_bvll(Bytes{0x81, 0x05, 0x00, 0x05, 0x01}));        // short TTL
    EXPECT_FALSE(
        decode_bvll(Bytes{0x81, 0x04, 0x00, 0x08, 1, 2, 3, 4}));  // forwarded without address
    EXPECT_FALSE(decode_bvll(Bytes{0x81}));
}

TEST(BacnetBvll, EncodersRoundTrip) {
    const BipAddress a{{192, 168, 1, 10}, 47808};
    const Bytes npdu{0x01, 0x00, 0x10, 0x08};
    const auto forwarded = encode_forwarded_npdu(a, npdu);
    auto m = decode_bvll(forwarded);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->origin, a);
    EXPECT_EQ(Bytes(m->npdu.begin(), m->npdu.end()), npdu);
    const std::vector<BdtEntry> bdt{{a, {255, 255, 255, 0}},
                                    {{{10, 0, 0, 1}, 47809}, {255, 255, 255, 255}}};
    m = decode_bvll(encode_read_bdt_ack(bdt));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->bdt, bdt);
    const std::vector<FdtEntry> fdt{{a, 60, 85}};
    m = decode_bvll(encode_read_fdt_ack(fdt));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->fdt, fdt);
    m = decode_bvll(encode_bvlc_result(BvlcResult::RegisterForeignDeviceNak));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->result, 0x0030);
    m = decode_bvll(encode_register_foreign_device(300));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->ttl, 300);
    m = decode_bvll(encode_delete_fdt_entry(a));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->entry, a);
}

TEST(BacnetBvll, BdtIniInTheGuidesFormat) {
    const auto ok = parse_bdt_ini(
        "// Bdt.ini\n// comment\n//BBMD IP_Address , BBMD port , BBMD subnet Mask\n"
        "147.26.116.217,47808,255.255.255.255\r\n172.16.17.198,47808,255.255.255.0\n\n");
    ASSERT_TRUE(ok.ok()) << ok.error;
    ASSERT_EQ(ok.entries.size(), 2u);
    EXPECT_EQ(ok.entries[0].address.to_string(), "147.26.116.217:47808");
    EXPECT_EQ(ok.entries[1].mask, (std::array<uint8_t, 4>{255, 255, 255, 0}));
    for (const char* bad :
         {"1.2.3.4, 47808,255.255.255.255", "1.2.3.4,47808", "1.2.3.400,47808,255.255.255.255",
          "1.2.3.4,0,255.255.255.255", "1.2.3.4,70000,255.255.255.255", "1.2.3.4,47808,255.0.255.0",
          "1.2.3,47808,255.255.255.255", "x,y,z", "1.2.3.4,47808,255.255.255.255,1"}) {
        const auto r = parse_bdt_ini(std::string("// ok\n") + bad + "\n");
        EXPECT_FALSE(r.ok()) << bad;
        EXPECT_NE(r.error.find("line 2"), std::string::npos) << r.error;
        EXPECT_TRUE(r.entries.empty());
    }
}

TEST(BacnetNpdu, RoutingFieldsRoundTrip) {
    NpduHeader h;
    h.expecting_reply = true;
    h.destination = NetAddress{50, {2}};
    h.source = NetAddress{7, {10, 0, 0, 1, 0xBA, 0xC0}};
    h.hop_count = 254;
    const Bytes apdu{0x00, 0x05, 0x01, 0x0C};
    const auto bytes = encode_npdu(h, apdu);
    EXPECT_EQ(bytes[0], 0x01);
    EXPECT_EQ(bytes[1], 0x2C);
    const auto n = decode_npdu(bytes);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->header.destination, h.destination);
    EXPECT_EQ(n->header.source, h.source);
    EXPECT_EQ(n->header.hop_count, 254);
    EXPECT_TRUE(n->header.expecting_reply);
    EXPECT_EQ(Bytes(n->payload.begin(), n->payload.end()), apdu);
}

TEST(BacnetNpdu, MalformedHeadersAreDropped) {
    EXPECT_FALSE(decode_npdu(Bytes{0x02, 0x00}));                          // version
    EXPECT_FALSE(decode_npdu(Bytes{0x01, 0x20, 0x00}));                    // DNET cut short
    EXPECT_FALSE(decode_npdu(Bytes{0x01, 0x20, 0x00, 0x32, 0x02, 0x01}));  // DADR cut short
    EXPECT_FALSE(decode_npdu(Bytes{0x01, 0x08, 0xFF, 0xFF, 0x01, 0x01}));  // SNET 0xFFFF
    EXPECT_FALSE(decode_npdu(Bytes{0x01, 0x08, 0x00, 0x07, 0x00}));        // SADR empty
    EXPECT_FALSE(decode_npdu(Bytes{0x01, 0x80}));                          // message type missing
    EXPECT_FALSE(decode_npdu(Bytes{0x01, 0x40, 0x10, 0x08}));              // reserved bit
}

TEST(BacnetNpdu, NetworkMessages) {
    NetworkMessageBody m;
    m.type = NetworkMessage::IAmRouterToNetwork;
    m.nets = {50, 51};
    auto d = decode_network_message(0x01, encode_network_message(m));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->nets, m.nets);
    m = {};
    m.type = NetworkMessage::InitializeRoutingTableAck;
    m.table = {{50, 1, {}}, {60, 2, {1, 2, 3}}};
    d = decode_network_message(0x07, encode_network_message(m));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->table, m.table);
    m = {};
    m.type = NetworkMessage::RejectMessageToNetwork;
    m.reason = NetworkRejectReason::NotDirectlyConnected;
    m.net = 99;
    d = decode_network_message(0x03, encode_network_message(m));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->net, 99);
    EXPECT_EQ(d->reason, NetworkRejectReason::NotDirectlyConnected);
    EXPECT_FALSE(decode_network_message(0x00, Bytes{1}));     // odd Who-Is-Router body
    EXPECT_FALSE(decode_network_message(0x06, Bytes{2, 0}));  // table cut short
    EXPECT_FALSE(decode_network_message(0x13, Bytes{0, 50, 2}));
    EXPECT_FALSE(decode_network_message(0x42, Bytes{}));  // unknown type
}

TEST(BacnetApdu, HeadersOfEveryPduType) {
    ConfirmedHeader h;
    h.invoke_id = 7;
    h.service = static_cast<uint8_t>(ConfirmedService::ReadProperty);
    h.max_segments_code = 3;
    h.max_apdu_code = 5;
    const Bytes data{0x0C, 0x00, 0x00, 0x00, 0x05, 0x19, 0x55};
    const auto req = encode_confirmed_request(h, data);
    EXPECT_EQ(req, (Bytes{0x02, 0x35, 0x07, 0x0C, 0x0C, 0x00, 0x00, 0x00, 0x05, 0x19, 0x55}));
    auto a = decode_apdu(req);
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->segmented_response_accepted);
    EXPECT_EQ(max_segments_from_code(a->max_segments_code), 8u);
    EXPECT_EQ(max_apdu_from_code(a->max_apdu_code), 1476u);
    a = decode_apdu(encode_complex_ack_segment(9, 14, 3, 16, true, data));
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->segmented && a->more_follows);
    EXPECT_EQ(a->sequence_number, 3);
    EXPECT_EQ(a->window_size, 16);
    EXPECT_EQ(a->service, 14);
    EXPECT_EQ(a->data.size(), data.size());
    a = decode_apdu(encode_segment_ack(true, false, 9, 4, 8));
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->negative);
    EXPECT_FALSE(a->from_server);
    a = decode_apdu(encode_abort(true, 4, AbortReason::SegmentationNotSupported));
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->from_server);
    EXPECT_EQ(a->reason, 4);
    EXPECT_EQ(encode_error(1, 12, ErrorClass::Property, ErrorCode::UnknownProperty),
              (Bytes{0x50, 0x01, 0x0C, 0x91, 0x02, 0x91, 0x20}));
    EXPECT_FALSE(decode_apdu(Bytes{0x00, 0x05}));
    EXPECT_FALSE(decode_apdu(Bytes{0x08, 0x05, 0x01, 0x00}));  // segmented request cut short
    EXPECT_FALSE(decode_apdu(Bytes{0x80, 0x00, 0x00}));        // type 8
    EXPECT_EQ(max_apdu_to_code(480), 3);
    EXPECT_EQ(max_segments_to_code(64), 6);
    EXPECT_EQ(max_segments_to_code(100), 7);
}

TEST(BacnetServices, ReadPropertyMatchesAnnexF) {
    ReadPropertyRequest r{ObjectId(ObjectType::AnalogInput, 5),
                          {PropertyId::PresentValue, kNoIndex}};
    EXPECT_EQ(encode_read_property(r), (Bytes{0x0C, 0x00, 0x00, 0x00, 0x05, 0x19, 0x55}));
    const auto back = decode_read_property(encode_read_property(r));
    EXPECT_EQ(back.object, r.object);
    Bytes ack;
    encode_read_property_ack(ack, r, app_bytes(72.3F));
    const auto decoded = decode_read_property_ack(ack);
    ASSERT_EQ(decoded.value.size(), 1u);
    EXPECT_FLOAT_EQ(*decoded.value[0].as<float>(), 72.3F);
    EXPECT_THROW(decode_read_property(Bytes{0x0C, 0x00, 0x00, 0x00, 0x05}), DecodeError);
    try {
        (void)decode_read_property(Bytes{0x0C, 0x00, 0x00, 0x00, 0x05, 0x19, 0x55, 0x21, 0x01});
        FAIL();
    } catch (const DecodeError& e) {
        EXPECT_EQ(e.reason, RejectReason::TooManyArguments);
    }
}

TEST(BacnetServices, RequestsRoundTrip) {
    const std::vector<ReadAccessSpec> specs{
        {ObjectId(ObjectType::AnalogInput, 16),
         {{PropertyId::PresentValue, kNoIndex}, {PropertyId::Reliability, kNoIndex}}},
        {ObjectId(ObjectType::Device, 1), {{PropertyId::ObjectList, 0}}}};
    const auto rpm = decode_read_property_multiple(encode_read_property_multiple(specs));
    ASSERT_EQ(rpm.size(), 2u);
    EXPECT_EQ(rpm[1].properties[0].index, 0u);

    WritePropertyRequest wp{ObjectId(ObjectType::AnalogValue, 1),
                            {{PropertyId::PresentValue, kNoIndex}, {Element::app(180.0F)}, 8}};
    const auto wp2 = decode_write_property(encode_write_property(wp));
    EXPECT_EQ(wp2.value.priority, 8);
    EXPECT_EQ(wp2.value.value, wp.value.value);

    const std::vector<WriteAccessSpec> wpm{
        {ObjectId(ObjectType::AnalogValue, 5), {wp.value, wp.value}}};
    EXPECT_EQ(decode_write_property_multiple(encode_write_property_multiple(wpm))[0].values.size(),
              2u);

    SubscribeCovRequest sc{18, ObjectId(ObjectType::AnalogInput, 10), true, 0};
    const auto sc2 = decode_subscribe_cov(encode_subscribe_cov(sc));
    EXPECT_FALSE(sc2.cancellation());
    EXPECT_TRUE(decode_subscribe_cov(encode_subscribe_cov({18, sc.object, {}, {}})).cancellation());

    DeviceCommunicationControlRequest dcc{5, EnableDisable::Disable, "#egbdf!"};
    const auto dcc2 = decode_device_communication_control(encode_device_communication_control(dcc));
    EXPECT_EQ(dcc2.duration_minutes, 5);
    EXPECT_EQ(dcc2.password, "#egbdf!");
    EXPECT_THROW((void)decode_device_communication_control(encode_device_communication_control(
                     {{}, EnableDisable::Disable, std::string(21, 'x')})),
                 DecodeError);

    WhoHas wh;
    wh.name = "BCPME_1";
    EXPECT_EQ(decode_who_has(encode_who_has(wh)).name, "BCPME_1");
    WhoIs wi;
    wi.low = 3;
    wi.high = 3;
    EXPECT_EQ(decode_who_is(encode_who_is(wi)).high, 3u);
    EXPECT_THROW((void)decode_who_is(Bytes{0x09, 0x03}), DecodeError);  // low without high

    IAm iam{ObjectId(ObjectType::Device, 50001), 1476, Segmentation::Transmit, 335};
    const auto iam2 = decode_i_am(encode_i_am(iam));
    EXPECT_EQ(iam2.device, iam.device);
    EXPECT_EQ(iam2.vendor_id, 335);

    DateTime dt{Date{126, 11, 24, 2}, Time{10, 30, 0, 0}};
    EXPECT_EQ(decode_time_sync(encode_time_sync(dt)), dt);
}

TEST(BacnetServices, EventProductionsRoundTrip) {
    EventNotification n;
    n.process_id = 1;
    n.device = ObjectId(ObjectType::Device, 50001);
    n.object = ObjectId(ObjectType::AnalogInput, 1);
    n.timestamp.date = Date{126, 11, 24, 2};
    n.timestamp.time = Time{10, 0, 0, 0};
    n.notification_class = 1;
    n.priority = 100;
    n.message = "over";
    n.ack_required = true;
    n.from_state = EventState::Normal;
    n.to_state = EventState::HighLimit;
    n.values = OutOfRangeValues{90.0F, BitString{true, false, false, false}, 2.0F, 80.0F};
    const auto back = decode_event_notification(encode_event_notification(n));
    EXPECT_EQ(back.to_state, EventState::HighLimit);
    EXPECT_EQ(back.timestamp, n.timestamp);
    ASSERT_TRUE(back.values);
    EXPECT_FLOAT_EQ(back.values->exceeded_limit, 80.0F);

    AcknowledgeAlarmRequest ack{7,           n.object,   EventState::HighLimit,
                                n.timestamp, "operator", n.timestamp};
    EXPECT_EQ(decode_acknowledge_alarm(encode_acknowledge_alarm(ack)).source, "operator");

    EventInformation info;
    EventSummary s;
    s.object = n.object;
    s.state = EventState::HighLimit;
    s.acked_transitions = BitString{false, true, true};
    s.priorities = {100, 100, 200};
    info.summaries.push_back(s);
    info.more_events = true;
    const auto info2 = decode_get_event_information_ack(encode_get_event_information_ack(info));
    ASSERT_EQ(info2.summaries.size(), 1u);
    EXPECT_EQ(info2.summaries[0].acked_transitions, s.acked_transitions);
    EXPECT_TRUE(info2.more_events);

    Destination d;
    d.recipient.address = NetAddress{0, {127, 0, 0, 1, 0xBA, 0xC0}};
    d.process_id = 9;
    d.confirmed = true;
    const auto bytes = encode_elements(destination_elements(d));
    Reader r(bytes);
    EXPECT_EQ(decode_destination(r), d);

    CovNotification cov{3,
                        ObjectId(ObjectType::Device, 1),
                        ObjectId(ObjectType::AnalogInput, 1),
                        60,
                        {{{PropertyId::PresentValue, kNoIndex}, {Element::app(1.5F)}, {}}}};
    EXPECT_EQ(decode_cov_notification(encode_cov_notification(cov)).values.size(), 1u);

    ListElementRequest le{ObjectId(ObjectType::NotificationClass, 1),
                          {PropertyId::RecipientList, kNoIndex},
                          destination_elements(d)};
    EXPECT_EQ(decode_list_element(encode_list_element(le)).elements, le.elements);
}
