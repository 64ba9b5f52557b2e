// Every identity a client stores about the meter, as one listing: the Modbus
// registers, BACnet objects and SNMP OIDs of each catalogue point, and the
// BACnet and SNMP identities that are not points (Notification Classes, MIB
// nodes, tables, notifications). tests/points/identities.csv is this listing
// as it was published; identities_test compares the code against it.
#pragma once

#include <string>
#include <vector>

#include "points/catalogue.hpp"
#include "protocols/bacnet/meter_objects.hpp"
#include "protocols/snmp/meter_mib.hpp"

namespace openbcpm::test {

struct IdentityRow {
    std::string point;   // the point id, or the name of what is not a point
    std::string device;  // panel, router (gateway points), class (Notification Class), mib
    std::string modbus;  // first register of the integer binding
    std::string words;
    std::string type;      // int16, uint16, int32, ascii
    std::string variant;   // always, by-type (62017 bit 3 clear), legacy (bit 3 set)
    std::string floating;  // first register of the float copy
    std::string bacnet;    // "AI417" on each panel device (or the router's)
    std::string bacnet_name;
    std::string snmp_oid;   // panel N's instance ("1.3.6.1.4.1.3833.1.30.1.N.4.1.1.2.1")
    std::string snmp_name;  // the descriptor, "pNBranchCurrent"

    // What identifies the row: a point keeps its key forever.
    std::string key() const { return point + " (" + device + ")"; }
    // The identities, without the key.
    std::string value() const;
};

struct IdentitySources {
    const std::vector<points::Point>* points;
    const std::vector<bacnet::MeterObject>* panel_objects;
    const std::vector<bacnet::MeterObject>* router_objects;
    const snmp::meter::MeterMib* mib;
};

// The sources the meter uses: the catalogue and the faces' tables.
IdentitySources meter_sources();

// Every row, sorted (device, then point id with numbers in numeric order).
// Throws std::logic_error when panel 2's MIB subtree does not mirror panel 1's.
std::vector<IdentityRow> identities(const IdentitySources& s);

std::string to_csv(const std::vector<IdentityRow>& rows);
// Throws std::runtime_error on a malformed line.
std::vector<IdentityRow> parse_csv(const std::string& text);

struct IdentityDiff {
    std::vector<std::string> moved;    // "key: golden ... now ..."
    std::vector<std::string> removed;  // "key: golden ..."
    std::vector<std::string> added;    // "key: ..."
};
IdentityDiff compare(const std::vector<IdentityRow>& golden,
                     const std::vector<IdentityRow>& current);

// Identities held by more than one row ("BACnet AI5 of the panel devices:
// a, b"); empty when every identity has one owner.
std::vector<std::string> shared_identities(const std::vector<IdentityRow>& rows);

}  // namespace openbcpm::test
