// The agent's window on management information: an ordered set of object
// instances that the command responder reads, walks and writes. Views own
// disjoint subtrees; a CompositeView merges several (the SNMPv2-MIB groups,
// the product MIB) into one lexicographic order.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "protocols/snmp/value.hpp"

namespace openbcpm::snmp {

// One instance read: its value, NoSuchObject (no such object type here) or
// NoSuchInstance (the type exists, the instance does not); `failed` when the
// instance exists but could not be read (genErr).
struct ReadResult {
    Value value = NoSuchObject{};
    bool failed = false;
};

struct NextResult {
    VarBind binding;
    bool failed = false;  // as in ReadResult
};

// One binding of a SetRequest and its 1-based position in the request (the
// error-index to report for it).
struct SetItem {
    uint32_t index = 0;
    const VarBind* binding = nullptr;
};

struct SetError {
    ErrorStatus status = ErrorStatus::NoError;
    uint32_t index = 0;
    bool ok() const { return status == ErrorStatus::NoError; }
};

class MibView {
  public:
    virtual ~MibView() = default;

    // The subtrees this view answers for. They must not contain one another.
    virtual std::vector<Oid> subtrees() const = 0;

    ReadResult get(const Oid& name);
    // The first instance after `name` (strictly greater), nullopt at the end.
    std::optional<NextResult> next_after(const Oid& name);

    // The same into storage the caller keeps (the agent's response), so that
    // a read allocates nothing of its own: get() into `value`, false when the
    // read failed (genErr; `value` is then NoSuchInstance)...
    virtual bool get_into(const Oid& name, Value& value) = 0;
    // ... and next_after() into `out`, false at the end (`out` unspecified);
    // `failed` as in NextResult. `name` must not be `out.name`.
    virtual bool next_into(const Oid& name, VarBind& out, bool& failed) = 0;

    // SetRequest phase one (RFC 3416 section 4.2.5): check every item and
    // change nothing; the error of the lowest-indexed failing item.
    // The default is a read-only view.
    virtual SetError test(std::span<const SetItem> items);
    // Phase two, after every view's test passed: apply all items or none;
    // commitFailed with the failing item's index when it could not.
    virtual SetError commit(std::span<const SetItem> items);
    // Reverts a successful commit (another view's commit failed later);
    // false when it could not (undoFailed).
    virtual bool undo(std::span<const SetItem> items);
};

class CompositeView final : public MibView {
  public:
    // Throws std::invalid_argument when a subtree of `view` overlaps one
    // already present.
    void add(std::shared_ptr<MibView> view);

    std::vector<Oid> subtrees() const override;
    bool get_into(const Oid& name, Value& value) override;
    bool next_into(const Oid& name, VarBind& out, bool& failed) override;
    SetError test(std::span<const SetItem> items) override;
    SetError commit(std::span<const SetItem> items) override;
    bool undo(std::span<const SetItem> items) override;

  private:
    struct Range {
        Oid subtree;
        MibView* view;
    };
    struct Group {
        MibView* view;
        std::vector<SetItem> items;
    };
    MibView* owner(const Oid& name) const;
    // The items by owning view in order of first appearance; unowned items
    // go to a group with view == nullptr.
    std::vector<Group> group(std::span<const SetItem> items) const;

    std::vector<Range> ranges_;  // sorted by subtree
    std::vector<std::shared_ptr<MibView>> views_;
};

}  // namespace openbcpm::snmp
