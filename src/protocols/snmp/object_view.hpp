// A MibView over a fixed set of object types and their instances, each read
// (and, when writable, tested and applied) through functions: the building
// block for the SNMPv2-MIB groups, the product MIB and test MIBs. Lookups are
// binary searches, so a walk of n instances costs O(n log n).
#pragma once

#include <functional>
#include <limits>

#include "protocols/snmp/mib_view.hpp"

namespace openbcpm::snmp {

enum class Access : uint8_t { ReadOnly, ReadWrite };

// The SYNTAX of an object type as far as a SetRequest must check it.
struct Syntax {
    enum class Type : uint8_t {
        Integer,
        OctetString,
        ObjectId,
        IpAddress,
        Counter32,
        Gauge32,
        TimeTicks,
        Counter64
    };
    Type type = Type::Integer;
    // Integer, Gauge32: the value range; OctetString: the SIZE range.
    int64_t min = std::numeric_limits<int32_t>::min();
    int64_t max = std::numeric_limits<int32_t>::max();
    std::vector<int32_t> enumeration;  // the named numbers of an enumerated INTEGER
    bool display_string = false;       // DisplayString: NVT ASCII only

    static Syntax integer(int64_t lo, int64_t hi) { return {Type::Integer, lo, hi, {}, false}; }
    static Syntax enumerated(std::vector<int32_t> values) {
        return {Type::Integer, 0, 0, std::move(values), false};
    }
    static Syntax octets(int64_t min_size, int64_t max_size) {
        return {Type::OctetString, min_size, max_size, {}, false};
    }
    static Syntax display(int64_t max_size = 255) {
        return {Type::OctetString, 0, max_size, {}, true};
    }
    static Syntax of(Type t) {
        Syntax s;
        s.type = t;
        if (t == Type::Gauge32) s.min = 0, s.max = std::numeric_limits<uint32_t>::max();
        if (t == Type::OctetString) s.min = 0, s.max = 65535;
        return s;
    }
};

// A SetRequest value against a syntax: wrongType, wrongLength, wrongValue or noError.
ErrorStatus check_syntax(const Syntax& syntax, const Value& value);

class ObjectView : public MibView {
  public:
    // Reads one instance: its value, NoSuchInstance when the instance is
    // absent at the moment, nullopt when it cannot be read (genErr).
    using Getter = std::function<std::optional<Value>(const Oid& index)>;
    // Reads one instance into a value the caller keeps (the agent's
    // response) instead of making a new one, so that an OCTET STRING copied
    // there reuses that value's storage: false when it cannot be read, as
    // Getter's nullopt.
    using Reader = std::function<bool(const Oid& index, Value& out)>;
    // A writable instance's own rules after the syntax check passed
    // (inconsistentValue, wrongValue, resourceUnavailable, ...).
    using Tester = std::function<ErrorStatus(const Oid& index, const Value& value)>;
    // Applies an already tested value; false when it could not.
    using Committer = std::function<bool(const Oid& index, const Value& value)>;

    struct Object {
        Oid oid;  // the OBJECT-TYPE
        Syntax syntax;
        Access access = Access::ReadOnly;
        std::vector<Oid> instances;  // index parts ({0} for a scalar)
        Getter get;
        Tester test;        // optional
        Committer commit;   // ReadWrite: applies one value, unless a subclass overrides commit()
        Committer restore;  // puts back a value read before a commit; defaults to commit
        Reader read = {};   // optional: the requests' reads, agreeing with get
    };

    explicit ObjectView(std::vector<Oid> subtrees) : subtrees_(std::move(subtrees)) {}

    // Throws std::invalid_argument when the object lies outside the view's
    // subtrees, contains or is contained in another object, or has no get
    // function. A writable object without a commit function fails its
    // commits (commitFailed) unless a subclass commits the bindings itself.
    void add(Object object);
    void add_scalar(const Oid& oid, Syntax syntax, Getter get) {
        add(Object{oid, std::move(syntax), Access::ReadOnly, {Oid{0}}, std::move(get), {}, {}, {}});
    }
    size_t instance_count() const;

    std::vector<Oid> subtrees() const override { return subtrees_; }
    bool get_into(const Oid& name, Value& value) override;
    bool next_into(const Oid& name, VarBind& out, bool& failed) override;
    SetError test(std::span<const SetItem> items) override;
    SetError commit(std::span<const SetItem> items) override;
    bool undo(std::span<const SetItem> items) override;

  private:
    struct Located {
        const Object* object = nullptr;
        const Oid* index = nullptr;  // null when the instance does not exist
    };
    Located locate(const Oid& name) const;
    // Through the object's read, else its get; false when it cannot be read.
    static bool read(const Object& object, const Oid& index, Value& out);
    struct Applied {
        const Object* object;
        Oid index;
        Value previous;
    };
    // Restores `applied` newest first; false when a restore failed.
    static bool roll_back(std::vector<Applied>& applied);

    std::vector<Oid> subtrees_;
    std::vector<Object> objects_;  // sorted by oid
    std::vector<Applied> last_commit_;
};

}  // namespace openbcpm::snmp
