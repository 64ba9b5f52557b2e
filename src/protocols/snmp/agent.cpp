#include "protocols/snmp/agent.hpp"

#include <algorithm>
#include <chrono>
#include <random>

#include "protocols/snmp/ber.hpp"

namespace openbcpm::snmp {

namespace {

Pdu error_response(const Pdu& request, ErrorStatus status, uint32_t index) {
    // Errors echo the request's bindings (RFC 3416 4.2.1, 4.2.5).
    Pdu r;
    r.type = PduType::Response;
    r.request_id = request.request_id;
    r.error_status = static_cast<int32_t>(status);
    r.error_index = static_cast<int32_t>(index);
    r.varbinds = request.varbinds;
    return r;
}

Pdu response_to(const Pdu& request) {
    Pdu r;
    r.type = PduType::Response;
    r.request_id = request.request_id;
    return r;
}

}  // namespace

Agent::Agent(AgentConfig config, const std::vector<std::shared_ptr<MibView>>& views)
    : communities_(std::move(config.communities)),
      max_message_size_(std::min(config.max_message_size, kMaxUdpPayload)) {
    state_.system = std::move(config.system);
    state_.enable_authen_traps = config.enable_authen_traps ? 1 : 2;
    if (config.uptime) {
        state_.uptime = std::move(config.uptime);
    } else {
        const auto start = std::chrono::steady_clock::now();
        state_.uptime = [start] {
            const auto t = std::chrono::steady_clock::now() - start;
            // TimeTicks wrap modulo 2^32 (RFC 2578 7.1.8).
            return static_cast<uint32_t>(
                std::chrono::duration_cast<std::chrono::milliseconds>(t).count() / 10);
        };
    }
    if (config.set_serial_no) {
        state_.set_serial_no = std::clamp(*config.set_serial_no, 0, 2147483647);
    } else {
        std::random_device rd;
        state_.set_serial_no = static_cast<int32_t>(rd() & 0x7FFFFFFF);
    }
    view_.add(make_snmpv2_mib(state_));
    for (const auto& v : views)
        view_.add(v);
}

std::optional<std::vector<uint8_t>> Agent::handle(std::span<const uint8_t> datagram) {
    SnmpCounters& c = state_.counters;
    ++c.in_pkts;
    if (datagram.size() > kMaxUdpPayload) {
        ++c.in_asn_parse_errs;
        return std::nullopt;
    }
    const Decoded d = decode_message(datagram);
    if (d.status == DecodeStatus::Malformed) {
        ++c.in_asn_parse_errs;
        return std::nullopt;
    }
    // This agent speaks SNMPv2c only: an SNMPv1 message is a version it does
    // not support (RFC 3412 7.2 step 2), like any other.
    if (d.status == DecodeStatus::BadVersion || d.message.version != kVersion2c) {
        ++c.in_bad_versions;
        return std::nullopt;
    }
    const Message& m = d.message;
    const bool may_write = !communities_.write.empty() && m.community == communities_.write;
    const bool may_read =
        may_write || (!communities_.read.empty() && m.community == communities_.read);
    if (!may_read) {
        ++c.in_bad_community_names;
        if (state_.enable_authen_traps == 1 && on_authentication_failure)
            on_authentication_failure();
        return std::nullopt;
    }
    switch (m.pdu.type) {
        case PduType::GetRequest:
            return respond(m, get(m.pdu));
        case PduType::GetNextRequest:
            return respond(m, get_next(m.pdu));
        case PduType::GetBulkRequest:
            return respond(m, get_bulk(m));
        case PduType::SetRequest:
            if (!may_write) {
                // A known community used for an operation it does not allow
                // (RFC 3418 snmpInBadCommunityUses); nothing is writable in
                // its view, so the Set fails with noAccess (RFC 3416 4.2.5 (1)).
                ++c.in_bad_community_uses;
                return respond(m, error_response(m.pdu, ErrorStatus::NoAccess,
                                                 m.pdu.varbinds.empty() ? 0 : 1));
            }
            return respond(m, set(m));
        default:
            // Responses, notifications and reports are not for a command
            // responder; there is no notification receiver here.
            return std::nullopt;
    }
}

Pdu Agent::get(const Pdu& request) {
    Pdu r = response_to(request);
    r.varbinds.reserve(request.varbinds.size());
    for (size_t i = 0; i < request.varbinds.size(); ++i) {
        const Oid& name = request.varbinds[i].name;
        ReadResult read = view_.get(name);
        if (read.failed)
            return error_response(request, ErrorStatus::GenErr, static_cast<uint32_t>(i + 1));
        r.varbinds.push_back(VarBind{name, std::move(read.value)});
    }
    return r;
}

Pdu Agent::get_next(const Pdu& request) {
    Pdu r = response_to(request);
    r.varbinds.reserve(request.varbinds.size());
    for (size_t i = 0; i < request.varbinds.size(); ++i) {
        const Oid& name = request.varbinds[i].name;
        auto next = view_.next_after(name);
        if (!next) {
            r.varbinds.push_back(VarBind{name, EndOfMibView{}});
            continue;
        }
        if (next->failed)
            return error_response(request, ErrorStatus::GenErr, static_cast<uint32_t>(i + 1));
        r.varbinds.push_back(std::move(next->binding));
    }
    return r;
}

Pdu Agent::get_bulk(const Message& request) {
    const Pdu& q = request.pdu;
    const size_t count = q.varbinds.size();
    // RFC 3416 4.2.3: N non-repeaters, R repeaters, M repetitions.
    const size_t n = std::min(static_cast<size_t>(std::max(q.non_repeaters(), 0)), count);
    const size_t m = static_cast<size_t>(std::max(q.max_repetitions(), 0));
    const size_t r = count - n;

    Pdu resp = response_to(q);
    Message shape{request.version, request.community, resp};
    size_t used = 0;  // encoded size of the bindings so far
    // Appends while the message still fits; the response ends at the first
    // binding that would not (truncation, not tooBig, for GetBulk).
    const auto fits = [&](const VarBind& vb) {
        const size_t size = ber::encoded_size(vb);
        if (message_size(shape, used + size) > max_message_size_) return false;
        used += size;
        return true;
    };

    for (size_t i = 0; i < n; ++i) {
        const Oid& name = q.varbinds[i].name;
        auto next = view_.next_after(name);
        VarBind vb = next ? std::move(next->binding) : VarBind{name, EndOfMibView{}};
        if (next && next->failed)
            return error_response(q, ErrorStatus::GenErr, static_cast<uint32_t>(i + 1));
        if (!fits(vb)) return resp;
        resp.varbinds.push_back(std::move(vb));
    }

    // Each repeater walks on from where its previous repetition ended.
    std::vector<Oid> cursor;
    std::vector<bool> ended(r, false);
    cursor.reserve(r);
    for (size_t j = 0; j < r; ++j)
        cursor.push_back(q.varbinds[n + j].name);
    for (size_t rep = 0; rep < m && r > 0; ++rep) {
        bool all_ended = true;
        for (size_t j = 0; j < r; ++j) {
            VarBind vb;
            if (!ended[j]) {
                auto next = view_.next_after(cursor[j]);
                if (next && next->failed) {
                    return error_response(q, ErrorStatus::GenErr, static_cast<uint32_t>(n + j + 1));
                }
                if (next) {
                    vb = std::move(next->binding);
                    cursor[j] = vb.name;
                    all_ended = false;
                } else {
                    ended[j] = true;
                }
            }
            if (ended[j]) vb = VarBind{cursor[j], EndOfMibView{}};
            if (!fits(vb)) return resp;
            resp.varbinds.push_back(std::move(vb));
        }
        // Once every repeater is at the end of the MIB view, further
        // repetitions would only repeat endOfMibView (RFC 3416 4.2.3).
        if (all_ended) break;
    }
    return resp;
}

Pdu Agent::set(const Message& m) {
    const Pdu& request = m.pdu;
    // The response echoes the request: when that cannot fit, answer tooBig
    // before anything changes.
    size_t octets = 0;
    for (const VarBind& vb : request.varbinds)
        octets += ber::encoded_size(vb);
    if (message_size(Message{m.version, m.community, response_to(request)}, octets) >
        max_message_size_) {
        Pdu r = response_to(request);
        r.error_status = static_cast<int32_t>(ErrorStatus::TooBig);
        return r;
    }
    std::vector<SetItem> items;
    items.reserve(request.varbinds.size());
    for (size_t i = 0; i < request.varbinds.size(); ++i) {
        items.push_back(SetItem{static_cast<uint32_t>(i + 1), &request.varbinds[i]});
    }
    // Phase one: every binding is checked before anything changes.
    SetError e = view_.test(items);
    if (request.bad_value_index != 0 && (e.ok() || request.bad_value_index <= e.index)) {
        e = {request.bad_value_error, request.bad_value_index};
    }
    if (e.ok()) e = view_.commit(items);  // phase two: all or nothing
    if (!e.ok()) return error_response(request, e.status, e.index);
    Pdu r = response_to(request);
    r.varbinds = request.varbinds;
    return r;
}

std::optional<std::vector<uint8_t>> Agent::respond(const Message& request, Pdu response) {
    Message out{request.version, request.community, std::move(response)};
    size_t octets = 0;
    for (const VarBind& vb : out.pdu.varbinds)
        octets += ber::encoded_size(vb);
    if (message_size(out, octets) <= max_message_size_) return encode_message(out);
    // The alternate response: tooBig, error-index 0, no bindings (RFC 3416 4.2.1).
    out.pdu.error_status = static_cast<int32_t>(ErrorStatus::TooBig);
    out.pdu.error_index = 0;
    out.pdu.varbinds.clear();
    if (message_size(out, 0) <= max_message_size_) return encode_message(out);
    ++state_.counters.silent_drops;
    return std::nullopt;
}

std::vector<uint8_t> Agent::notification(const Oid& trap_oid, std::span<const VarBind> varbinds) {
    Message m;
    m.version = kVersion2c;
    m.community = communities_.trap;
    m.pdu.type = PduType::SNMPv2Trap;
    m.pdu.request_id = next_trap_id_;
    next_trap_id_ = next_trap_id_ == 2147483647 ? 1 : next_trap_id_ + 1;
    m.pdu.varbinds.reserve(varbinds.size() + 2);
    m.pdu.varbinds.push_back(VarBind{oids::kSysUpTime0, TimeTicks{uptime()}});
    m.pdu.varbinds.push_back(VarBind{oids::kSnmpTrapOid0, trap_oid});
    m.pdu.varbinds.insert(m.pdu.varbinds.end(), varbinds.begin(), varbinds.end());
    return encode_message(m);
}

}  // namespace openbcpm::snmp
