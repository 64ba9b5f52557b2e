#include "protocols/snmp/meter_view.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "points/modbus_map.hpp"
#include "points/reset.hpp"

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

ErrorStatus status_of(WriteError e) {
    switch (e) {
        case WriteError::None:
            return ErrorStatus::NoError;
        case WriteError::WrongType:
            return ErrorStatus::WrongType;
        case WriteError::OutOfRange:
            return ErrorStatus::WrongValue;
        case WriteError::Inconsistent:
            return ErrorStatus::InconsistentValue;
        case WriteError::StorageFailed:
            return ErrorStatus::CommitFailed;  // valid, but it could not be stored
        case WriteError::UnknownKey:
            break;
    }
    return ErrorStatus::GenErr;
}

std::vector<Oid> panel_subtrees(int panels) {
    std::vector<Oid> subtrees;
    for (int p = 1; p <= panels; ++p)
        subtrees.push_back(panel_oid(p));
    return subtrees;
}

}  // namespace

MeterView::MeterView(MeterModel& model)
    : ObjectView(panel_subtrees(model.settings().model.panels)), model_(model) {
    const int panels = model_.settings().model.panels;
    for (const MibObject& o : MeterMib::instance().objects()) {
        if (o.panel > panels || o.notify_only) continue;
        Object object;
        object.oid = o.oid;
        object.syntax = syntax_of(o);
        object.access = o.write == WriteAs::ReadOnly ? Access::ReadOnly : Access::ReadWrite;
        for (uint32_t r = 1; r <= o.rows.size(); ++r)
            if (o.rows[r - 1]) object.instances.push_back(o.column ? Oid{r} : Oid{0});
        object.get = [this, &o](const Oid& index) { return read(o, index); };
        // Writes go through commit() below as one batch; there is no per-object commit.
        add(std::move(object));
        served_.emplace_back(o.oid, &o);
    }
    std::sort(served_.begin(), served_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    refresh();
}

void MeterView::refresh() {
    snapshot_ = model_.snapshot();
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
    const points::Context ctx{snapshot_, settings, o.panel, model_.power_up_counter(o.panel)};
    const points::Value v = points::point_value(*p, ctx);
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

SettingValue MeterView::setting_value(const MibObject& o, const Value& v) {
    if (o.repr == Representation::Text) return std::get<std::string>(v);
    return int64_t{std::get<int32_t>(v)};
}

SetError MeterView::test(std::span<const SetItem> items) {
    // Settings are tried in request order on a copy, so that a value that
    // only fits together with an earlier binding of the request is judged
    // as the batch will be applied.
    Settings trial = model_.settings();
    for (const SetItem& item : items) {
        const SetError e = ObjectView::test(std::span<const SetItem>(&item, 1));
        if (!e.ok()) return e;
        const Target t = target(item.binding->name);
        if (!t.object) return {ErrorStatus::NotWritable, item.index};
        if (t.object->write != WriteAs::Setting) continue;
        const SettingDef* def = find_setting(points::setting_key(*t.point, t.object->panel));
        if (!def) return {ErrorStatus::NotWritable, item.index};
        const WriteResult r =
            write_setting(trial, *def, setting_value(*t.object, item.binding->value));
        if (!r.ok()) return {status_of(r.error), item.index};
    }
    return {};
}

SetError MeterView::commit(std::span<const SetItem> items) {
    last_ = {};
    MeterModel::SettingsBatch batch;
    uint32_t first_setting = 0;
    for (const SetItem& item : items) {
        const Target t = target(item.binding->name);
        if (!t.object) return {ErrorStatus::CommitFailed, item.index};
        if (t.object->write != WriteAs::Setting) continue;
        const SettingDef* def = find_setting(points::setting_key(*t.point, t.object->panel));
        if (!def) return {ErrorStatus::CommitFailed, item.index};
        if (!first_setting) first_setting = item.index;
        last_.settings.emplace_back(def, def->get(model_.settings()));
        batch.emplace_back(def, setting_value(*t.object, item.binding->value));
    }
    if (!batch.empty() && !model_.write_settings(batch).ok()) {
        last_ = {};
        return {ErrorStatus::CommitFailed, first_setting};
    }
    // Settings first (as the Modbus face does), then the commands.
    std::reverse(last_.settings.begin(), last_.settings.end());  // undo newest first
    for (const SetItem& item : items) {
        const Target t = target(item.binding->name);
        const int panel = t.object->panel;
        const int32_t v =
            t.object->write == WriteAs::Setting || t.object->repr == Representation::Text
                ? 0
                : std::get<int32_t>(item.binding->value);
        switch (t.object->write) {
            case WriteAs::ReadOnly:
            case WriteAs::Setting:
                break;
            case WriteAs::LatchClear: {
                const bool voltage = t.point->ref.q == points::Q::EvVoltageStatus;
                const uint16_t mask =
                    voltage ? (event_bits::kVoltageHighLatching | event_bits::kVoltageLowLatching)
                            : event_bits::kLatchingMask;
                const auto clear = static_cast<uint16_t>(~static_cast<uint32_t>(v) & mask);
                if (!clear) break;
                const int channel = voltage ? kVoltageEventChannelBase + static_cast<int>(t.row)
                                            : static_cast<int>(t.row);
                model_.clear_latches(LatchClearCommand{panel, channel, clear});
                last_.irreversible = true;
                break;
            }
            case WriteAs::Reset: {
                const auto cmd = points::reset_command(
                    *t.point, panel, v, snapshot_.panel[static_cast<size_t>(panel - 1)]);
                if (cmd) model_.reset(*cmd);
                last_.irreversible = true;
                break;
            }
            case WriteAs::PowerUpCounter: {
                const int previous = model_.power_up_counter(panel);
                if (!model_.set_power_up_counter(panel, v).ok()) {
                    // Not stored, so not changed: put back what this request did.
                    const bool undone = undo(items);
                    return {undone ? ErrorStatus::CommitFailed : ErrorStatus::UndoFailed,
                            item.index};
                }
                last_.power_up.emplace_back(panel, previous);
                break;
            }
        }
    }
    return {};
}

bool MeterView::undo(std::span<const SetItem>) {
    bool ok = !last_.irreversible;
    if (!last_.settings.empty()) ok = model_.write_settings(last_.settings).ok() && ok;
    for (auto it = last_.power_up.rbegin(); it != last_.power_up.rend(); ++it)
        ok = model_.set_power_up_counter(it->first, it->second).ok() && ok;
    last_ = {};
    return ok;
}

}  // namespace openbcpm::snmp::meter
