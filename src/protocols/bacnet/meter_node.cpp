#include "protocols/bacnet/meter_node.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>

#include "model/snapshot_json.hpp"
#include "points/modbus_map.hpp"

namespace openbcpm::bacnet {

namespace {

// BACnetReliability configuration-error: the meter's configuration does not
// give this value now (a logical circuit or 2/3-phase meter not formed).
constexpr uint32_t kConfigurationError = 10;

// An object's description as the catalogue gives it; value and write come after.
AnalogPoint analog_point_of(const MeterObject& o) {
    AnalogPoint a;
    a.type = o.type;
    a.instance = o.instance;
    a.name = o.name;
    a.description = o.description;
    a.units = o.units;
    a.cov_increment = o.cov_increment;
    a.min_value = o.min_value;
    a.max_value = o.max_value;
    a.relinquish_default = o.relinquish_default;
    return a;
}

// A refused write that could not be stored answers resources; the rest
// (out of range, between two register steps, inconsistent) value-out-of-range.
WriteVerdict verdict_of(const points::PlanResult& r) {
    if (r.refusal == points::Refusal::StorageFailed) return WriteVerdict::not_stored();
    return r.ok();
}

std::string hex(std::span<const uint8_t> bytes) {
    std::string out;
    for (uint8_t b : bytes)
        out += fmt::format("{:02x}", b);
    return out;
}

std::optional<std::vector<uint8_t>> unhex(const std::string& text) {
    if (text.size() % 2) return std::nullopt;
    std::vector<uint8_t> out;
    for (size_t i = 0; i < text.size(); i += 2) {
        unsigned v = 0;
        for (size_t j = i; j < i + 2; ++j) {
            const char c = text[j];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= static_cast<unsigned>(c - 'a' + 10);
            else
                return std::nullopt;
        }
        out.push_back(static_cast<uint8_t>(v));
    }
    return out;
}

std::vector<Destination> load_recipients(Store* store, size_t device, uint32_t nc) {
    if (!store) return {};
    const auto text = store->load_text(recipients_key(device, nc));
    if (!text) return {};
    const auto bytes = unhex(*text);
    std::vector<Destination> out;
    if (!bytes) return out;
    try {
        Reader r(*bytes);
        while (!r.at_end())
            out.push_back(decode_destination(r));
    } catch (const DecodeError&) {
        spdlog::warn("BACnet: stored recipients of NC{} (device {}) unreadable; ignored", nc,
                     device);
        return {};
    }
    return out;
}

// The present value of a point for a panel, in the object's scale.
points::Value value_of(MeterModel& device, const points::Point& p, int panel) {
    const points::Context ctx{device.snapshot(), device.settings(), panel,
                              device.power_up_counter(panel)};
    return points::point_value(p, ctx);
}

// The immutable part of a panel device's objects for a model, shared by every
// panel of every meter in the process that has the same channels.
struct PanelTable {
    AnalogTable table;
    std::vector<const MeterObject*> objects;  // by table index
};

std::shared_ptr<const PanelTable> panel_table(const ModelInfo& model) {
    static std::mutex mutex;
    static std::map<std::vector<bool>, std::weak_ptr<const PanelTable>> cache;
    auto objects = panel_objects(model);
    std::vector<bool> key;
    for (const MeterObject& o : panel_object_table())
        key.push_back(o.channel == 0 || model.has_channel(o.channel));
    const std::lock_guard lock(mutex);
    if (auto t = cache[key].lock()) return t;
    auto t = std::make_shared<PanelTable>();
    t->table.specs.reserve(objects.size());
    for (const MeterObject* o : objects) {
        AnalogSpec a;
        a.type = o->type;
        a.instance = o->instance;
        a.name = o->name;
        a.description = o->description;
        a.units = o->units;
        a.cov_increment = o->cov_increment;
        a.min_value = o->min_value;
        a.max_value = o->max_value;
        a.relinquish_default = o->relinquish_default;
        a.has_write = o->action != MeterAction::None;
        a.has_reliability = o->action == MeterAction::None;
        a.has_writable = o->action == MeterAction::Rtc;
        if (o->notification_class != 0) {
            EventReporting rep;
            rep.notification_class = o->notification_class;
            rep.intrinsic = false;
            a.reporting = std::move(rep);
            a.meter_limits = true;
        }
        t->table.specs.push_back(std::move(a));
    }
    if (!t->table.index()) throw std::logic_error("BACnet: two panel objects share an identifier");
    t->objects = std::move(objects);
    cache[key] = t;
    return t;
}

}  // namespace

// A panel's present values (the newest snapshot, the settings) and its writes
// (the one write path), for the shared table's objects.
class MeterNode::PanelSource final : public AnalogSource {
  public:
    PanelSource(MeterNode& node, int panel, std::shared_ptr<const PanelTable> t)
        : node_(node), dev_(node.device_), panel_(panel), t_(std::move(t)) {
        settings_.resize(t_->objects.size());
        for (size_t i = 0; i < t_->objects.size(); ++i) {
            if (t_->objects[i]->action == MeterAction::Setting)
                settings_[i] = find_setting(points::setting_key(*t_->objects[i]->point, panel));
        }
        last_command_.resize(t_->table.outputs);
        for (const AnalogSpec& s : t_->table.specs) {
            if (s.type == ObjectType::AnalogOutput)
                last_command_[s.priority_slot] = s.relinquish_default;
        }
    }
    std::shared_ptr<const AnalogTable> table() const {
        return std::shared_ptr<const AnalogTable>(t_, &t_->table);
    }

    float value(size_t i) const override {
        const MeterObject& o = *t_->objects[i];
        switch (o.action) {
            case MeterAction::None: {
                const auto v = value_of(dev_, *o.point, panel_);
                return v.valid ? static_cast<float>(v.value) : 0.0F;
            }
            case MeterAction::Setting:
                return static_cast<float>(
                    static_cast<double>(std::get<int64_t>(settings_[i]->get(dev_.settings()))) *
                    o.scale);
            case MeterAction::PowerUpCounter:
                return static_cast<float>(dev_.power_up_counter(panel_));
            case MeterAction::Reset:
                // A commandable output: the value in force is the last command.
                return last_command_[t_->table.specs[i].priority_slot];
            case MeterAction::LatchClear:
            case MeterAction::Rtc:
                break;
        }
        return static_cast<float>(value_of(dev_, *o.point, panel_).value);
    }
    uint32_t reliability(size_t i) const override {
        return value_of(dev_, *t_->objects[i]->point, panel_).valid ? 0u : kConfigurationError;
    }
    bool writable(size_t /*i*/) const override {
        // RTC_Control 0 gives BACnet the clock (time synchronisation and the RTC AVs).
        return dev_.settings().gateway.rtc_control == 0;
    }
    WriteVerdict write(size_t i, float x) override {
        const MeterObject& o = *t_->objects[i];
        points::WriteItem w;
        w.point = o.point;
        w.panel = panel_;
        w.scale = o.action == MeterAction::Setting ? o.scale : 1.0;
        w.value = static_cast<double>(x);
        if (o.action != MeterAction::Reset) return verdict_of(node_.submit(w).result);
        // Each write that leaves a code in force runs it; 0 = no command.
        if (x != 0.0F) {
            const auto r = node_.submit(w);
            if (!r.ok()) return verdict_of(r.result);
        }
        last_command_[t_->table.specs[i].priority_slot] = x;
        return true;
    }
    float high_limit(size_t i) const override { return limit(i, true); }
    float low_limit(size_t i) const override { return limit(i, false); }

  private:
    float limit(size_t i, bool high) const {
        const int c = t_->objects[i]->event_channel;
        const PanelSettings& ps = dev_.settings().panel(panel_);
        if (c > kVoltageEventChannelBase)
            return static_cast<float>(
                (high ? ps.over_voltage_threshold : ps.under_voltage_threshold) / 10.0);
        // The high and low latching thresholds, per mille of the breaker size.
        return static_cast<float>(ps.breaker_size[static_cast<size_t>(c - 1)] *
                                  (high ? ps.h_threshold : ps.l_threshold) / 1000.0);
    }

    MeterNode& node_;
    MeterModel& dev_;
    int panel_;
    std::shared_ptr<const PanelTable> t_;
    std::vector<const SettingDef*> settings_;  // by index, setting objects only
    std::vector<float> last_command_;          // by priority slot
};

std::string identity_key(size_t device, const char* what) {
    return fmt::format("bacnet.device.{}.{}", device, what);
}

std::string recipients_key(size_t device, uint32_t notification_class) {
    return fmt::format("bacnet.device.{}.nc.{}.recipients", device, notification_class);
}

std::array<DeviceIdentityOverride, 1 + kMaxPanels> load_identity_overrides(Store* store) {
    std::array<DeviceIdentityOverride, 1 + kMaxPanels> out{};
    if (!store) return out;
    for (size_t d = 0; d < out.size(); ++d) {
        if (const auto text = store->load_text(identity_key(d, "instance"))) {
            try {
                const unsigned long v = std::stoul(*text);
                if (v < kMaxInstance) out[d].instance = static_cast<uint32_t>(v);
            } catch (const std::exception&) {
                spdlog::warn("BACnet: stored device instance '{}' unreadable; ignored", *text);
            }
        }
        if (auto name = store->load_text(identity_key(d, "name")); name && !name->empty())
            out[d].name = std::move(*name);
    }
    return out;
}

DateTime rtc_date_time(int64_t unix_seconds) {
    const std::time_t t = unix_seconds;
    std::tm tm{};
    gmtime_r(&t, &tm);
    DateTime dt;
    dt.date.year = static_cast<uint8_t>(tm.tm_year);
    dt.date.month = static_cast<uint8_t>(tm.tm_mon + 1);
    dt.date.day = static_cast<uint8_t>(tm.tm_mday);
    dt.date.weekday = static_cast<uint8_t>(tm.tm_wday == 0 ? 7 : tm.tm_wday);  // 1 = Monday
    dt.time.hour = static_cast<uint8_t>(tm.tm_hour);
    dt.time.minute = static_cast<uint8_t>(tm.tm_min);
    dt.time.second = static_cast<uint8_t>(tm.tm_sec);
    dt.time.hundredths = 0;
    return dt;
}

std::optional<int64_t> rtc_seconds(const DateTime& dt) {
    const Date& d = dt.date;
    const Time& t = dt.time;
    if (d.year == 0xFF || d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31 || t.hour > 23 ||
        t.minute > 59 || t.second > 59) {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = d.year;
    tm.tm_mon = d.month - 1;
    tm.tm_mday = d.day;
    tm.tm_hour = t.hour;
    tm.tm_min = t.minute;
    tm.tm_sec = t.second;
    std::tm want = tm;
    const std::time_t s = timegm(&tm);
    if (tm.tm_mday != want.tm_mday || tm.tm_mon != want.tm_mon) return std::nullopt;  // 31 Feb
    return static_cast<int64_t>(s);
}

// ---------------------------------------------------------------------------
// Over-threshold events -> Event_State of the channel's current input (or of
// the L-L voltage input). The state follows the latched bits of the channel:
// high-high or high latched = high-limit, low, low-low or OFF = low-limit,
// none = normal. Non-latching events are not reported (they come and go with
// the load; COV covers them).

struct MeterNode::Events {
    MeterModel& device;
    std::vector<PointDatabase*> panels;                // index panel - 1
    std::array<std::optional<ObjectId>, 50> object{};  // by event channel
    std::array<std::array<uint16_t, 50>, kMaxPanels> latched{};

    explicit Events(MeterModel& d) : device(d) {}

    static EventState state_of(int channel, uint16_t bits) {
        if (channel > kVoltageEventChannelBase) {
            if (bits & event_bits::kVoltageHighLatching) return EventState::HighLimit;
            if (bits & event_bits::kVoltageLowLatching) return EventState::LowLimit;
            return EventState::Normal;
        }
        if (bits & (event_bits::kHighHigh | event_bits::kHigh)) return EventState::HighLimit;
        if (bits & (event_bits::kLow | event_bits::kLowLow | event_bits::kOff))
            return EventState::LowLimit;
        return EventState::Normal;
    }

    TimeStamp stamp(int64_t rtc) {
        const DateTime dt = rtc_date_time(rtc != 0 ? rtc : device.snapshot().rtc);
        TimeStamp t;
        t.kind = TimeStamp::Kind::DateTime;
        t.date = dt.date;
        t.time = dt.time;
        return t;
    }

    void apply(int panel, int channel, const TimeStamp& stamp, EventDetail detail) {
        if (panel < 1 || static_cast<size_t>(panel) > panels.size()) return;
        if (channel < 1 || channel >= static_cast<int>(object.size())) return;
        const auto& id = object[static_cast<size_t>(channel)];
        if (!id) return;
        const uint16_t bits = latched[static_cast<size_t>(panel - 1)][static_cast<size_t>(channel)];
        panels[static_cast<size_t>(panel - 1)]->set_event_state(*id, state_of(channel, bits), stamp,
                                                                std::move(detail));
    }

    // The latched bits are NV: the meter comes up in the states it had. Set
    // before any datalink is attached, so they are not notified again, but
    // they wait for an acknowledgement like any to-offnormal transition.
    void initialise() {
        const auto pin = device.pin_snapshot();  // snap stays this one while stamps read it
        const MeterSnapshot& snap = device.snapshot();
        for (size_t p = 0; p < panels.size(); ++p) {
            const PanelEvents& ev = snap.panel[p].events;
            for (int c = 1; c <= kChannelsPerPanel; ++c)
                latched[p][static_cast<size_t>(c)] =
                    ev.status[static_cast<size_t>(c - 1)] & event_bits::kLatchingMask;
            for (int i = 0; i < 3; ++i)
                latched[p][size_t{kVoltageEventChannelBase} + 1 + static_cast<size_t>(i)] =
                    ev.voltage_status[static_cast<size_t>(i)] &
                    (event_bits::kVoltageHighLatching | event_bits::kVoltageLowLatching);
            for (int c = 1; c < static_cast<int>(object.size()); ++c) {
                if (latched[p][static_cast<size_t>(c)])
                    apply(static_cast<int>(p + 1), c, stamp(snap.rtc),
                          EventDetail{{}, {}, std::string("latched before this power-up")});
            }
        }
    }

    void on_event(const EventRecord& r) {
        if (r.panel < 1 || r.panel > panels.size() || r.channel < 1 || r.channel >= object.size())
            return;
        uint16_t& bits = latched[static_cast<size_t>(r.panel - 1)][r.channel];
        EventDetail detail;
        switch (r.kind) {
            case EventKind::Latched:
                bits |= r.bit;
                detail.exceeding_value = static_cast<float>(r.value);
                detail.exceeded_limit = static_cast<float>(r.threshold);
                detail.message = event_bit_name(r.channel, r.bit) + " latched";
                break;
            case EventKind::LatchCleared:
                bits = static_cast<uint16_t>(bits & ~r.bit);
                detail.message = event_bit_name(r.channel, r.bit) + " cleared";
                break;
            case EventKind::NonLatchingOn:
            case EventKind::NonLatchingOff:
                return;
        }
        apply(r.panel, r.channel, stamp(r.rtc), std::move(detail));
    }
};

// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// The answer gate: a datalink between the router and the face's link. Every
// NPDU received is handled with the snapshot pinned (one request, one
// metering window, however many properties or segments it reads); the frame
// the router sends after a write (its answer) and every frame after it wait
// until the meter shows the write, in their order.

class MeterNode::Gate final : public Datalink {
  public:
    Gate(MeterNode& node, MeterModel& device) : node_(node), device_(device) {}

    void wrap(Datalink& inner) {
        inner_ = &inner;
        inner.set_receiver([this](std::span<const uint8_t> npdu, const LinkAddress& from,
                                  bool broadcast) { on_receive(npdu, from, broadcast); });
    }
    void release() {
        inner_ = nullptr;
        held_.clear();
    }

    void send_npdu(std::span<const uint8_t> npdu, const LinkAddress& to) override {
        if (!inner_) return;
        uint64_t ticket = std::exchange(node_.pending_ticket_, 0);
        if (ticket && device_.applied(ticket)) ticket = 0;
        if (held_.empty() && ticket == 0) return inner_->send_npdu(npdu, to);
        held_.push_back({std::vector<uint8_t>(npdu.begin(), npdu.end()), to, ticket});
        if (ticket) {
            device_.when_applied(ticket, [this, alive = std::weak_ptr<bool>(alive_), ticket] {
                if (!alive.lock()) return;
                for (Held& h : held_)
                    if (h.ticket == ticket) h.ticket = 0;
                flush();
            });
        }
    }
    size_t max_apdu() const override { return inner_ ? inner_->max_apdu() : kMaxApdu; }

  private:
    struct Held {
        std::vector<uint8_t> npdu;
        LinkAddress to;
        uint64_t ticket = 0;  // 0: waits only for those before it
    };

    void on_receive(std::span<const uint8_t> npdu, const LinkAddress& from, bool broadcast) {
        {
            const auto pin = device_.pin_snapshot();
            deliver(npdu, from, broadcast);
        }
        node_.pending_ticket_ = 0;  // a write whose request got no answer
    }

    void flush() {
        while (!held_.empty() && held_.front().ticket == 0 && inner_) {
            Held h = std::move(held_.front());
            held_.pop_front();
            inner_->send_npdu(h.npdu, h.to);
        }
    }

    MeterNode& node_;
    MeterModel& device_;
    Datalink* inner_ = nullptr;
    std::deque<Held> held_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

void MeterNode::carry(Datalink& link) {
    gate_->wrap(link);
    router_->attach(*gate_);
}

void MeterNode::release_link() {
    gate_->release();
}

MeterNode::MeterNode(MeterModel& device)
    : device_(device),
      gate_(std::make_unique<Gate>(*this, device)),
      events_(std::make_shared<Events>(device)) {
    const Settings& s = device_.settings();
    config_ = router_config_from_settings(s, load_identity_overrides(device_.store()));
    config_.password = s.gateway.bacnet_password;
    build_databases();
    config_.router.database = databases_[0].get();
    for (size_t p = 0; p < config_.panels.size(); ++p) {
        config_.panels[p].database = databases_[p + 1].get();
        // A profile removed in Locked mode: no device for the panel behind the router.
        config_.panels[p].served =
            device_.serves_panel(FaceProtocol::Bacnet, static_cast<int>(p) + 1);
    }

    RouterHooks hooks;
    hooks.persist_identity = [this](size_t d, uint32_t instance, const std::string& name) {
        return persist_identity(d, instance, name);
    };
    hooks.identity_changed = [this](size_t d, uint32_t instance, const std::string& name) {
        DeviceConfig& c = d == 0 ? config_.router : config_.panels.at(d - 1);
        c.instance = instance;
        c.name = name;
        spdlog::info("BACnet: device {} is now {} '{}'", d, instance, name);
    };
    hooks.time_synchronized = [this](const DateTime& when, bool utc) {
        const auto t = rtc_seconds(when);
        if (!t) {
            spdlog::warn("BACnet: time synchronisation with an unspecified date or time ignored");
            return;
        }
        // The meter's clock has no zone: local time and UTC set it alike.
        if (device_.set_rtc(*t, RtcSource::Bacnet)) {
            spdlog::info("BACnet: {}time synchronisation set the RTC", utc ? "UTC " : "");
        } else {
            spdlog::info("BACnet: time synchronisation ignored (RTC_Control gives Modbus the RTC)");
        }
    };
    hooks.persist_max_master = [this](uint8_t m) {
        const WriteResult r = device_.write_setting("gateway.mstp_max_master", int64_t{m});
        if (!r.ok()) spdlog::warn("BACnet: Max_Master {} not stored: {}", m, r.message);
        return r.error != WriteError::StorageFailed;
    };
    hooks.max_master_changed = [this](uint8_t m) {
        if (max_master_listener_) max_master_listener_(m);
    };
    hooks.reinitialize = [this](ReinitializedState state) {
        spdlog::info("BACnet: ReinitializeDevice ({})",
                     state == ReinitializedState::Coldstart ? "coldstart" : "warmstart");
        // A warmstart keeps the RTC running; a coldstart starts it afresh, as a power cycle.
        return device_.request_restart(state == ReinitializedState::Coldstart ? RestartKind::Cold
                                                                              : RestartKind::Warm);
    };
    hooks.local_time = [this] { return rtc_date_time(device_.snapshot().rtc); };
    router_ = std::make_unique<VirtualRouter>(config_, hooks);

    // Events: the engine sinks are installed by the router; now the states.
    for (size_t p = 1; p < databases_.size(); ++p)
        events_->panels.push_back(databases_[p].get());
    for (const MeterObject* o : panel_objects(s.model)) {
        if (o->event_channel > 0 && o->event_channel < static_cast<int>(events_->object.size()))
            events_->object[static_cast<size_t>(o->event_channel)] = ObjectId(o->type, o->instance);
    }
    events_->initialise();
    subscription_ =
        device_.subscribe([events = events_.get()](const EventRecord& r) { events->on_event(r); });
}

MeterNode::~MeterNode() = default;

// Writes become write requests on the catalogue's points (the one write
// path: validated once, stored, applied, refused whole); a REAL between two
// register steps is refused, not rounded.
points::SubmitResult MeterNode::submit(const points::WriteItem& item) {
    points::WriteRequest request;
    request.source = points::WriteSource::Bacnet;
    request.items.push_back(item);
    points::SubmitResult r = device_.submit(request);
    if (r.ok() && r.ticket) pending_ticket_ = std::max(pending_ticket_, r.ticket);
    return r;
}

void MeterNode::build_databases() {
    MeterModel& dev = device_;
    const Settings& s = dev.settings();
    auto write_of = [this](points::WriteItem item) {
        return [this, item](float x) -> WriteVerdict {
            points::WriteItem w = item;
            w.value = static_cast<double>(x);
            return verdict_of(submit(w).result);
        };
    };
    // A setting seen through `scale` (engineering units per register count).
    auto bind_setting = [&dev, &write_of](AnalogPoint& a, points::WriteItem item) {
        const SettingDef* def = item.setting
                                    ? item.setting
                                    : find_setting(points::setting_key(*item.point, item.panel));
        const double scale = item.scale;
        a.value = [&dev, def, scale] {
            return static_cast<float>(
                static_cast<double>(std::get<int64_t>(def->get(dev.settings()))) * scale);
        };
        a.write = write_of(std::move(item));
    };

    // The router device: AV1 and AV2, gateway settings taking effect at restart.
    {
        std::vector<AnalogPoint> points;
        for (const MeterObject& o : router_object_table()) {
            AnalogPoint a = analog_point_of(o);
            points::WriteItem item;
            item.setting = find_setting(o.setting_key);
            bind_setting(a, item);
            points.push_back(std::move(a));
        }
        databases_.push_back(std::make_unique<PointDatabase>(std::move(points),
                                                             std::vector<NotificationClassDef>{}));
    }

    const auto table = panel_table(s.model);
    for (int panel = 1; panel <= s.model.panels; ++panel) {
        sources_.push_back(std::make_unique<PanelSource>(*this, panel, table));
        std::vector<NotificationClassDef> classes;
        for (const MeterClass& c : panel_classes()) {
            NotificationClassDef n;
            n.instance = c.instance;
            n.name = c.name;
            n.description = c.description;
            n.priority = {100, 100, 200};
            n.ack_required =
                BitString{true, false, false};  // to-offnormal needs an acknowledgement
            n.recipients = load_recipients(dev.store(), static_cast<size_t>(panel), c.instance);
            classes.push_back(std::move(n));
        }
        auto db = std::make_unique<PointDatabase>(sources_.back()->table(), *sources_.back(),
                                                  std::move(classes));
        db->set_class_listener([this, panel](const NotificationClassDef& n) {
            return persist_recipients(static_cast<size_t>(panel), n);
        });
        databases_.push_back(std::move(db));
    }
}

bool MeterNode::persist_identity(size_t d, uint32_t instance, const std::string& name) {
    const DeviceConfig& c = d == 0 ? config_.router : config_.panels.at(d - 1);
    Store* store = device_.store();
    if (!store) return true;
    // Only what was written stops following the offset.
    try {
        if (instance != c.instance)
            store->save_text(identity_key(d, "instance"), std::to_string(instance));
        if (name != c.name) store->save_text(identity_key(d, "name"), name);
    } catch (const StoreError& e) {
        spdlog::warn("BACnet: device {} identity not stored, nothing changed: {}", d, e.what());
        return false;
    }
    return true;
}

bool MeterNode::persist_recipients(size_t device, const NotificationClassDef& nc) {
    Store* store = device_.store();
    if (!store) return true;
    std::vector<Element> all;
    for (const Destination& d : nc.recipients) {
        for (auto& e : destination_elements(d))
            all.push_back(std::move(e));
    }
    try {
        store->save_text(recipients_key(device, nc.instance), hex(encode_elements(all)));
    } catch (const StoreError& e) {
        spdlog::warn("BACnet: recipients of NC{} not stored, nothing changed: {}", nc.instance,
                     e.what());
        return false;
    }
    return true;
}

}  // namespace openbcpm::bacnet
