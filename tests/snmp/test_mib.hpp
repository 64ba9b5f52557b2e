// A MIB for testing the agent: a table of `rows` rows with columns of every
// value type (some writable with ranges, one sparse, one with instances that
// come and go) and scalars that exercise each SetRequest error. It lives
// under the experimental arc, apart from the SNMPv2-MIB and the product MIB.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "protocols/snmp/object_view.hpp"

namespace openbcpm::snmp::testmib {

inline const Oid kRoot{1, 3, 6, 1, 3, 1717};
inline const Oid kEntry{1, 3, 6, 1, 3, 1717, 1, 1};  // columns 2..10, index = row number
inline const Oid kScalars{1, 3, 6, 1, 3, 1717, 2};   // kScalars.N.0

// Columns of kEntry.
enum Column : uint32_t {
    kValue = 2,   // INTEGER (0..1000), read-write
    kName = 3,    // DisplayString (SIZE (0..16)), read-write; absent on every 100th row
    kCount = 4,   // Counter32
    kBig = 5,     // Counter64
    kAddr = 6,    // IpAddress
    kTicks = 7,   // TimeTicks
    kGauge = 8,   // Gauge32 (0..100), read-write
    kOid = 9,     // OBJECT IDENTIFIER
    kSparse = 10  // INTEGER, even rows only
};
// Scalars under kScalars.
enum Scalar : uint32_t {
    kLocked = 1,    // INTEGER {unlocked(0), locked(1)}, read-write
    kGuarded = 2,   // INTEGER (0..100): inconsistentValue while locked
    kFragile = 3,   // INTEGER (0..100): the commit of 13 fails
    kScarce = 4,    // INTEGER (0..100): 99 is resourceUnavailable
    kBroken = 5,    // INTEGER: every read fails (genErr); only with `broken`
    kMode = 6,      // INTEGER {on(1), off(2)}, read-write
    kReadOnly = 7,  // INTEGER, read-only
    kBlob = 8,      // OCTET STRING of `blob_size` octets, read-only
    kStubborn = 9,  // INTEGER (0..100): applies, but cannot be put back
};

struct Row {
    int32_t value = 0;
    std::string name;
    uint32_t count = 0;
    uint64_t big = 0;
    IpAddress addr;
    uint32_t ticks = 0;
    uint32_t gauge = 0;
    Oid oid;
};

class TestMib {
  public:
    explicit TestMib(uint32_t rows = 2000, bool broken = false, size_t blob_size = 1000);
    TestMib(const TestMib&) = delete;
    TestMib& operator=(const TestMib&) = delete;

    std::shared_ptr<ObjectView> view() const { return view_; }
    // How many instances a walk of the view returns.
    size_t walk_size() const;

    std::vector<Row> rows;
    int32_t locked = 0, guarded = 10, fragile = 10, scarce = 10, mode = 1, read_only = 42,
            stubborn = 10;
    std::string blob;
    bool broken;

  private:
    std::shared_ptr<ObjectView> view_;
};

}  // namespace openbcpm::snmp::testmib
