// The SNMPv2c agent without a socket: community check, the command responder
// of RFC 3416 (Get, GetNext, GetBulk, Set) over a composite MIB view that
// always holds the SNMPv2-MIB, and the encoding of SNMPv2-Trap notifications.
// One datagram in, at most one datagram out; nothing here blocks or does I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocols/snmp/message.hpp"
#include "protocols/snmp/mib_view.hpp"
#include "protocols/snmp/snmpv2_mib.hpp"

namespace openbcpm::snmp {

// The largest UDP payload over IPv4: requests above it are dropped and no
// response exceeds it.
inline constexpr size_t kMaxUdpPayload = 65507;

struct Communities {
    // An empty community grants nothing. The write community may also read.
    std::string read = "public";
    std::string write = "private";
    std::string trap = "trap";
};

struct AgentConfig {
    Communities communities;
    SystemGroup system;
    bool enable_authen_traps = false;
    // The local constraint on response size (RFC 3416 4.2); at most kMaxUdpPayload.
    size_t max_message_size = kMaxUdpPayload;
    // sysUpTime in hundredths of a second; the default counts from construction.
    std::function<uint32_t()> uptime;
    // The initial snmpSetSerialNo; random when unset.
    std::optional<int32_t> set_serial_no;
};

class Agent {
  public:
    // `views` are merged with the SNMPv2-MIB; their subtrees must not overlap it
    // or each other (std::invalid_argument).
    explicit Agent(AgentConfig config, const std::vector<std::shared_ptr<MibView>>& views = {});
    // The SNMPv2-MIB view points into the agent: it stays where it was built.
    Agent(const Agent&) = delete;
    Agent& operator=(const Agent&) = delete;

    // One request datagram; the response datagram, or nullopt when the
    // request is dropped (malformed, wrong version or community, not a
    // request, or no response fits). The response lies in the agent's own
    // buffer, good until the next call: request, bindings and response live
    // in storage kept from one request to the next, so that a warm agent
    // answers Get, GetNext and GetBulk without allocating (views permitting).
    std::optional<std::span<const uint8_t>> handle(std::span<const uint8_t> datagram);

    // An encoded SNMPv2-Trap in the trap community: sysUpTime.0,
    // snmpTrapOID.0 = `trap_oid`, then `varbinds`.
    std::vector<uint8_t> notification(const Oid& trap_oid, std::span<const VarBind> varbinds = {});

    void set_communities(const Communities& c) { communities_ = c; }
    const Communities& communities() const { return communities_; }
    uint32_t uptime() const { return state_.uptime(); }
    const SnmpCounters& counters() const { return state_.counters; }
    // The system group and snmpEnableAuthenTraps, as the Sets left them.
    Snmpv2MibState& mib_state() { return state_; }
    MibView& view() { return view_; }

    // Called for each request with an unknown community while
    // snmpEnableAuthenTraps is enabled(1): the owner sends authenticationFailure.
    std::function<void()> on_authentication_failure;

  private:
    // Each fills response_ from request_ (bindings in_) and gives the
    // response's header.
    PduHeader get();
    PduHeader get_next();
    PduHeader get_bulk();
    PduHeader set();
    // The binding after `name` into `vb`, endOfMibView at the end of the
    // view; false when it could not be read (genErr).
    bool next_binding(const Oid& name, VarBind& vb);
    // An error response: it echoes the request's bindings (RFC 3416 4.2.1, 4.2.5).
    PduHeader error_response(ErrorStatus status, uint32_t index);
    // Encodes the response into out_; or tooBig; or nothing when even that is too big.
    std::optional<std::span<const uint8_t>> respond(PduHeader response);

    Communities communities_;
    size_t max_message_size_;
    Snmpv2MibState state_;
    CompositeView view_;
    int32_t next_trap_id_ = 1;

    // Kept from one request to the next (see handle()).
    MessageHeader request_;
    VarBindList in_;
    VarBindList response_;
    std::vector<bool> ended_;  // GetBulk: the repeaters at the end of the view
    std::vector<SetItem> set_items_;
    std::vector<uint8_t> out_;
};

}  // namespace openbcpm::snmp
