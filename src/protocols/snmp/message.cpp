#include "protocols/snmp/message.hpp"

#include "protocols/snmp/ber.hpp"

namespace openbcpm::snmp {

namespace {

bool known_pdu(int32_t version, uint8_t t) {
    switch (static_cast<PduType>(t)) {
        case PduType::GetRequest:
        case PduType::GetNextRequest:
        case PduType::Response:
        case PduType::SetRequest:
            return true;
        // GetBulk, Inform, SNMPv2-Trap and Report do not exist in SNMPv1; its
        // Trap-PDU (0xA4) has another layout and is no request to an agent.
        case PduType::GetBulkRequest:
        case PduType::InformRequest:
        case PduType::SNMPv2Trap:
        case PduType::Report:
            return version == kVersion2c;
    }
    return false;
}

// `slot()` gives the VarBind each binding is decoded into, in order.
template <class Slot>
bool decode_pdu(int32_t version, const ber::Tlv& tlv, PduHeader& pdu, Slot&& slot) {
    if (!known_pdu(version, tlv.tag)) return false;
    pdu.type = static_cast<PduType>(tlv.tag);
    ber::Reader r(tlv.content);
    const auto id = r.next(ber::tag::kInteger);
    const auto status = r.next(ber::tag::kInteger);
    const auto index = r.next(ber::tag::kInteger);
    if (!id || !status || !index) return false;
    const auto id_v = ber::decode_integer32(*id);
    const auto status_v = ber::decode_integer32(*status);
    const auto index_v = ber::decode_integer32(*index);
    if (!id_v || !status_v || !index_v) return false;
    pdu.request_id = *id_v;
    pdu.error_status = *status_v;
    pdu.error_index = *index_v;
    pdu.bad_value_index = 0;
    pdu.bad_value_error = ErrorStatus::NoError;

    const auto list = r.next(ber::tag::kSequence);
    if (!list || !r.at_end()) return false;
    ber::Reader vbs(*list);
    uint32_t count = 0;
    while (!vbs.at_end()) {
        const auto vb = vbs.next(ber::tag::kSequence);
        if (!vb) return false;
        ber::Reader f(*vb);
        const auto name = f.next(ber::tag::kObjectId);
        const auto value = f.next();
        if (!name || !value || !f.at_end()) return false;
        VarBind& into = slot();
        ++count;
        if (!ber::decode_oid(*name, into.name)) return false;
        if (!ber::decode_value(*value, into.value)) {
            into.value = Null{};
            if (pdu.bad_value_index == 0) {
                pdu.bad_value_index = count;
                pdu.bad_value_error = ber::is_value_tag(value->tag) ? ErrorStatus::WrongEncoding
                                                                    : ErrorStatus::WrongType;
            }
        }
    }
    return true;
}

template <class Slot>
DecodeStatus decode(std::span<const uint8_t> datagram, int32_t& version,
                    std::span<const uint8_t>& community, PduHeader& pdu, Slot&& slot) {
    ber::Reader outer(datagram);
    const auto seq = outer.next(ber::tag::kSequence);
    if (!seq || !outer.at_end()) return DecodeStatus::Malformed;
    ber::Reader r(*seq);
    const auto version_tlv = r.next(ber::tag::kInteger);
    if (!version_tlv) return DecodeStatus::Malformed;
    const auto v = ber::decode_integer32(*version_tlv);
    if (!v) return DecodeStatus::Malformed;
    if (*v != kVersion1 && *v != kVersion2c) return DecodeStatus::BadVersion;
    version = *v;
    const auto community_tlv = r.next(ber::tag::kOctetString);
    const auto pdu_tlv = r.next();
    if (!community_tlv || !pdu_tlv || !r.at_end()) return DecodeStatus::Malformed;
    community = *community_tlv;
    if (!decode_pdu(*v, *pdu_tlv, pdu, slot)) return DecodeStatus::Malformed;
    return DecodeStatus::Ok;
}

}  // namespace

Decoded decode_message(std::span<const uint8_t> datagram) {
    Decoded d;
    std::span<const uint8_t> community;
    std::vector<VarBind>& list = d.message.pdu.varbinds;
    d.status = decode(datagram, d.message.version, community, d.message.pdu,
                      [&]() -> VarBind& { return list.emplace_back(); });
    d.message.community.assign(community.begin(), community.end());
    return d;
}

DecodeStatus decode_message(std::span<const uint8_t> datagram, MessageHeader& header,
                            VarBindList& varbinds) {
    varbinds.clear();
    std::span<const uint8_t> community;
    const DecodeStatus status = decode(datagram, header.version, community, header.pdu,
                                       [&]() -> VarBind& { return varbinds.add(); });
    header.community =
        std::string_view(reinterpret_cast<const char*>(community.data()), community.size());
    return status;
}

std::vector<uint8_t> encode_message(const Message& m) {
    std::vector<uint8_t> out;
    encode_message(m.version, m.community, m.pdu, m.pdu.varbinds, out);
    return out;
}

void encode_message(int32_t version, std::string_view community, const PduHeader& pdu,
                    std::span<const VarBind> varbinds, std::vector<uint8_t>& out) {
    size_t varbind_octets = 0;
    for (const VarBind& vb : varbinds)
        varbind_octets += ber::encoded_size(vb);
    out.clear();
    out.reserve(message_size(version, community, pdu, varbind_octets));
    ber::Writer w(out);
    const size_t msg = w.begin(ber::tag::kSequence);
    w.integer(version);
    w.octets(community);
    const size_t p = w.begin(static_cast<uint8_t>(pdu.type));
    w.integer(pdu.request_id);
    w.integer(pdu.error_status);
    w.integer(pdu.error_index);
    const size_t list = w.begin(ber::tag::kSequence);
    for (const VarBind& vb : varbinds)
        w.varbind(vb);
    w.end(list);
    w.end(p);
    w.end(msg);
}

size_t message_size(const Message& m, size_t varbind_octets) {
    return message_size(m.version, m.community, m.pdu, varbind_octets);
}

size_t message_size(int32_t version, std::string_view community, const PduHeader& pdu,
                    size_t varbind_octets) {
    const size_t p = ber::integer_size(pdu.request_id) + ber::integer_size(pdu.error_status) +
                     ber::integer_size(pdu.error_index) + ber::tlv_size(varbind_octets);
    return ber::tlv_size(ber::integer_size(version) + ber::tlv_size(community.size()) +
                         ber::tlv_size(p));
}

}  // namespace openbcpm::snmp
