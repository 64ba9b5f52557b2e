// The SNMPv2-MIB (RFC 3418) objects every SNMP entity carries: the system
// group with its sysORTable, the snmp group counters, snmpEnableAuthenTraps,
// snmpSetSerialNo, and the notification names the agent sends.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "protocols/snmp/mib_view.hpp"

namespace openbcpm::snmp {

namespace oids {
inline const Oid kSystem{1, 3, 6, 1, 2, 1, 1};
inline const Oid kSysDescr{1, 3, 6, 1, 2, 1, 1, 1};
inline const Oid kSysObjectId{1, 3, 6, 1, 2, 1, 1, 2};
inline const Oid kSysUpTime{1, 3, 6, 1, 2, 1, 1, 3};
inline const Oid kSysContact{1, 3, 6, 1, 2, 1, 1, 4};
inline const Oid kSysName{1, 3, 6, 1, 2, 1, 1, 5};
inline const Oid kSysLocation{1, 3, 6, 1, 2, 1, 1, 6};
inline const Oid kSysServices{1, 3, 6, 1, 2, 1, 1, 7};
inline const Oid kSysOrLastChange{1, 3, 6, 1, 2, 1, 1, 8};
inline const Oid kSysOrEntry{1, 3, 6, 1, 2, 1, 1, 9, 1};  // columns 2 (ID), 3 (Descr), 4 (UpTime)
inline const Oid kSnmp{1, 3, 6, 1, 2, 1, 11};
inline const Oid kSnmpMib{1, 3, 6, 1, 6, 3, 1};  // the SNMPv2-MIB module itself
inline const Oid kSnmpSet{1, 3, 6, 1, 6, 3, 1, 1, 6};
inline const Oid kSnmpSetSerialNo{1, 3, 6, 1, 6, 3, 1, 1, 6, 1};
inline const Oid kSysUpTime0{1, 3, 6, 1, 2, 1, 1, 3, 0};
inline const Oid kSnmpTrapOid0{1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};  // accessible-for-notify only
inline const Oid kColdStart{1, 3, 6, 1, 6, 3, 1, 1, 5, 1};
inline const Oid kWarmStart{1, 3, 6, 1, 6, 3, 1, 1, 5, 2};
inline const Oid kAuthenticationFailure{1, 3, 6, 1, 6, 3, 1, 1, 5, 5};
// The meter's own subtree (sysObjectID and the product MIB).
inline const Oid kBcpme{1, 3, 6, 1, 4, 1, 3833, 1, 30};
}  // namespace oids

// The snmp group counters RFC 3418 keeps (the obsolete ones are not implemented).
struct SnmpCounters {
    uint32_t in_pkts = 0;
    uint32_t in_bad_versions = 0;
    uint32_t in_bad_community_names = 0;
    uint32_t in_bad_community_uses = 0;
    uint32_t in_asn_parse_errs = 0;
    uint32_t silent_drops = 0;
    uint32_t proxy_drops = 0;  // always 0: no proxy here
};

struct SysOrEntry {
    Oid id;             // a capability (usually a MODULE-COMPLIANCE or MIB module)
    std::string descr;  // what it is
};

struct SystemGroup {
    std::string descr;
    Oid object_id = oids::kBcpme;
    std::string contact;
    std::string name;
    std::string location;
    int32_t services = 72;  // applications (64) + end-to-end (8)
    std::vector<SysOrEntry> or_entries;
};

// The state behind the SNMPv2-MIB objects; the agent owns it.
struct Snmpv2MibState {
    SystemGroup system;
    SnmpCounters counters;
    int32_t enable_authen_traps = 2;   // enabled(1) / disabled(2)
    int32_t set_serial_no = 0;         // TestAndIncr
    std::function<uint32_t()> uptime;  // sysUpTime, hundredths of a second
    // Called after a SetRequest changed sysContact, sysName, sysLocation or
    // snmpEnableAuthenTraps (so that the owner can keep them).
    std::function<void()> on_change;
};

// A view of the system, snmp and snmpSet groups over `state`, which must
// outlive it.
std::shared_ptr<MibView> make_snmpv2_mib(Snmpv2MibState& state);

}  // namespace openbcpm::snmp
