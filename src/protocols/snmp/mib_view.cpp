#include "protocols/snmp/mib_view.hpp"

#include <algorithm>
#include <stdexcept>

namespace openbcpm::snmp {

ReadResult MibView::get(const Oid& name) {
    ReadResult r;
    r.failed = !get_into(name, r.value);
    return r;
}

std::optional<NextResult> MibView::next_after(const Oid& name) {
    NextResult r;
    if (!next_into(name, r.binding, r.failed)) return std::nullopt;
    return r;
}

SetError MibView::test(std::span<const SetItem> items) {
    if (items.empty()) return {};
    return {ErrorStatus::NotWritable, items.front().index};
}

SetError MibView::commit(std::span<const SetItem> items) {
    if (items.empty()) return {};
    return {ErrorStatus::CommitFailed, items.front().index};
}

bool MibView::undo(std::span<const SetItem>) {
    return false;
}

void CompositeView::add(std::shared_ptr<MibView> view) {
    std::vector<Range> merged = ranges_;
    for (Oid& s : view->subtrees()) {
        for (const Range& r : merged) {
            if (s.starts_with(r.subtree) || r.subtree.starts_with(s)) {
                throw std::invalid_argument("SNMP view subtree " + s.to_string() + " overlaps " +
                                            r.subtree.to_string());
            }
        }
        merged.push_back(Range{std::move(s), view.get()});
    }
    std::sort(merged.begin(), merged.end(),
              [](const Range& a, const Range& b) { return a.subtree < b.subtree; });
    ranges_ = std::move(merged);
    views_.push_back(std::move(view));
}

std::vector<Oid> CompositeView::subtrees() const {
    std::vector<Oid> out;
    out.reserve(ranges_.size());
    for (const Range& r : ranges_)
        out.push_back(r.subtree);
    return out;
}

MibView* CompositeView::owner(const Oid& name) const {
    // Subtrees are disjoint, so the only one that can hold `name` is the
    // greatest subtree not above it.
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), name,
                               [](const Oid& n, const Range& r) { return n < r.subtree; });
    if (it == ranges_.begin()) return nullptr;
    --it;
    return name.starts_with(it->subtree) ? it->view : nullptr;
}

bool CompositeView::get_into(const Oid& name, Value& value) {
    MibView* v = owner(name);
    if (!v) {
        value = NoSuchObject{};
        return true;
    }
    return v->get_into(name, value);
}

bool CompositeView::next_into(const Oid& name, VarBind& out, bool& failed) {
    // Skip the subtrees wholly before `name`, then ask each owner in turn; an
    // answer counts when it lies in the subtree being visited (a view with
    // several subtrees may answer from a later one, which another view's
    // subtree may precede).
    auto it = std::partition_point(ranges_.begin(), ranges_.end(),
                                   [&](const Range& r) { return subtree_before(r.subtree, name); });
    for (; it != ranges_.end(); ++it) {
        if (it->view->next_into(name, out, failed) && out.name.starts_with(it->subtree))
            return true;
    }
    return false;
}

std::vector<CompositeView::Group> CompositeView::group(std::span<const SetItem> items) const {
    std::vector<Group> groups;
    for (const SetItem& item : items) {
        MibView* v = owner(item.binding->name);
        auto g =
            std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.view == v; });
        if (g == groups.end()) {
            groups.push_back(Group{v, {}});
            g = groups.end() - 1;
        }
        g->items.push_back(item);
    }
    return groups;
}

SetError CompositeView::test(std::span<const SetItem> items) {
    SetError first;
    const auto keep = [&](SetError e) {
        if (!e.ok() && (first.ok() || e.index < first.index)) first = e;
    };
    for (const Group& g : group(items)) {
        // A name in no subtree: nothing there could ever be written (RFC 3416 4.2.5 (2)).
        if (!g.view) {
            keep({ErrorStatus::NotWritable, g.items.front().index});
            continue;
        }
        keep(g.view->test(g.items));
    }
    return first;
}

SetError CompositeView::commit(std::span<const SetItem> items) {
    const std::vector<Group> groups = group(items);
    for (size_t i = 0; i < groups.size(); ++i) {
        const Group& g = groups[i];
        const SetError e = g.view ? g.view->commit(g.items)
                                  : SetError{ErrorStatus::CommitFailed, g.items.front().index};
        if (e.ok()) continue;
        // Put back what the views before this one applied.
        bool undone = true;
        for (size_t j = i; j-- > 0;)
            undone = groups[j].view->undo(groups[j].items) && undone;
        return undone ? e : SetError{ErrorStatus::UndoFailed, e.index};
    }
    return {};
}

bool CompositeView::undo(std::span<const SetItem> items) {
    const std::vector<Group> groups = group(items);
    bool undone = true;
    for (size_t j = groups.size(); j-- > 0;)
        undone = groups[j].view && groups[j].view->undo(groups[j].items) && undone;
    return undone;
}

}  // namespace openbcpm::snmp
