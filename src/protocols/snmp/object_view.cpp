#include "protocols/snmp/object_view.hpp"

#include <algorithm>
#include <stdexcept>

namespace openbcpm::snmp {

ErrorStatus check_syntax(const Syntax& s, const Value& v) {
    using T = Syntax::Type;
    const auto in_range = [&](int64_t x) {
        if (!s.enumeration.empty()) {
            return std::find(s.enumeration.begin(), s.enumeration.end(), x) != s.enumeration.end();
        }
        return x >= s.min && x <= s.max;
    };
    switch (s.type) {
        case T::Integer:
            if (const auto* x = std::get_if<int32_t>(&v)) {
                return in_range(*x) ? ErrorStatus::NoError : ErrorStatus::WrongValue;
            }
            break;
        case T::OctetString:
            if (const auto* x = std::get_if<std::string>(&v)) {
                const auto n = static_cast<int64_t>(x->size());
                if (n < s.min || n > s.max) return ErrorStatus::WrongLength;
                if (s.display_string && std::any_of(x->begin(), x->end(), [](char c) {
                        return static_cast<unsigned char>(c) > 0x7F;
                    })) {
                    return ErrorStatus::WrongValue;
                }
                return ErrorStatus::NoError;
            }
            break;
        case T::ObjectId:
            if (std::holds_alternative<Oid>(v)) return ErrorStatus::NoError;
            break;
        case T::IpAddress:
            if (std::holds_alternative<IpAddress>(v)) return ErrorStatus::NoError;
            break;
        case T::Counter32:
            if (std::holds_alternative<Counter32>(v)) return ErrorStatus::NoError;
            break;
        case T::Gauge32:
            if (const auto* x = std::get_if<Gauge32>(&v)) {
                return in_range(x->value) ? ErrorStatus::NoError : ErrorStatus::WrongValue;
            }
            break;
        case T::TimeTicks:
            if (std::holds_alternative<TimeTicks>(v)) return ErrorStatus::NoError;
            break;
        case T::Counter64:
            if (std::holds_alternative<Counter64>(v)) return ErrorStatus::NoError;
            break;
    }
    return ErrorStatus::WrongType;
}

void ObjectView::add(Object object) {
    if (std::none_of(subtrees_.begin(), subtrees_.end(),
                     [&](const Oid& s) { return object.oid.starts_with(s); })) {
        throw std::invalid_argument("SNMP object " + object.oid.to_string() + " outside its view");
    }
    if (!object.get) {
        throw std::invalid_argument("SNMP object " + object.oid.to_string() +
                                    " lacks a get function");
    }
    for (const Object& o : objects_) {
        if (o.oid.starts_with(object.oid) || object.oid.starts_with(o.oid)) {
            throw std::invalid_argument("SNMP object " + object.oid.to_string() + " overlaps " +
                                        o.oid.to_string());
        }
    }
    std::sort(object.instances.begin(), object.instances.end());
    object.instances.erase(std::unique(object.instances.begin(), object.instances.end()),
                           object.instances.end());
    if (!object.restore) object.restore = object.commit;
    const auto at = std::upper_bound(objects_.begin(), objects_.end(), object.oid,
                                     [](const Oid& n, const Object& o) { return n < o.oid; });
    objects_.insert(at, std::move(object));
}

size_t ObjectView::instance_count() const {
    size_t n = 0;
    for (const Object& o : objects_)
        n += o.instances.size();
    return n;
}

ObjectView::Located ObjectView::locate(const Oid& name) const {
    // Objects do not nest, so only the greatest object not above `name` can hold it.
    auto it = std::upper_bound(objects_.begin(), objects_.end(), name,
                               [](const Oid& n, const Object& o) { return n < o.oid; });
    if (it == objects_.begin()) return {};
    --it;
    if (!name.starts_with(it->oid)) return {};
    // The instance part, compared in place.
    const auto index = name.tail(it->oid.size());
    const auto inst = std::lower_bound(
        it->instances.begin(), it->instances.end(), index,
        [](const Oid& i, std::span<const uint32_t> x) { return compare_arcs(i.span(), x) < 0; });
    if (inst == it->instances.end() || compare_arcs(inst->span(), index) != 0)
        return {&*it, nullptr};
    return {&*it, &*inst};
}

bool ObjectView::read(const Object& object, const Oid& index, Value& out) {
    if (object.read) return object.read(index, out);
    auto v = object.get(index);
    if (!v) return false;
    out = std::move(*v);
    return true;
}

bool ObjectView::get_into(const Oid& name, Value& value) {
    const Located at = locate(name);
    if (!at.object) {
        value = NoSuchObject{};
        return true;
    }
    if (!at.index) {
        value = NoSuchInstance{};
        return true;
    }
    if (!read(*at.object, *at.index, value)) {
        value = NoSuchInstance{};
        return false;
    }
    return true;
}

bool ObjectView::next_into(const Oid& name, VarBind& out, bool& failed) {
    auto obj = std::partition_point(objects_.begin(), objects_.end(),
                                    [&](const Object& o) { return subtree_before(o.oid, name); });
    for (; obj != objects_.end(); ++obj) {
        auto inst = obj->instances.begin();
        // Within the object that holds `name`, start after its index part.
        if (name.starts_with(obj->oid)) {
            inst = std::upper_bound(inst, obj->instances.end(), name.tail(obj->oid.size()),
                                    [](std::span<const uint32_t> x, const Oid& i) {
                                        return compare_arcs(x, i.span()) < 0;
                                    });
        }
        for (; inst != obj->instances.end(); ++inst) {
            const bool ok = read(*obj, *inst, out.value);
            if (ok && std::holds_alternative<NoSuchInstance>(out.value))
                continue;  // absent for now
            out.name.assign(obj->oid, inst->span());
            failed = !ok;
            if (failed) out.value = Null{};
            return true;
        }
    }
    return false;
}

SetError ObjectView::test(std::span<const SetItem> items) {
    for (const SetItem& item : items) {
        const VarBind& vb = *item.binding;
        const Located at = locate(vb.name);
        // RFC 3416 4.2.5: no object that could ever be written -> notWritable;
        // a writable object without this instance -> noCreation (we create no rows).
        if (!at.object || at.object->access != Access::ReadWrite)
            return {ErrorStatus::NotWritable, item.index};
        if (!at.index) return {ErrorStatus::NoCreation, item.index};
        if (const ErrorStatus e = check_syntax(at.object->syntax, vb.value);
            e != ErrorStatus::NoError) {
            return {e, item.index};
        }
        const auto now = at.object->get(*at.index);
        if (!now) return {ErrorStatus::GenErr, item.index};
        if (std::holds_alternative<NoSuchInstance>(*now))
            return {ErrorStatus::NoCreation, item.index};
        if (at.object->test) {
            if (const ErrorStatus e = at.object->test(*at.index, vb.value);
                e != ErrorStatus::NoError) {
                return {e, item.index};
            }
        }
    }
    return {};
}

bool ObjectView::roll_back(std::vector<Applied>& applied) {
    bool ok = true;
    for (auto it = applied.rbegin(); it != applied.rend(); ++it) {
        ok = it->object->restore(it->index, it->previous) && ok;
    }
    applied.clear();
    return ok;
}

SetError ObjectView::commit(std::span<const SetItem> items) {
    last_commit_.clear();
    std::vector<Applied> applied;
    for (const SetItem& item : items) {
        const Located at = locate(item.binding->name);
        auto previous = at.index ? at.object->get(*at.index) : std::nullopt;
        if (!previous || !at.object->commit || !at.object->commit(*at.index, item.binding->value)) {
            const bool undone = roll_back(applied);
            return {undone ? ErrorStatus::CommitFailed : ErrorStatus::UndoFailed, item.index};
        }
        applied.push_back(Applied{at.object, *at.index, std::move(*previous)});
    }
    last_commit_ = std::move(applied);
    return {};
}

bool ObjectView::undo(std::span<const SetItem>) {
    return roll_back(last_commit_);
}

}  // namespace openbcpm::snmp
