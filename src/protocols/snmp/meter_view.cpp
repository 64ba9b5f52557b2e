#include "protocols/snmp/meter_view.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "points/modbus_map.hpp"

namespace openbcpm::snmp::meter {

namespace {

Syntax syntax_of(const MibObject& o) {
    switch (o.repr) {
        case Representation::Integer:
            return o.min <= o.max ? Syntax::integer(o.min, o.max)
                                  : Syntax::integer(std::numeric_limits<int32_t>::min(),
                                                    std::numeric_limits<int32_t>::max());
        case Representation::Unsigned:
            return Syntax::of(Syntax::Type::Gauge32);
        case Representation::Energy:
            return Syntax::of(Syntax::Type::Counter64);
        case Representation::Text: {
            Syntax s = Syntax::display(o.max);
            s.min = o.min;
            return s;
        }
        case Representation::Enumerated: {
            // Commands read none(0); only a real command may be written.
            std::vector<int32_t> codes;
            for (const auto& [name, code] : o.enumeration)
                if (code != 0) codes.push_back(code);
            return Syntax::enumerated(std::move(codes));
        }
    }
    return Syntax{};
}

ErrorStatus status_of(points::Refusal r) {
    using points::Refusal;
    switch (r) {
        case Refusal::None:
            return ErrorStatus::NoError;
        case Refusal::NotWritable:
            return ErrorStatus::NotWritable;
        case Refusal::WrongType:
            return ErrorStatus::WrongType;
        case Refusal::OutOfRange:
        case Refusal::NotWholeStep:
            return ErrorStatus::WrongValue;
        case Refusal::Inconsistent:
            return ErrorStatus::InconsistentValue;
        case Refusal::AccessDenied:
            return ErrorStatus::NoAccess;
        case Refusal::StorageFailed:
            return ErrorStatus::CommitFailed;  // valid, but it could not be stored
    }
    return ErrorStatus::GenErr;
}

std::vector<Oid> panel_subtrees(const MeterModel& model) {
    std::vector<Oid> subtrees;
    for (int p = 1; p <= model.settings().model.panels; ++p) {
        if (model.serves_panel(p)) subtrees.push_back(panel_oid(p));
    }
    return subtrees;
}

}  // namespace

MeterView::MeterView(MeterModel& model) : ObjectView(panel_subtrees(model)), model_(model) {
    const int panels = model_.settings().model.panels;
    for (const MibObject& o : MeterMib::instance().objects()) {
        if (o.panel > panels || o.notify_only) continue;
        if (o.panel >= 1 && !model_.serves_panel(o.panel)) continue;
        Object object;
        object.oid = o.oid;
        object.syntax = syntax_of(o);
        object.access = o.write == WriteAs::ReadOnly ? Access::ReadOnly : Access::ReadWrite;
        for (uint32_t r = 1; r <= o.rows.size(); ++r)
            if (o.rows[r - 1]) object.instances.push_back(o.column ? Oid{r} : Oid{0});
        object.get = [this, &o](const Oid& index) { return read(o, index); };
        // A setting's key is made and looked up once, here; a request's read
        // goes through the definition (copying a text into the response's
        // kept value), other rows through read().
        const auto by_setting = [&o](const points::Point* p) {
            return p && (o.repr == Representation::Text || p->ref.q == points::Q::Setting);
        };
        if (std::any_of(o.rows.begin(), o.rows.end(), by_setting)) {
            std::vector<const SettingDef*> defs(o.rows.size(), nullptr);
            for (size_t r = 0; r < o.rows.size(); ++r) {
                if (by_setting(o.rows[r]))
                    defs[r] = find_setting(points::setting_key(*o.rows[r], o.panel));
            }
            object.read = [this, &o, by_setting, defs = std::move(defs)](const Oid& index,
                                                                         Value& out) {
                const uint32_t row = o.column ? index[0] : 1;
                if (by_setting(o.rows.at(row - 1))) return read_setting(o, defs[row - 1], out);
                auto v = read(o, index);
                if (!v) return false;
                out = std::move(*v);
                return true;
            };
        }
        // Writes go through commit() below as one batch; there is no per-object commit.
        add(std::move(object));
        served_.emplace_back(o.oid, &o);
    }
    std::sort(served_.begin(), served_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    refresh();
}

void MeterView::refresh() {
    snapshot_ = &model_.snapshot();
}

MeterView::Target MeterView::target(const Oid& name) const {
    auto it = std::upper_bound(served_.begin(), served_.end(), name,
                               [](const Oid& n, const auto& e) { return n < e.first; });
    if (it == served_.begin()) return {};
    --it;
    if (!name.starts_with(it->first) || name.size() != it->first.size() + 1) return {};
    const MibObject& o = *it->second;
    const uint32_t arc = name[name.size() - 1];
    const uint32_t row = o.column ? arc : (arc == 0 ? 1 : 0);
    if (row < 1 || row > o.rows.size() || !o.rows[row - 1]) return {};
    return {&o, row, o.rows[row - 1]};
}

std::optional<Value> MeterView::read(const MibObject& o, const Oid& index) const {
    const uint32_t row = o.column ? index[0] : 1;
    const points::Point* p = o.rows.at(row - 1);
    const Settings& settings = model_.settings();
    if (o.repr == Representation::Text) {
        const SettingDef* def = find_setting(points::setting_key(*p, o.panel));
        if (!def) return std::nullopt;
        return Value(openbcpm::to_string(def->get(settings)));
    }
    const points::Context ctx{*snapshot_, settings, o.panel, model_.power_up_counter(o.panel)};
    return value_of(o, points::point_value(*p, ctx));
}

bool MeterView::read_setting(const MibObject& o, const SettingDef* def, Value& out) const {
    if (!def) {
        if (o.repr == Representation::Text) return false;
        out = value_of(o, points::Value{}).value_or(Value(NoSuchInstance{}));
        return true;
    }
    const SettingValue v = def->get(model_.settings());
    const auto* number = std::get_if<int64_t>(&v);
    if (o.repr == Representation::Text) {
        assign_octets(out, number ? openbcpm::to_string(v) : std::get<std::string>(v));
        return true;
    }
    // As points::point_value gives a setting: a text setting counts as 0.
    const auto x = value_of(o, {number ? static_cast<double>(*number) : 0.0, true});
    if (!x) return false;
    out = *x;
    return true;
}

std::optional<Value> MeterView::value_of(const MibObject& o, const points::Value& v) const {
    if (!v.valid) return Value(NoSuchInstance{});
    // A setting is served as stored: its decimals (tenths of a percent) are only a display hint.
    if (o.write == WriteAs::Setting) return Value(fixed_point(v.value, 0));
    switch (o.repr) {
        case Representation::Integer:
        case Representation::Enumerated:
            return Value(fixed_point(v.value, o.decimals));
        case Representation::Unsigned:
            return Value(Gauge32{static_cast<uint32_t>(
                std::clamp(std::llround(v.value), 0LL, static_cast<long long>(UINT32_MAX)))});
        case Representation::Energy: {
            const double wh = std::round(v.value * 1000.0);
            return Value(Counter64{wh > 0 && std::isfinite(wh) ? static_cast<uint64_t>(wh) : 0});
        }
        case Representation::Text:
            break;
    }
    return std::nullopt;
}

bool MeterView::request_of(std::span<const SetItem> items, points::WriteRequest& request,
                           SetError& error) const {
    request.source = points::WriteSource::Snmp;
    request.items.clear();
    for (const SetItem& item : items) {
        const Target t = target(item.binding->name);
        if (!t.object || t.object->write == WriteAs::ReadOnly) {
            error = {ErrorStatus::NotWritable, item.index};
            return false;
        }
        points::WriteItem w;
        w.point = t.point;
        w.panel = t.object->panel;
        const Value& v = item.binding->value;
        if (const auto* text = std::get_if<std::string>(&v))
            w.value = *text;
        else if (const auto* i = std::get_if<int32_t>(&v))
            w.value = int64_t{*i};
        else {
            error = {ErrorStatus::WrongType, item.index};
            return false;
        }
        request.items.push_back(std::move(w));
    }
    return true;
}

SetError MeterView::test(std::span<const SetItem> items) {
    for (const SetItem& item : items) {
        const SetError e = ObjectView::test(std::span<const SetItem>(&item, 1));
        if (!e.ok()) return e;
    }
    // The whole request judged as it will be applied: the one write path's
    // rules, on a copy (settings in request order, codes, masks).
    points::WriteRequest request;
    SetError error;
    if (!request_of(items, request, error)) return error;
    points::WritePlan plan;
    const points::PlanResult r = points::plan_writes(request, model_.settings(), *snapshot_, plan);
    if (!r.ok()) return {status_of(r.refusal), items[r.item].index};
    return {};
}

SetError MeterView::commit(std::span<const SetItem> items) {
    last_ = {};
    ticket_ = 0;
    points::WriteRequest request;
    SetError error;
    if (!request_of(items, request, error)) return {ErrorStatus::CommitFailed, error.index};
    // What can be put back should a later view's commit fail.
    Undo undo;
    undo.previous.source = points::WriteSource::Snmp;
    for (const points::WriteItem& w : request.items) {
        switch (w.point->write) {
            case points::WriteKind::Setting: {
                const SettingDef* def = find_setting(points::setting_key(*w.point, w.panel));
                if (!def) break;
                points::WriteItem back = w;
                const SettingValue was = def->get(model_.settings());
                if (const auto* i = std::get_if<int64_t>(&was))
                    back.value = *i;
                else
                    back.value = std::get<std::string>(was);
                undo.previous.items.push_back(std::move(back));
                break;
            }
            case points::WriteKind::PowerUpCounter: {
                points::WriteItem back = w;
                back.value = int64_t{model_.power_up_counter(w.panel)};
                undo.previous.items.push_back(std::move(back));
                break;
            }
            case points::WriteKind::LatchClear:
            case points::WriteKind::Reset:
            case points::WriteKind::Rtc:
                undo.irreversible = true;
                break;
            case points::WriteKind::None:
                break;
        }
    }
    const points::SubmitResult r = model_.submit(request);
    if (!r.ok()) {
        // Not stored, so not changed: the binding named is the first setting's.
        uint32_t index = items[r.result.item].index;
        if (r.result.refusal == points::Refusal::StorageFailed) {
            index = items.front().index;
            for (size_t i = 0; i < request.items.size(); ++i) {
                if (request.items[i].point->write == points::WriteKind::Setting) {
                    index = items[i].index;
                    break;
                }
            }
            return {ErrorStatus::CommitFailed, index};
        }
        return {status_of(r.result.refusal), index};
    }
    // Undo newest first: a setting written twice goes back to its first value.
    std::reverse(undo.previous.items.begin(), undo.previous.items.end());
    last_ = std::move(undo);
    ticket_ = r.ticket;
    return {};
}

bool MeterView::undo(std::span<const SetItem>) {
    bool ok = !last_.irreversible;
    if (!last_.previous.items.empty()) {
        // One request per value: each puts back what was there before the commit.
        for (const points::WriteItem& w : last_.previous.items) {
            points::WriteRequest one;
            one.source = points::WriteSource::Snmp;
            one.items.push_back(w);
            ok = model_.submit(one).ok() && ok;
        }
    }
    last_ = {};
    return ok;
}

}  // namespace openbcpm::snmp::meter
