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

bool decode_pdu(int32_t version, const ber::Tlv& tlv, Pdu& pdu) {
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

    const auto list = r.next(ber::tag::kSequence);
    if (!list || !r.at_end()) return false;
    ber::Reader vbs(*list);
    while (!vbs.at_end()) {
        const auto vb = vbs.next(ber::tag::kSequence);
        if (!vb) return false;
        ber::Reader f(*vb);
        const auto name = f.next(ber::tag::kObjectId);
        const auto value = f.next();
        if (!name || !value || !f.at_end()) return false;
        auto oid = ber::decode_oid(*name);
        if (!oid) return false;
        auto v = ber::decode_value(*value);
        if (!v && pdu.bad_value_index == 0) {
            pdu.bad_value_index = static_cast<uint32_t>(pdu.varbinds.size() + 1);
            pdu.bad_value_error =
                ber::is_value_tag(value->tag) ? ErrorStatus::WrongEncoding : ErrorStatus::WrongType;
        }
        pdu.varbinds.push_back(VarBind{std::move(*oid), v ? std::move(*v) : Value(Null{})});
    }
    return true;
}

}  // namespace

Decoded decode_message(std::span<const uint8_t> datagram) {
    Decoded d;
    ber::Reader outer(datagram);
    const auto seq = outer.next(ber::tag::kSequence);
    if (!seq || !outer.at_end()) return d;
    ber::Reader r(*seq);
    const auto version = r.next(ber::tag::kInteger);
    if (!version) return d;
    const auto v = ber::decode_integer32(*version);
    if (!v) return d;
    if (*v != kVersion1 && *v != kVersion2c) {
        d.status = DecodeStatus::BadVersion;
        return d;
    }
    d.message.version = *v;
    const auto community = r.next(ber::tag::kOctetString);
    const auto pdu = r.next();
    if (!community || !pdu || !r.at_end()) return d;
    d.message.community.assign(community->begin(), community->end());
    if (!decode_pdu(*v, *pdu, d.message.pdu)) return d;
    d.status = DecodeStatus::Ok;
    return d;
}

std::vector<uint8_t> encode_message(const Message& m) {
    size_t varbind_octets = 0;
    for (const VarBind& vb : m.pdu.varbinds)
        varbind_octets += ber::encoded_size(vb);
    std::vector<uint8_t> out;
    out.reserve(message_size(m, varbind_octets));
    ber::Writer w(out);
    const size_t msg = w.begin(ber::tag::kSequence);
    w.integer(m.version);
    w.octets(m.community);
    const size_t pdu = w.begin(static_cast<uint8_t>(m.pdu.type));
    w.integer(m.pdu.request_id);
    w.integer(m.pdu.error_status);
    w.integer(m.pdu.error_index);
    const size_t list = w.begin(ber::tag::kSequence);
    for (const VarBind& vb : m.pdu.varbinds)
        w.varbind(vb);
    w.end(list);
    w.end(pdu);
    w.end(msg);
    return out;
}

size_t message_size(const Message& m, size_t varbind_octets) {
    const size_t pdu = ber::integer_size(m.pdu.request_id) + ber::integer_size(m.pdu.error_status) +
                       ber::integer_size(m.pdu.error_index) + ber::tlv_size(varbind_octets);
    return ber::tlv_size(ber::integer_size(m.version) + ber::tlv_size(m.community.size()) +
                         ber::tlv_size(pdu));
}

}  // namespace openbcpm::snmp
