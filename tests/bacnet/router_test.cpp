// Engine tests: the virtual router and its devices driven through a fake
// datalink, with requests built by the codec and answers decoded by it.
#include "protocols/bacnet/router.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "protocols/bacnet/apdu.hpp"
#include "test_database.hpp"

using namespace openbcpm::bacnet;
using namespace std::chrono_literals;
using Bytes = std::vector<uint8_t>;

namespace {

struct FakeLink : Datalink {
    struct Sent {
        LinkAddress to;
        Bytes npdu;
    };
    std::vector<Sent> sent;
    size_t max = 1476;
    void send_npdu(std::span<const uint8_t> npdu, const LinkAddress& to) override {
        sent.push_back({to, Bytes(npdu.begin(), npdu.end())});
    }
    size_t max_apdu() const override { return max; }
    void inject(const Bytes& npdu, const LinkAddress& from, bool broadcast) {
        deliver(npdu, from, broadcast);
    }
};

const LinkAddress kClient{127, 0, 0, 1, 0xBA, 0xC1};

struct Decoded {
    NpduHeader header;
    Bytes payload;
    std::optional<Apdu> apdu;
    Bytes apdu_bytes;
};

Decoded decode(const FakeLink::Sent& s) {
    Decoded d;
    const auto n = decode_npdu(s.npdu);
    EXPECT_TRUE(n);
    d.header = n->header;
    d.payload.assign(n->payload.begin(), n->payload.end());
    if (!d.header.network_message) {
        d.apdu_bytes = d.payload;
        d.apdu = decode_apdu(d.apdu_bytes);
    }
    return d;
}

class RouterTest : public ::testing::Test {
  protected:
    void SetUp() override { make(40); }

    void make(int inputs) {
        router.reset();
        node = testbed::make_test_node(inputs);
        RouterHooks hooks;
        hooks.identity_changed = [this](size_t d, uint32_t instance, const std::string& name) {
            identity_calls.push_back({d, instance, name});
        };
        hooks.time_synchronized = [this](const DateTime& dt, bool utc) {
            syncs.emplace_back(dt, utc);
        };
        hooks.max_master_changed = [this](uint8_t m) { max_master = m; };
        hooks.reinitialize = [this](ReinitializedState s) {
            reinits.push_back(s);
            return true;
        };
        hooks.local_time = [] { return DateTime{Date{126, 11, 24, 2}, Time{10, 0, 0, 0}}; };
        hooks.clock = [this] { return now; };
        auto cfg = node->config;
        cfg.password = "secret";
        router = std::make_unique<VirtualRouter>(cfg, hooks);
        router->attach(link);
        router->start(now);
        link.sent.clear();
    }

    // A request to device `mac` (0 = the router device itself).
    Bytes request_npdu(uint8_t mac, const Bytes& apdu, std::optional<NetAddress> source = {}) {
        NpduHeader h;
        h.expecting_reply = true;
        if (mac != 0) h.destination = NetAddress{50, {mac}};
        h.source = std::move(source);
        return encode_npdu(h, apdu);
    }

    Bytes confirmed(ConfirmedService s, const Bytes& data, bool segmented_ok = true,
                    uint8_t max_segments_code = 0, uint8_t max_apdu_code = 5) {
        ConfirmedHeader h;
        h.invoke_id = ++invoke;
        h.service = static_cast<uint8_t>(s);
        h.segmented_response_accepted = segmented_ok;
        h.max_segments_code = max_segments_code;
        h.max_apdu_code = max_apdu_code;
        return encode_confirmed_request(h, data);
    }

    // Sends a confirmed request and returns the single answer.
    Decoded ask(uint8_t mac, ConfirmedService s, const Bytes& data) {
        link.sent.clear();
        link.inject(request_npdu(mac, confirmed(s, data)), kClient, false);
        EXPECT_GE(link.sent.size(), 1u);
        if (link.sent.empty()) return {};
        return decode(link.sent.front());
    }

    Bytes read(uint8_t mac, ObjectId o, PropertyId p, uint32_t index = kNoIndex) {
        const auto d =
            ask(mac, ConfirmedService::ReadProperty, encode_read_property({o, {p, index}}));
        EXPECT_TRUE(d.apdu && d.apdu->type == PduType::ComplexAck);
        if (!d.apdu || d.apdu->type != PduType::ComplexAck) return {};
        const auto ack = decode_read_property_ack(d.apdu->data);
        return encode_elements(ack.value);
    }

    ErrorPair error_of(const Decoded& d) {
        EXPECT_TRUE(d.apdu && d.apdu->type == PduType::Error);
        if (!d.apdu || d.apdu->type != PduType::Error) return {};
        return decode_error(d.apdu->data);
    }

    Decoded write(uint8_t mac, ObjectId o, PropertyId p, Primitive v,
                  std::optional<uint8_t> priority = {}) {
        return ask(
            mac, ConfirmedService::WriteProperty,
            encode_write_property({o, {{p, kNoIndex}, {Element::app(std::move(v))}, priority}}));
    }

    void advance(std::chrono::milliseconds d) {
        now += d;
        router->tick(now);
    }

    FakeLink link;
    std::unique_ptr<testbed::TestNode> node;
    std::unique_ptr<VirtualRouter> router;
    Clock::time_point now = Clock::time_point{} + 1000h;
    uint8_t invoke = 0;
    struct Identity {
        size_t device;
        uint32_t instance;
        std::string name;
    };
    std::vector<Identity> identity_calls;
    std::vector<std::pair<DateTime, bool>> syncs;
    std::vector<ReinitializedState> reinits;
    std::optional<uint8_t> max_master;
};

const ObjectId kAi1(ObjectType::AnalogInput, 1);
const ObjectId kAv1(ObjectType::AnalogValue, 1);
const ObjectId kAv2(ObjectType::AnalogValue, 2);
const ObjectId kAo1(ObjectType::AnalogOutput, 1);
const ObjectId kNc1(ObjectType::NotificationClass, 1);

Bytes app(const Primitive& p) {
    Bytes out;
    Writer w(out);
    w.app(p);
    return out;
}

}  // namespace

TEST_F(RouterTest, StartAnnouncesTheRouterAndEveryDevice) {
    link.sent.clear();
    router->start(now);
    ASSERT_EQ(link.sent.size(), 4u);
    const auto first = decode(link.sent[0]);
    EXPECT_TRUE(first.header.network_message);
    EXPECT_EQ(first.header.message_type, static_cast<uint8_t>(NetworkMessage::IAmRouterToNetwork));
    EXPECT_EQ(first.payload, (Bytes{0x00, 50}));
    std::vector<uint32_t> ids;
    for (size_t i = 1; i < 4; ++i) {
        const auto d = decode(link.sent[i]);
        EXPECT_TRUE(link.sent[i].to.empty());  // broadcast
        ASSERT_TRUE(d.apdu);
        const auto iam = decode_i_am(d.apdu->data);
        ids.push_back(iam.device.instance);
        EXPECT_EQ(iam.vendor_id, 335);
        EXPECT_EQ(iam.segmentation, Segmentation::Transmit);
        if (iam.device.instance != 50000) {
            ASSERT_TRUE(d.header.source);
            EXPECT_EQ(d.header.source->net, 50);
            EXPECT_EQ(d.header.source->mac,
                      MacAddress{static_cast<uint8_t>(iam.device.instance - 50000)});
        } else {
            EXPECT_FALSE(d.header.source);
        }
    }
    EXPECT_EQ(ids, (std::vector<uint32_t>{50000, 50001, 50002}));
}

TEST_F(RouterTest, WhoIsReachesTheRightDevices) {
    const auto who_is = [&](std::optional<NetAddress> dnet, WhoIs w, bool broadcast) {
        link.sent.clear();
        NpduHeader h;
        h.destination = std::move(dnet);
        link.inject(
            encode_npdu(h, encode_unconfirmed_request(UnconfirmedService::WhoIs, encode_who_is(w))),
            kClient, broadcast);
        std::vector<uint32_t> ids;
        for (const auto& s : link.sent)
            ids.push_back(decode_i_am(decode(s).apdu->data).device.instance);
        return ids;
    };
    EXPECT_EQ(who_is(NetAddress{kGlobalNetwork, {}}, {}, true),
              (std::vector<uint32_t>{50000, 50001, 50002}));
    EXPECT_EQ(who_is(std::nullopt, {}, true), (std::vector<uint32_t>{50000}));
    EXPECT_EQ(who_is(NetAddress{50, {}}, {}, true), (std::vector<uint32_t>{50001, 50002}));
    EXPECT_EQ(who_is(NetAddress{kGlobalNetwork, {}}, {50002, 60000}, true),
              (std::vector<uint32_t>{50002}));
    EXPECT_TRUE(who_is(NetAddress{kGlobalNetwork, {}}, {1, 2}, true).empty());
    // A directed Who-Is gets a directed I-Am.
    EXPECT_EQ(who_is(NetAddress{50, {2}}, {}, false), (std::vector<uint32_t>{50002}));
    EXPECT_EQ(link.sent[0].to, kClient);
    EXPECT_FALSE(decode(link.sent[0]).header.destination);
    // A global Who-Is sent to us alone is answered to the requester alone.
    EXPECT_EQ(who_is(NetAddress{kGlobalNetwork, {}}, {}, false),
              (std::vector<uint32_t>{50000, 50001, 50002}));
    for (const auto& s : link.sent)
        EXPECT_EQ(s.to, kClient);
}

TEST_F(RouterTest, RemoteRequestersGetAnswersWithDnetAndSnet) {
    link.sent.clear();
    const NetAddress remote{7, {0x0A}};
    link.inject(request_npdu(1,
                             confirmed(ConfirmedService::ReadProperty,
                                       encode_read_property({ObjectId(ObjectType::Device, 50001),
                                                             {PropertyId::ObjectName, kNoIndex}})),
                             remote),
                kClient, false);
    ASSERT_EQ(link.sent.size(), 1u);
    const auto d = decode(link.sent[0]);
    EXPECT_EQ(link.sent[0].to, kClient);
    ASSERT_TRUE(d.header.destination);
    EXPECT_EQ(*d.header.destination, remote);
    ASSERT_TRUE(d.header.source);
    EXPECT_EQ(*d.header.source, (NetAddress{50, {1}}));
}

TEST_F(RouterTest, NetworkLayerMessages) {
    const auto network = [&](NetworkMessage type, const Bytes& body,
                             std::optional<NetAddress> dnet = {}) {
        link.sent.clear();
        NpduHeader h;
        h.network_message = true;
        h.message_type = static_cast<uint8_t>(type);
        h.destination = std::move(dnet);
        link.inject(encode_npdu(h, body), kClient, false);
    };
    network(NetworkMessage::WhoIsRouterToNetwork, {});
    ASSERT_EQ(link.sent.size(), 1u);
    EXPECT_EQ(decode(link.sent[0]).payload, (Bytes{0, 50}));
    network(NetworkMessage::WhoIsRouterToNetwork, {0, 50});
    EXPECT_EQ(link.sent.size(), 1u);
    network(NetworkMessage::WhoIsRouterToNetwork, {0, 51});
    EXPECT_TRUE(link.sent.empty());
    network(NetworkMessage::InitializeRoutingTable, {0});
    ASSERT_EQ(link.sent.size(), 1u);
    const auto d = decode(link.sent[0]);
    EXPECT_EQ(d.header.message_type,
              static_cast<uint8_t>(NetworkMessage::InitializeRoutingTableAck));
    EXPECT_EQ(d.payload, (Bytes{1, 0, 50, 1, 0}));
    network(static_cast<NetworkMessage>(0x30), {});  // unknown type
    ASSERT_EQ(link.sent.size(), 1u);
    EXPECT_EQ(decode(link.sent[0]).header.message_type,
              static_cast<uint8_t>(NetworkMessage::RejectMessageToNetwork));
    EXPECT_EQ(decode(link.sent[0]).payload[0],
              static_cast<uint8_t>(NetworkRejectReason::UnknownMessageType));
    // An application message for a network we cannot reach.
    link.sent.clear();
    NpduHeader h;
    h.destination = NetAddress{99, {1}};
    link.inject(encode_npdu(h, confirmed(ConfirmedService::ReadProperty, {})), kClient, false);
    ASSERT_EQ(link.sent.size(), 1u);
    EXPECT_EQ(decode(link.sent[0]).payload, (Bytes{1, 0, 99}));
}

TEST_F(RouterTest, DeviceObjectProperties) {
    const ObjectId panel1(ObjectType::Device, 50001);
    EXPECT_EQ(read(1, panel1, PropertyId::ObjectName), app(CharString{0, "BCPME_1"}));
    EXPECT_EQ(read(1, panel1, PropertyId::VendorName), app(CharString{0, "Schneider Electric"}));
    EXPECT_EQ(read(1, panel1, PropertyId::VendorIdentifier), app(uint64_t{335}));
    EXPECT_EQ(read(1, panel1, PropertyId::ProtocolVersion), app(uint64_t{1}));
    EXPECT_EQ(read(1, panel1, PropertyId::ProtocolRevision), app(uint64_t{12}));
    EXPECT_EQ(read(1, panel1, PropertyId::MaxApduLengthAccepted), app(uint64_t{1476}));
    EXPECT_EQ(read(1, panel1, PropertyId::SegmentationSupported), app(Enumerated{1}));
    // The wildcard instance names the device that answers.
    EXPECT_EQ(read(2, ObjectId(ObjectType::Device, kMaxInstance), PropertyId::ObjectIdentifier),
              app(ObjectId(ObjectType::Device, 50002)));
    // Object_List: device + 40 AI + 2 AV + 1 AO + 1 NC.
    EXPECT_EQ(read(1, panel1, PropertyId::ObjectList, 0), app(uint64_t{45}));
    EXPECT_EQ(read(1, panel1, PropertyId::ObjectList, 1), app(panel1));
    EXPECT_EQ(read(1, panel1, PropertyId::ObjectList, 2), app(kAi1));
    EXPECT_EQ(error_of(ask(1, ConfirmedService::ReadProperty,
                           encode_read_property({panel1, {PropertyId::ObjectList, 46}}))),
              (ErrorPair{ErrorClass::Property, ErrorCode::InvalidArrayIndex}));
    EXPECT_EQ(error_of(ask(1, ConfirmedService::ReadProperty,
                           encode_read_property({panel1, {PropertyId::ObjectName, 1}}))),
              (ErrorPair{ErrorClass::Property, ErrorCode::PropertyIsNotAnArray}));
    const auto types = decode_single(read(1, panel1, PropertyId::ProtocolObjectTypesSupported));
    const auto& bits = std::get<BitString>(types);
    EXPECT_TRUE(bits.get(0) && bits.get(1) && bits.get(2) && bits.get(8) && bits.get(15));
    EXPECT_FALSE(bits.get(3));
    const auto services =
        std::get<BitString>(decode_single(read(1, panel1, PropertyId::ProtocolServicesSupported)));
    EXPECT_TRUE(services.get(12) && services.get(14) && services.get(5) && services.get(34) &&
                services.get(39));
    // Max_Master is a property of the router's device only.
    EXPECT_EQ(read(0, ObjectId(ObjectType::Device, 50000), PropertyId::MaxMaster),
              app(uint64_t{127}));
    EXPECT_EQ(error_of(ask(1, ConfirmedService::ReadProperty,
                           encode_read_property({panel1, {PropertyId::MaxMaster, kNoIndex}}))),
              (ErrorPair{ErrorClass::Property, ErrorCode::UnknownProperty}));
    EXPECT_EQ(error_of(ask(1, ConfirmedService::ReadProperty,
                           encode_read_property({ObjectId(ObjectType::AnalogInput, 99),
                                                 {PropertyId::PresentValue, kNoIndex}}))),
              (ErrorPair{ErrorClass::Object, ErrorCode::UnknownObject}));
    // The router device's own objects (AV1 offset, AV2 network).
    EXPECT_EQ(read(0, kAv1, PropertyId::PresentValue), app(50000.0F));
    EXPECT_EQ(read(0, kAv2, PropertyId::ObjectName), app(CharString{0, "Virt_Router_Net"}));
}

TEST_F(RouterTest, ReadPropertyMultipleAllRequiredOptional) {
    const auto rpm = [&](const std::vector<ReadAccessSpec>& specs) {
        const auto d =
            ask(1, ConfirmedService::ReadPropertyMultiple, encode_read_property_multiple(specs));
        EXPECT_TRUE(d.apdu && d.apdu->type == PduType::ComplexAck);
        return decode_read_property_multiple_ack(d.apdu->data);
    };
    auto all = rpm({{kAi1, {{PropertyId::All, kNoIndex}}}});
    ASSERT_EQ(all.size(), 1u);
    const auto names = [](const ReadAccessResult& r) {
        std::vector<PropertyId> out;
        for (const auto& x : r.results)
            out.push_back(x.ref.property);
        return out;
    };
    const auto all_props = names(all[0]);
    EXPECT_EQ(all_props.size(), 20u);
    EXPECT_NE(std::find(all_props.begin(), all_props.end(), PropertyId::EventTimeStamps),
              all_props.end());
    const auto required = names(rpm({{kAi1, {{PropertyId::Required, kNoIndex}}}})[0]);
    EXPECT_EQ(required.size(), 8u);
    const auto optional = names(rpm({{kAi1, {{PropertyId::Optional, kNoIndex}}}})[0]);
    EXPECT_EQ(optional.size(), 12u);
    // Mixed: an unknown property and an unknown object give per-item errors.
    auto mixed =
        rpm({{kAi1, {{PropertyId::PresentValue, kNoIndex}, {PropertyId::PriorityArray, kNoIndex}}},
             {ObjectId(ObjectType::AnalogInput, 999), {{PropertyId::PresentValue, kNoIndex}}}});
    ASSERT_EQ(mixed.size(), 2u);
    EXPECT_TRUE(std::holds_alternative<std::vector<Element>>(mixed[0].results[0].result));
    EXPECT_EQ(std::get<ErrorPair>(mixed[0].results[1].result),
              (ErrorPair{ErrorClass::Property, ErrorCode::UnknownProperty}));
    EXPECT_EQ(std::get<ErrorPair>(mixed[1].results[0].result),
              (ErrorPair{ErrorClass::Object, ErrorCode::UnknownObject}));
    // Every object type of the database answers ALL.
    for (ObjectId o : {ObjectId(ObjectType::Device, 50001), kAv1, kAo1, kNc1}) {
        const auto r = rpm({{o, {{PropertyId::All, kNoIndex}}}});
        for (const auto& x : r[0].results) {
            EXPECT_TRUE(std::holds_alternative<std::vector<Element>>(x.result))
                << o.type << " property " << static_cast<uint32_t>(x.ref.property);
        }
    }
}

TEST_F(RouterTest, LargeResponsesAreSegmentedWithWindowsAndAcks) {
    const std::vector<ReadAccessSpec> specs{
        {ObjectId(ObjectType::Device, 50001), {{PropertyId::ObjectList, kNoIndex}}}};
    // Compute the unsegmented answer by asking with a huge limit is not
    // possible, so reassemble the segments and check the content.
    std::vector<ReadAccessSpec> all_objects;
    all_objects.push_back({ObjectId(ObjectType::Device, 50001), {{PropertyId::All, kNoIndex}}});
    for (int i = 1; i <= 40; ++i)
        all_objects.push_back({ObjectId(ObjectType::AnalogInput, static_cast<uint32_t>(i)),
                               {{PropertyId::All, kNoIndex}}});
    const Bytes request = encode_read_property_multiple(all_objects);

    // A client that does not accept segments.
    link.sent.clear();
    link.inject(request_npdu(1, confirmed(ConfirmedService::ReadPropertyMultiple, request, false)),
                kClient, false);
    ASSERT_EQ(link.sent.size(), 1u);
    auto d = decode(link.sent[0]);
    EXPECT_EQ(d.apdu->type, PduType::Abort);
    EXPECT_EQ(d.apdu->reason, static_cast<uint8_t>(AbortReason::SegmentationNotSupported));
    EXPECT_TRUE(d.apdu->from_server);

    // A client that takes only 2 segments.
    link.sent.clear();
    link.inject(
        request_npdu(1, confirmed(ConfirmedService::ReadPropertyMultiple, request, true, 1)),
        kClient, false);
    ASSERT_EQ(link.sent.size(), 1u);
    d = decode(link.sent[0]);
    EXPECT_EQ(d.apdu->type, PduType::Abort);
    EXPECT_EQ(d.apdu->reason, static_cast<uint8_t>(AbortReason::BufferOverflow));

    // A client with 480-octet APDUs and up to 64 segments.
    link.sent.clear();
    const Bytes req = confirmed(ConfirmedService::ReadPropertyMultiple, request, true, 6, 3);
    const uint8_t id = req[2];
    link.inject(request_npdu(1, req), kClient, false);
    ASSERT_EQ(link.sent.size(), 1u);  // the first segment goes alone
    Bytes whole;
    std::vector<uint8_t> seqs;
    bool more = true;
    size_t rounds = 0;
    while (more && rounds < 100) {
        ++rounds;
        uint8_t last = 0;
        for (const auto& s : link.sent) {
            const auto seg = decode(s);
            ASSERT_EQ(seg.apdu->type, PduType::ComplexAck);
            ASSERT_TRUE(seg.apdu->segmented);
            EXPECT_LE(seg.apdu_bytes.size(), 480u);
            EXPECT_EQ(seg.apdu->invoke_id, id);
            seqs.push_back(seg.apdu->sequence_number);
            whole.insert(whole.end(), seg.apdu->data.begin(), seg.apdu->data.end());
            last = seg.apdu->sequence_number;
            more = seg.apdu->more_follows;
        }
        link.sent.clear();
        link.inject(request_npdu(1, encode_segment_ack(false, false, id, last, 4)), kClient, false);
    }
    EXPECT_FALSE(more);
    EXPECT_GT(seqs.size(), 10u);
    for (size_t i = 0; i < seqs.size(); ++i)
        EXPECT_EQ(seqs[i], i);
    EXPECT_EQ(router->active_transactions(), 0u);
    const auto results = decode_read_property_multiple_ack(whole);
    ASSERT_EQ(results.size(), 41u);
    EXPECT_EQ(results[40].object, ObjectId(ObjectType::AnalogInput, 40));
}

TEST_F(RouterTest, SegmentTimeoutsResendAndGiveUp) {
    std::vector<ReadAccessSpec> specs;
    for (int i = 1; i <= 40; ++i)
        specs.push_back({ObjectId(ObjectType::AnalogInput, static_cast<uint32_t>(i)),
                         {{PropertyId::All, kNoIndex}}});
    link.inject(request_npdu(1, confirmed(ConfirmedService::ReadPropertyMultiple,
                                          encode_read_property_multiple(specs), true, 0, 5)),
                kClient, false);
    ASSERT_EQ(link.sent.size(), 1u);
    EXPECT_EQ(router->active_transactions(), 1u);
    // A duplicate request while segments go out is ignored.
    link.sent.clear();
    for (int retry = 0; retry < 3; ++retry) {
        advance(2100ms);
        ASSERT_EQ(link.sent.size(), 1u) << retry;
        EXPECT_EQ(decode(link.sent[0]).apdu->sequence_number, 0);
        link.sent.clear();
    }
    advance(2100ms);
    EXPECT_TRUE(link.sent.empty());
    EXPECT_EQ(router->active_transactions(), 0u);
}

TEST_F(RouterTest, WritesAreValidatedAndInvalidOnesChangeNothing) {
    EXPECT_EQ(write(1, kAv1, PropertyId::PresentValue, 55.0F).apdu->type, PduType::SimpleAck);
    EXPECT_FLOAT_EQ(node->meter.load[0], 55.0F);
    EXPECT_EQ(error_of(write(1, kAv1, PropertyId::PresentValue, 500.0F)),
              (ErrorPair{ErrorClass::Property, ErrorCode::ValueOutOfRange}));
    EXPECT_FLOAT_EQ(node->meter.load[0], 55.0F);
    EXPECT_EQ(error_of(write(1, kAv2, PropertyId::PresentValue, 1.0F)),
              (ErrorPair{ErrorClass::Property, ErrorCode::ValueOutOfRange}));
    EXPECT_EQ(error_of(write(1, kAv1, PropertyId::PresentValue, uint64_t{5})),
              (ErrorPair{ErrorClass::Property, ErrorCode::InvalidDataType}));
    EXPECT_EQ(error_of(write(1, kAi1, PropertyId::PresentValue, 5.0F)),
              (ErrorPair{ErrorClass::Property, ErrorCode::WriteAccessDenied}));
    EXPECT_EQ(error_of(write(1, kAi1, PropertyId::ObjectName, CharString{0, "x"})),
              (ErrorPair{ErrorClass::Property, ErrorCode::WriteAccessDenied}));
    EXPECT_EQ(write(1, kAi1, PropertyId::CovIncrement, 0.5F).apdu->type, PduType::SimpleAck);
    EXPECT_EQ(read(1, kAi1, PropertyId::CovIncrement), app(0.5F));
    EXPECT_EQ(error_of(write(1, kAi1, PropertyId::CovIncrement, -1.0F)),
              (ErrorPair{ErrorClass::Property, ErrorCode::ValueOutOfRange}));
    // Analog Output: command priorities.
    EXPECT_EQ(write(2, kAo1, PropertyId::PresentValue, 40.0F, 8).apdu->type, PduType::SimpleAck);
    EXPECT_EQ(write(2, kAo1, PropertyId::PresentValue, 70.0F, 12).apdu->type, PduType::SimpleAck);
    EXPECT_FLOAT_EQ(node->meter.relay[1], 40.0F);
    EXPECT_EQ(write(2, kAo1, PropertyId::PresentValue, Null{}, 8).apdu->type, PduType::SimpleAck);
    EXPECT_FLOAT_EQ(node->meter.relay[1], 70.0F);
    EXPECT_EQ(read(2, kAo1, PropertyId::PriorityArray, 12), app(70.0F));
    EXPECT_EQ(read(2, kAo1, PropertyId::PriorityArray, 8), app(Null{}));
    EXPECT_EQ(error_of(write(2, kAo1, PropertyId::PresentValue, 101.0F, 8)),
              (ErrorPair{ErrorClass::Property, ErrorCode::ValueOutOfRange}));
    EXPECT_EQ(read(2, kAo1, PropertyId::PriorityArray, 8), app(Null{}));
}

TEST_F(RouterTest, WritePropertyMultipleStopsAtTheFirstFailure) {
    std::vector<WriteAccessSpec> specs{
        {kAv1,
         {{{PropertyId::PresentValue, kNoIndex}, {Element::app(30.0F)}, {}},
          {{PropertyId::PresentValue, kNoIndex}, {Element::app(300.0F)}, {}}}},
        {kAv2, {{{PropertyId::PresentValue, kNoIndex}, {Element::app(200.0F)}, {}}}}};
    const auto d =
        ask(1, ConfirmedService::WritePropertyMultiple, encode_write_property_multiple(specs));
    ASSERT_EQ(d.apdu->type, PduType::Error);
    Reader r(d.apdu->data);
    r.open(0);
    EXPECT_EQ(r.app_enum(), static_cast<uint32_t>(ErrorClass::Property));
    EXPECT_EQ(r.app_enum(), static_cast<uint32_t>(ErrorCode::ValueOutOfRange));
    r.close(0);
    r.open(1);
    EXPECT_EQ(r.ctx_oid(0), kAv1);
    EXPECT_EQ(r.ctx_enum(1), static_cast<uint32_t>(PropertyId::PresentValue));
    r.close(1);
    EXPECT_FLOAT_EQ(node->meter.load[0], 30.0F);      // applied before the failure
    EXPECT_FLOAT_EQ(node->meter.ct_size[0], 100.0F);  // not reached
    specs.erase(specs.begin());
    EXPECT_EQ(ask(1, ConfirmedService::WritePropertyMultiple, encode_write_property_multiple(specs))
                  .apdu->type,
              PduType::SimpleAck);
    EXPECT_FLOAT_EQ(node->meter.ct_size[0], 200.0F);
}

TEST_F(RouterTest, DeviceIdentityWritesPersistThroughTheHook) {
    const ObjectId panel2(ObjectType::Device, 50002);
    EXPECT_EQ(write(2, panel2, PropertyId::ObjectIdentifier, ObjectId(ObjectType::Device, 777))
                  .apdu->type,
              PduType::SimpleAck);
    ASSERT_EQ(identity_calls.size(), 1u);
    EXPECT_EQ(identity_calls[0].device, 2u);
    EXPECT_EQ(identity_calls[0].instance, 777u);
    EXPECT_EQ(router->device_instance(2), 777u);
    EXPECT_EQ(read(2, ObjectId(ObjectType::Device, 777), PropertyId::DatabaseRevision),
              app(uint64_t{2}));
    EXPECT_EQ(error_of(write(2, ObjectId(ObjectType::Device, 777), PropertyId::ObjectIdentifier,
                             ObjectId(ObjectType::Device, 50001))),
              (ErrorPair{ErrorClass::Property, ErrorCode::DuplicateObjectId}));
    EXPECT_EQ(error_of(write(2, ObjectId(ObjectType::Device, 777), PropertyId::ObjectIdentifier,
                             ObjectId(ObjectType::AnalogInput, 5))),
              (ErrorPair{ErrorClass::Property, ErrorCode::ValueOutOfRange}));
    EXPECT_EQ(write(1, ObjectId(ObjectType::Device, 50001), PropertyId::ObjectName,
                    CharString{0, "Main panel"})
                  .apdu->type,
              PduType::SimpleAck);
    EXPECT_EQ(identity_calls.back().name, "Main panel");
    EXPECT_EQ(read(1, ObjectId(ObjectType::Device, 50001), PropertyId::ObjectName),
              app(CharString{0, "Main panel"}));
    EXPECT_EQ(error_of(write(1, ObjectId(ObjectType::Device, 50001), PropertyId::ObjectName,
                             CharString{0, ""})),
              (ErrorPair{ErrorClass::Property, ErrorCode::ValueOutOfRange}));
    EXPECT_EQ(error_of(write(1, ObjectId(ObjectType::Device, 50001), PropertyId::VendorName,
                             CharString{0, "x"})),
              (ErrorPair{ErrorClass::Property, ErrorCode::WriteAccessDenied}));
    EXPECT_EQ(write(0, ObjectId(ObjectType::Device, 50000), PropertyId::MaxMaster, uint64_t{64})
                  .apdu->type,
              PduType::SimpleAck);
    EXPECT_EQ(max_master, 64);
    EXPECT_EQ(error_of(write(0, ObjectId(ObjectType::Device, 50000), PropertyId::MaxMaster,
                             uint64_t{128})),
              (ErrorPair{ErrorClass::Property, ErrorCode::ValueOutOfRange}));
}

TEST_F(RouterTest, CovSubscriptionsNotifyOnIncrementAndExpire) {
    auto d = ask(1, ConfirmedService::SubscribeCov, encode_subscribe_cov({5, kAi1, false, 60}));
    ASSERT_EQ(link.sent.size(), 2u);  // ack, then the initial notification
    EXPECT_EQ(d.apdu->type, PduType::SimpleAck);
    auto n = decode(link.sent[1]);
    ASSERT_EQ(n.apdu->type, PduType::UnconfirmedRequest);
    EXPECT_EQ(n.apdu->service,
              static_cast<uint8_t>(UnconfirmedService::UnconfirmedCovNotification));
    auto cov = decode_cov_notification(n.apdu->data);
    EXPECT_EQ(cov.process_id, 5u);
    EXPECT_EQ(cov.device, ObjectId(ObjectType::Device, 50001));
    EXPECT_EQ(cov.time_remaining, 60u);
    ASSERT_EQ(cov.values.size(), 2u);
    EXPECT_FLOAT_EQ(*cov.values[0].value[0].as<float>(), 10.0F);
    EXPECT_EQ(router->cov_subscriptions(1), 1u);

    link.sent.clear();
    node->meter.load[0] = 10.5F;  // below the increment of 1.0
    advance(600ms);
    EXPECT_TRUE(link.sent.empty());
    node->meter.load[0] = 11.2F;
    advance(600ms);
    ASSERT_EQ(link.sent.size(), 1u);
    cov = decode_cov_notification(decode(link.sent[0]).apdu->data);
    EXPECT_FLOAT_EQ(*cov.values[0].value[0].as<float>(), 11.2F);
    EXPECT_EQ(link.sent[0].to, kClient);

    // Active_COV_Subscriptions lists it.
    const auto active = decode_elements(
        read(1, ObjectId(ObjectType::Device, 50001), PropertyId::ActiveCovSubscriptions));
    EXPECT_EQ(active.size(), 5u);  // recipient, reference, confirmed, time remaining, increment

    // Lifetime runs out.
    advance(61s);
    EXPECT_EQ(router->cov_subscriptions(1), 0u);

    // Cancellation; unsupported objects.
    ask(1, ConfirmedService::SubscribeCov, encode_subscribe_cov({6, kAi1, true, 0}));
    EXPECT_EQ(router->cov_subscriptions(1), 1u);
    EXPECT_EQ(
        ask(1, ConfirmedService::SubscribeCov, encode_subscribe_cov({6, kAi1, {}, {}})).apdu->type,
        PduType::SimpleAck);
    EXPECT_EQ(router->cov_subscriptions(1), 0u);
    EXPECT_EQ(
        error_of(ask(1, ConfirmedService::SubscribeCov, encode_subscribe_cov({6, kNc1, true, 0}))),
        (ErrorPair{ErrorClass::Object, ErrorCode::OptionalFunctionalityNotSupported}));
    EXPECT_EQ(
        error_of(ask(1, ConfirmedService::SubscribeCov,
                     encode_subscribe_cov({6, ObjectId(ObjectType::AnalogInput, 77), true, 0}))),
        (ErrorPair{ErrorClass::Object, ErrorCode::UnknownObject}));
}

TEST_F(RouterTest, ConfirmedCovNotificationsAreRetriedUntilAcknowledged) {
    ask(1, ConfirmedService::SubscribeCov, encode_subscribe_cov({9, kAi1, true, 0}));
    ASSERT_EQ(link.sent.size(), 2u);
    const auto n = decode(link.sent[1]);
    ASSERT_EQ(n.apdu->type, PduType::ConfirmedRequest);
    EXPECT_TRUE(n.header.expecting_reply);
    EXPECT_EQ(router->active_transactions(), 1u);
    link.sent.clear();
    advance(3100ms);
    ASSERT_EQ(link.sent.size(), 1u);  // resent
    link.inject(request_npdu(1, encode_simple_ack(n.apdu->invoke_id, n.apdu->service)), kClient,
                false);
    EXPECT_EQ(router->active_transactions(), 0u);
}

TEST_F(RouterTest, AtMost64ConfirmedRequestsWaitForTheirReplies) {
    // 70 confirmed subscriptions whose subscriber never answers: the initial
    // notifications beyond 64 outstanding ones are not sent.
    for (uint32_t process = 1; process <= 70; ++process)
        ask(1, ConfirmedService::SubscribeCov, encode_subscribe_cov({process, kAi1, true, 0}));
    EXPECT_EQ(router->cov_subscriptions(1), 70u);
    EXPECT_EQ(router->active_transactions(), 64u);
    for (int i = 0; i < 20; ++i)
        advance(1000ms);  // retries exhausted: all dropped
    EXPECT_EQ(router->active_transactions(), 0u);
}

TEST_F(RouterTest, DeviceCommunicationControl) {
    const auto dcc = [&](uint8_t mac, const DeviceCommunicationControlRequest& r) {
        return ask(mac, ConfirmedService::DeviceCommunicationControl,
                   encode_device_communication_control(r));
    };
    EXPECT_EQ(error_of(dcc(1, {{}, EnableDisable::Disable, "wrong"})),
              (ErrorPair{ErrorClass::Security, ErrorCode::PasswordFailure}));
    EXPECT_EQ(error_of(dcc(1, {{}, EnableDisable::Disable, {}})),
              (ErrorPair{ErrorClass::Security, ErrorCode::PasswordFailure}));
    EXPECT_EQ(dcc(1, {2, EnableDisable::Disable, "secret"}).apdu->type, PduType::SimpleAck);
    EXPECT_EQ(router->communication_state(1), EnableDisable::Disable);
    // Disabled: ReadProperty and Who-Is get nothing; the other devices answer.
    link.sent.clear();
    link.inject(
        request_npdu(1,
                     confirmed(ConfirmedService::ReadProperty,
                               encode_read_property({kAi1, {PropertyId::PresentValue, kNoIndex}}))),
        kClient, false);
    EXPECT_TRUE(link.sent.empty());
    NpduHeader h;
    h.destination = NetAddress{kGlobalNetwork, {}};
    link.inject(encode_npdu(h, encode_unconfirmed_request(UnconfirmedService::WhoIs, {})), kClient,
                true);
    EXPECT_EQ(link.sent.size(), 2u);
    EXPECT_EQ(decode_single(read(2, kAi1, PropertyId::PresentValue)).index(), 4u);
    // The duration runs out.
    advance(121s);
    EXPECT_EQ(router->communication_state(1), EnableDisable::Enable);
    // Disable-initiation: Who-Is still answered, COV notifications held back.
    EXPECT_EQ(dcc(1, {{}, EnableDisable::DisableInitiation, "secret"}).apdu->type,
              PduType::SimpleAck);
    link.sent.clear();
    link.inject(encode_npdu(h, encode_unconfirmed_request(UnconfirmedService::WhoIs, {})), kClient,
                true);
    EXPECT_EQ(link.sent.size(), 3u);
    ask(1, ConfirmedService::SubscribeCov, encode_subscribe_cov({5, kAi1, false, 0}));
    EXPECT_EQ(link.sent.size(), 1u);  // the ack only
    EXPECT_EQ(dcc(1, {{}, EnableDisable::Enable, "secret"}).apdu->type, PduType::SimpleAck);
    // DCC still answered while disabled, as is ReinitializeDevice.
    EXPECT_EQ(dcc(2, {{}, EnableDisable::Disable, "secret"}).apdu->type, PduType::SimpleAck);
    EXPECT_EQ(
        ask(2, ConfirmedService::ReinitializeDevice, encode_reinitialize_device({1, "secret"}))
            .apdu->type,
        PduType::SimpleAck);
    ASSERT_EQ(reinits.size(), 1u);
    EXPECT_EQ(reinits[0], ReinitializedState::Warmstart);
    EXPECT_EQ(error_of(ask(2, ConfirmedService::ReinitializeDevice,
                           encode_reinitialize_device({0, "nope"}))),
              (ErrorPair{ErrorClass::Security, ErrorCode::PasswordFailure}));
    EXPECT_EQ(dcc(2, {{}, EnableDisable::Enable, "secret"}).apdu->type, PduType::SimpleAck);
}

TEST_F(RouterTest, EventNotificationsAcknowledgementAndEventInformation) {
    // Add this client as a recipient of NC1 of panel 1.
    Destination dest;
    dest.recipient.address = NetAddress{0, kClient};
    dest.process_id = 77;
    dest.confirmed = false;
    auto d = ask(1, ConfirmedService::AddListElement,
                 encode_list_element(
                     {kNc1, {PropertyId::RecipientList, kNoIndex}, destination_elements(dest)}));
    ASSERT_EQ(d.apdu->type, PduType::SimpleAck);
    const auto list = decode_elements(read(1, kNc1, PropertyId::RecipientList));
    EXPECT_EQ(list, destination_elements(dest));

    // The load goes over the high limit.
    node->meter.load[0] = 90.0F;
    link.sent.clear();
    node->panel_db[0]->evaluate(
        now, TimeStamp{TimeStamp::Kind::DateTime, Time{10, 0, 5, 0}, 0, Date{126, 11, 24, 2}});
    ASSERT_EQ(link.sent.size(), 1u);
    EXPECT_EQ(link.sent[0].to, kClient);
    auto n = decode(link.sent[0]);
    ASSERT_EQ(n.apdu->service,
              static_cast<uint8_t>(UnconfirmedService::UnconfirmedEventNotification));
    const auto event = decode_event_notification(n.apdu->data);
    EXPECT_EQ(event.process_id, 77u);
    EXPECT_EQ(event.object, kAi1);
    EXPECT_EQ(event.to_state, EventState::HighLimit);
    EXPECT_EQ(event.from_state, EventState::Normal);
    EXPECT_EQ(event.priority, 100);
    EXPECT_EQ(event.ack_required, true);
    ASSERT_TRUE(event.values);
    EXPECT_FLOAT_EQ(event.values->exceeding_value, 90.0F);
    EXPECT_FLOAT_EQ(event.values->exceeded_limit, 80.0F);
    EXPECT_EQ(read(1, kAi1, PropertyId::EventState), app(Enumerated{3}));
    EXPECT_EQ(read(1, kAi1, PropertyId::StatusFlags), app(BitString{true, false, false, false}));

    // GetEventInformation lists it, unacknowledged.
    d = ask(1, ConfirmedService::GetEventInformation, encode_get_event_information({}));
    auto info = decode_get_event_information_ack(d.apdu->data);
    ASSERT_EQ(info.summaries.size(), 1u);
    EXPECT_EQ(info.summaries[0].acked_transitions, (BitString{false, true, true}));
    EXPECT_FALSE(info.more_events);

    // A wrong time stamp is refused; the right one acknowledges.
    AcknowledgeAlarmRequest ack{1,      kAi1,           EventState::HighLimit, event.timestamp,
                                "test", event.timestamp};
    ack.event_timestamp.time.second = 6;
    EXPECT_EQ(error_of(ask(1, ConfirmedService::AcknowledgeAlarm, encode_acknowledge_alarm(ack))),
              (ErrorPair{ErrorClass::Services, ErrorCode::InvalidTimeStamp}));
    ack.event_timestamp = event.timestamp;
    d = ask(1, ConfirmedService::AcknowledgeAlarm, encode_acknowledge_alarm(ack));
    EXPECT_EQ(d.apdu->type, PduType::SimpleAck);
    ASSERT_EQ(link.sent.size(), 2u);  // the ack notification follows
    const auto ack_note = decode_event_notification(decode(link.sent[1]).apdu->data);
    EXPECT_EQ(ack_note.notify_type, NotifyType::AckNotification);
    EXPECT_FALSE(ack_note.from_state);
    EXPECT_EQ(read(1, kAi1, PropertyId::AckedTransitions), app(BitString{true, true, true}));

    // Back to normal (below 80 - 2).
    node->meter.load[0] = 77.0F;
    link.sent.clear();
    node->panel_db[0]->evaluate(now, TimeStamp{});
    ASSERT_EQ(link.sent.size(), 1u);
    EXPECT_EQ(decode_event_notification(decode(link.sent[0]).apdu->data).to_state,
              EventState::Normal);

    // Remove the recipient; removing it again fails with the element number.
    d = ask(1, ConfirmedService::RemoveListElement,
            encode_list_element(
                {kNc1, {PropertyId::RecipientList, kNoIndex}, destination_elements(dest)}));
    EXPECT_EQ(d.apdu->type, PduType::SimpleAck);
    d = ask(1, ConfirmedService::RemoveListElement,
            encode_list_element(
                {kNc1, {PropertyId::RecipientList, kNoIndex}, destination_elements(dest)}));
    ASSERT_EQ(d.apdu->type, PduType::Error);
    Reader r(d.apdu->data);
    r.open(0);
    EXPECT_EQ(r.app_enum(), static_cast<uint32_t>(ErrorClass::Services));
    EXPECT_EQ(r.app_enum(), static_cast<uint32_t>(ErrorCode::ListElementNotFound));
    r.close(0);
    EXPECT_EQ(r.ctx_unsigned(1), 1u);
    // Device lists cannot be changed (ChangeList-Error: write-access-denied, or
    // unknown-property for one the device does not have).
    const auto change_list_error = [](const Decoded& x) {
        EXPECT_TRUE(x.apdu && x.apdu->type == PduType::Error);
        if (!x.apdu || x.apdu->type != PduType::Error) return ErrorPair{};
        Reader er(x.apdu->data);
        er.open(0);
        const auto c = static_cast<ErrorClass>(er.app_enum());
        const auto code = static_cast<ErrorCode>(er.app_enum());
        return ErrorPair{c, code};
    };
    d = ask(1, ConfirmedService::AddListElement,
            encode_list_element({ObjectId(ObjectType::Device, 50001),
                                 {PropertyId::ObjectList, kNoIndex},
                                 {Element::app(kAi1)}}));
    EXPECT_EQ(change_list_error(d), errors::kWriteAccessDenied);
    d = ask(1, ConfirmedService::RemoveListElement,
            encode_list_element({ObjectId(ObjectType::Device, 50001),
                                 {PropertyId::HighLimit, kNoIndex},
                                 {Element::app(kAi1)}}));
    EXPECT_EQ(change_list_error(d), errors::kUnknownProperty);
}

TEST_F(RouterTest, EventRecipientsByDeviceAreFoundWithWhoIs) {
    Destination dest;
    dest.recipient.device = ObjectId(ObjectType::Device, 4000);
    dest.confirmed = true;
    ask(1, ConfirmedService::AddListElement,
        encode_list_element(
            {kNc1, {PropertyId::RecipientList, kNoIndex}, destination_elements(dest)}));
    node->meter.load[0] = 1.0F;  // below the low limit
    link.sent.clear();
    node->panel_db[0]->evaluate(now, TimeStamp{});
    ASSERT_EQ(link.sent.size(), 1u);
    auto n = decode(link.sent[0]);
    EXPECT_EQ(n.apdu->service, static_cast<uint8_t>(UnconfirmedService::WhoIs));
    link.sent.clear();
    NpduHeader h;
    link.inject(
        encode_npdu(h, encode_unconfirmed_request(UnconfirmedService::IAm,
                                                  encode_i_am({ObjectId(ObjectType::Device, 4000),
                                                               1476, Segmentation::None, 1}))),
        kClient, true);
    ASSERT_EQ(link.sent.size(), 1u);
    n = decode(link.sent[0]);
    EXPECT_EQ(link.sent[0].to, kClient);
    EXPECT_EQ(n.apdu->type, PduType::ConfirmedRequest);
    EXPECT_EQ(n.apdu->service, static_cast<uint8_t>(ConfirmedService::ConfirmedEventNotification));
    EXPECT_EQ(decode_event_notification(n.apdu->data).to_state, EventState::LowLimit);
    // The binding shows in Device_Address_Binding.
    const auto binding = decode_elements(
        read(0, ObjectId(ObjectType::Device, 50000), PropertyId::DeviceAddressBinding));
    ASSERT_EQ(binding.size(), 3u);
    EXPECT_EQ(*binding[0].as<ObjectId>(), ObjectId(ObjectType::Device, 4000));
}

TEST_F(RouterTest, TimeSynchronisationCallsTheHookOnce) {
    NpduHeader h;
    h.destination = NetAddress{kGlobalNetwork, {}};
    const DateTime dt{Date{126, 11, 24, 2}, Time{12, 0, 0, 0}};
    link.inject(encode_npdu(h, encode_unconfirmed_request(UnconfirmedService::TimeSynchronization,
                                                          encode_time_sync(dt))),
                kClient, true);
    ASSERT_EQ(syncs.size(), 1u);
    EXPECT_EQ(syncs[0].first, dt);
    EXPECT_FALSE(syncs[0].second);
    link.inject(encode_npdu(NpduHeader{},
                            encode_unconfirmed_request(UnconfirmedService::UtcTimeSynchronization,
                                                       encode_time_sync(dt))),
                kClient, true);
    ASSERT_EQ(syncs.size(), 2u);
    EXPECT_TRUE(syncs[1].second);
}

TEST_F(RouterTest, MalformedAndUnknownRequestsGetRejectsOrAborts) {
    auto d = ask(1, ConfirmedService::ReadProperty, Bytes{0x0C, 0x00});
    ASSERT_EQ(d.apdu->type, PduType::Reject);
    d = ask(1, ConfirmedService::ReadProperty, Bytes{0x0C, 0x00, 0x00, 0x00, 0x05});
    ASSERT_EQ(d.apdu->type, PduType::Reject);
    EXPECT_EQ(d.apdu->reason, static_cast<uint8_t>(RejectReason::MissingRequiredParameter));
    d = ask(1, ConfirmedService::AtomicReadFile, Bytes{});
    ASSERT_EQ(d.apdu->type, PduType::Reject);
    EXPECT_EQ(d.apdu->reason, static_cast<uint8_t>(RejectReason::UnrecognizedService));
    // A segmented request.
    link.sent.clear();
    link.inject(request_npdu(1, Bytes{0x0E, 0x05, 0x01, 0x00, 0x04, 0x0C, 0x0C}), kClient, false);
    ASSERT_EQ(link.sent.size(), 1u);
    d = decode(link.sent[0]);
    EXPECT_EQ(d.apdu->type, PduType::Abort);
    EXPECT_EQ(d.apdu->reason, static_cast<uint8_t>(AbortReason::SegmentationNotSupported));
    // Garbage NPDUs are dropped silently.
    link.sent.clear();
    link.inject(Bytes{0x01}, kClient, false);
    link.inject(Bytes{0x01, 0x20, 0x00}, kClient, false);
    link.inject(Bytes{0x01, 0x00, 0x99}, kClient, false);
    EXPECT_TRUE(link.sent.empty());
}

TEST_F(RouterTest, WhoHasFindsObjectsByNameAndIdentifier) {
    NpduHeader h;
    h.destination = NetAddress{kGlobalNetwork, {}};
    WhoHas w;
    w.name = "Panel2_Load";
    link.sent.clear();
    link.inject(
        encode_npdu(h, encode_unconfirmed_request(UnconfirmedService::WhoHas, encode_who_has(w))),
        kClient, true);
    ASSERT_EQ(link.sent.size(), 1u);
    auto ihave = decode_i_have(decode(link.sent[0]).apdu->data);
    EXPECT_EQ(ihave.device, ObjectId(ObjectType::Device, 50002));
    EXPECT_EQ(ihave.object, kAv1);
    w = {};
    w.object = kNc1;
    link.sent.clear();
    link.inject(
        encode_npdu(h, encode_unconfirmed_request(UnconfirmedService::WhoHas, encode_who_has(w))),
        kClient, true);
    EXPECT_EQ(link.sent.size(), 2u);
    w.low = 50002;
    w.high = 50002;
    link.sent.clear();
    link.inject(
        encode_npdu(h, encode_unconfirmed_request(UnconfirmedService::WhoHas, encode_who_has(w))),
        kClient, true);
    ASSERT_EQ(link.sent.size(), 1u);
    EXPECT_EQ(decode_i_have(decode(link.sent[0]).apdu->data).name, "Panel2_Alarms");
}
