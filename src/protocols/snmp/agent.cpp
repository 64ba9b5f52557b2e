#include "protocols/snmp/agent.hpp"

#include <algorithm>
#include <chrono>
#include <random>

#include "protocols/snmp/ber.hpp"

namespace openbcpm::snmp {

namespace {

PduHeader response_to(const PduHeader& request) {
    PduHeader r;
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

std::optional<std::span<const uint8_t>> Agent::handle(std::span<const uint8_t> datagram) {
    SnmpCounters& c = state_.counters;
    ++c.in_pkts;
    if (datagram.size() > kMaxUdpPayload) {
        ++c.in_asn_parse_errs;
        return std::nullopt;
    }
    const DecodeStatus status = decode_message(datagram, request_, in_);
    if (status == DecodeStatus::Malformed) {
        ++c.in_asn_parse_errs;
        return std::nullopt;
    }
    // This agent speaks SNMPv2c only: an SNMPv1 message is a version it does
    // not support (RFC 3412 7.2 step 2), like any other.
    if (status == DecodeStatus::BadVersion || request_.version != kVersion2c) {
        ++c.in_bad_versions;
        return std::nullopt;
    }
    const std::string_view community = request_.community;
    const bool may_write = !communities_.write.empty() && community == communities_.write;
    const bool may_read =
        may_write || (!communities_.read.empty() && community == communities_.read);
    if (!may_read) {
        ++c.in_bad_community_names;
        if (state_.enable_authen_traps == 1 && on_authentication_failure)
            on_authentication_failure();
        return std::nullopt;
    }
    response_.clear();
    switch (request_.pdu.type) {
        case PduType::GetRequest:
            return respond(get());
        case PduType::GetNextRequest:
            return respond(get_next());
        case PduType::GetBulkRequest:
            return respond(get_bulk());
        case PduType::SetRequest:
            if (!may_write) {
                // A known community used for an operation it does not allow
                // (RFC 3418 snmpInBadCommunityUses); nothing is writable in
                // its view, so the Set fails with noAccess (RFC 3416 4.2.5 (1)).
                ++c.in_bad_community_uses;
                return respond(error_response(ErrorStatus::NoAccess, in_.empty() ? 0 : 1));
            }
            return respond(set());
        default:
            // Responses, notifications and reports are not for a command
            // responder; there is no notification receiver here.
            return std::nullopt;
    }
}

PduHeader Agent::error_response(ErrorStatus status, uint32_t index) {
    PduHeader r = response_to(request_.pdu);
    r.error_status = static_cast<int32_t>(status);
    r.error_index = static_cast<int32_t>(index);
    response_.assign(in_.bindings());
    return r;
}

PduHeader Agent::get() {
    for (size_t i = 0; i < in_.size(); ++i) {
        VarBind& vb = response_.add();
        vb.name = in_[i].name;
        if (!view_.get_into(in_[i].name, vb.value))
            return error_response(ErrorStatus::GenErr, static_cast<uint32_t>(i + 1));
    }
    return response_to(request_.pdu);
}

bool Agent::next_binding(const Oid& name, VarBind& vb) {
    bool failed = false;
    if (view_.next_into(name, vb, failed)) return !failed;
    vb.name = name;
    vb.value = EndOfMibView{};
    return true;
}

PduHeader Agent::get_next() {
    for (size_t i = 0; i < in_.size(); ++i) {
        if (!next_binding(in_[i].name, response_.add()))
            return error_response(ErrorStatus::GenErr, static_cast<uint32_t>(i + 1));
    }
    return response_to(request_.pdu);
}

PduHeader Agent::get_bulk() {
    const PduHeader& q = request_.pdu;
    const size_t count = in_.size();
    // RFC 3416 4.2.3: N non-repeaters, R repeaters, M repetitions.
    const size_t n = std::min(static_cast<size_t>(std::max(q.non_repeaters(), 0)), count);
    const size_t m = static_cast<size_t>(std::max(q.max_repetitions(), 0));
    const size_t r = count - n;

    const PduHeader resp = response_to(q);
    size_t used = 0;  // encoded size of the bindings so far
    // Keeps the binding just added while the message still fits; the
    // response ends before the first binding that would not (truncation, not
    // tooBig, for GetBulk).
    const auto fits = [&] {
        const size_t size = ber::encoded_size(response_[response_.size() - 1]);
        if (message_size(request_.version, request_.community, resp, used + size) >
            max_message_size_) {
            response_.pop_back();
            return false;
        }
        used += size;
        return true;
    };

    for (size_t i = 0; i < n; ++i) {
        if (!next_binding(in_[i].name, response_.add()))
            return error_response(ErrorStatus::GenErr, static_cast<uint32_t>(i + 1));
        if (!fits()) return resp;
    }

    // Each repeater walks on from where its previous repetition ended: the
    // name in the request, then the name of its binding one repetition back.
    const size_t first = response_.size();
    ended_.assign(r, false);
    for (size_t rep = 0; rep < m && r > 0; ++rep) {
        bool all_ended = true;
        for (size_t j = 0; j < r; ++j) {
            VarBind& vb = response_.add();  // before `from`: adding may move the list
            const Oid& from =
                rep == 0 ? in_[n + j].name : response_[first + (rep - 1) * r + j].name;
            if (!ended_[j]) {
                bool failed = false;
                if (view_.next_into(from, vb, failed)) {
                    if (failed) {
                        return error_response(ErrorStatus::GenErr,
                                              static_cast<uint32_t>(n + j + 1));
                    }
                    all_ended = false;
                } else {
                    ended_[j] = true;
                }
            }
            if (ended_[j]) {
                vb.name = from;
                vb.value = EndOfMibView{};
            }
            if (!fits()) return resp;
        }
        // Once every repeater is at the end of the MIB view, further
        // repetitions would only repeat endOfMibView (RFC 3416 4.2.3).
        if (all_ended) break;
    }
    return resp;
}

PduHeader Agent::set() {
    const PduHeader& request = request_.pdu;
    // The response echoes the request: when that cannot fit, answer tooBig
    // before anything changes.
    size_t octets = 0;
    for (const VarBind& vb : in_)
        octets += ber::encoded_size(vb);
    if (message_size(request_.version, request_.community, response_to(request), octets) >
        max_message_size_) {
        PduHeader r = response_to(request);
        r.error_status = static_cast<int32_t>(ErrorStatus::TooBig);
        return r;
    }
    set_items_.clear();
    for (size_t i = 0; i < in_.size(); ++i)
        set_items_.push_back(SetItem{static_cast<uint32_t>(i + 1), &in_[i]});
    // Phase one: every binding is checked before anything changes.
    SetError e = view_.test(set_items_);
    if (request.bad_value_index != 0 && (e.ok() || request.bad_value_index <= e.index)) {
        e = {request.bad_value_error, request.bad_value_index};
    }
    if (e.ok()) e = view_.commit(set_items_);  // phase two: all or nothing
    if (!e.ok()) return error_response(e.status, e.index);
    response_.assign(in_.bindings());
    return response_to(request);
}

std::optional<std::span<const uint8_t>> Agent::respond(PduHeader response) {
    const int32_t version = request_.version;
    const std::string_view community = request_.community;
    size_t octets = 0;
    for (const VarBind& vb : response_)
        octets += ber::encoded_size(vb);
    if (message_size(version, community, response, octets) <= max_message_size_) {
        encode_message(version, community, response, response_.bindings(), out_);
        return std::span<const uint8_t>(out_);
    }
    // The alternate response: tooBig, error-index 0, no bindings (RFC 3416 4.2.1).
    response.error_status = static_cast<int32_t>(ErrorStatus::TooBig);
    response.error_index = 0;
    if (message_size(version, community, response, 0) <= max_message_size_) {
        encode_message(version, community, response, {}, out_);
        return std::span<const uint8_t>(out_);
    }
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
