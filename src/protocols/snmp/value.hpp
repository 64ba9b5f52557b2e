// SNMPv2 values (RFC 2578 / RFC 3416 ObjectSyntax plus the v2 exceptions),
// variable bindings and the PDU error-status codes.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocols/snmp/oid.hpp"

namespace openbcpm::snmp {

struct Null {
    friend bool operator==(Null, Null) = default;
};
struct IpAddress {
    std::array<uint8_t, 4> octets{};
    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};
struct Counter32 {
    uint32_t value = 0;
    friend bool operator==(Counter32, Counter32) = default;
};
// Gauge32 and Unsigned32 share one tag (RFC 2578 section 7.1.7).
struct Gauge32 {
    uint32_t value = 0;
    friend bool operator==(Gauge32, Gauge32) = default;
};
struct TimeTicks {
    uint32_t value = 0;  // hundredths of a second
    friend bool operator==(TimeTicks, TimeTicks) = default;
};
struct Counter64 {
    uint64_t value = 0;
    friend bool operator==(Counter64, Counter64) = default;
};
struct Opaque {
    std::string bytes;
    friend bool operator==(const Opaque&, const Opaque&) = default;
};
// The v2 exceptions that stand in a variable binding's value.
struct NoSuchObject {
    friend bool operator==(NoSuchObject, NoSuchObject) = default;
};
struct NoSuchInstance {
    friend bool operator==(NoSuchInstance, NoSuchInstance) = default;
};
struct EndOfMibView {
    friend bool operator==(EndOfMibView, EndOfMibView) = default;
};

// INTEGER/Integer32 is int32_t; OCTET STRING is std::string (bytes, not text).
using Value =
    std::variant<Null, int32_t, std::string, Oid, IpAddress, Counter32, Gauge32, TimeTicks, Opaque,
                 Counter64, NoSuchObject, NoSuchInstance, EndOfMibView>;

// Puts an OCTET STRING into `v`, reusing the storage of one it holds.
inline void assign_octets(Value& v, std::string_view bytes) {
    if (auto* s = std::get_if<std::string>(&v))
        s->assign(bytes);
    else
        v.emplace<std::string>(bytes);
}

inline bool is_exception(const Value& v) {
    return std::holds_alternative<NoSuchObject>(v) || std::holds_alternative<NoSuchInstance>(v) ||
           std::holds_alternative<EndOfMibView>(v);
}

struct VarBind {
    Oid name;
    Value value;
    friend bool operator==(const VarBind&, const VarBind&) = default;
};

// Variable bindings in storage kept from one request to the next: clear()
// keeps every slot with its OID's and value's storage, and add() hands one
// back to be overwritten, so that a warm list fills without allocating.
class VarBindList {
  public:
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    VarBind& operator[](size_t i) { return items_[i]; }
    const VarBind& operator[](size_t i) const { return items_[i]; }
    std::span<const VarBind> bindings() const { return {items_.data(), size_}; }
    const VarBind* begin() const { return items_.data(); }
    const VarBind* end() const { return items_.data() + size_; }

    void clear() { size_ = 0; }
    // One more binding, in a slot that may still hold an earlier one's name
    // and value: the caller overwrites both. References to other slots stay
    // good until the list grows beyond what it has ever held.
    VarBind& add() {
        if (size_ == items_.size()) items_.emplace_back();
        return items_[size_++];
    }
    void pop_back() { --size_; }
    // Copies of `from`, replacing the contents.
    void assign(std::span<const VarBind> from) {
        clear();
        for (const VarBind& vb : from) {
            VarBind& slot = add();
            slot.name = vb.name;
            slot.value = vb.value;
        }
    }

  private:
    std::vector<VarBind> items_;
    size_t size_ = 0;
};

// error-status (RFC 3416 section 3). 1..5 exist in SNMPv1 too; an SNMPv2
// agent uses noSuchName, badValue and readOnly only when proxying v1.
enum class ErrorStatus : int32_t {
    NoError = 0,
    TooBig = 1,
    NoSuchName = 2,
    BadValue = 3,
    ReadOnly = 4,
    GenErr = 5,
    NoAccess = 6,
    WrongType = 7,
    WrongLength = 8,
    WrongEncoding = 9,
    WrongValue = 10,
    NoCreation = 11,
    InconsistentValue = 12,
    ResourceUnavailable = 13,
    CommitFailed = 14,
    UndoFailed = 15,
    AuthorizationError = 16,
    NotWritable = 17,
    InconsistentName = 18,
};

std::string_view to_string(ErrorStatus s);
// "INTEGER: 5", "OCTET STRING: \"abc\"" and the like, for logs and test output.
std::string to_string(const Value& v);

}  // namespace openbcpm::snmp
