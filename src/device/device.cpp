#include "device/device.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstring>
#include <thread>

#include "device/kept_loads.hpp"
#include "sources/replay.hpp"
#include "sources/simulator.hpp"

namespace openbcpm {

namespace {

std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> ct_sizes_of(const Settings& s) {
    std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> out{};
    for (int p = 1; p <= kMaxPanels; ++p)
        out[static_cast<size_t>(p - 1)] = s.panel(p).ct_size;
    return out;
}

std::string power_up_key(int panel) {
    return "p" + std::to_string(panel) + ".power_up";
}

}  // namespace

void Device::discover_profiles() {
    GatewaySettings& g = settings_.gateway;
    ++settings_version_;  // removed_profiles may change below
    start_protocol_mode_ = g.protocol_mode;
    start_operating_mode_ = g.operating_mode;
    const int present = (1 << settings_.model.panels) - 1;
    if (g.operating_mode != 0) {
        // Discovery: the profiles are cleared and every panel discovered again.
        not_served_ = 0;
        if (g.removed_profiles == 0) return;
        const WriteResult r = persist_setting(
            store_.get(), settings_, *find_setting("gateway.removed_profiles"), int64_t{0});
        if (!r.ok()) {
            // Served all the same; the next start clears the stored set again.
            spdlog::warn("Discovery mode: clearing the removed profiles not stored: {}", r.message);
            g.removed_profiles = 0;
        }
        spdlog::info("Discovery mode: every panel discovered again (removed profiles cleared)");
        return;
    }
    not_served_ = g.removed_profiles & present;
    for (int p = 1; p <= settings_.model.panels; ++p) {
        if (not_served_ & (1 << (p - 1)))
            spdlog::info("Locked mode: panel {} (profile removed) is not served on {}", p,
                         primary_protocol_name(g.protocol_mode));
    }
}

Device::Device(const Config& config, const std::optional<std::filesystem::path>& state_dir)
    : config_(config), settings_(config.settings), block_(std::make_unique<SampleBlock>()) {
    if (state_dir) {
        store_ = std::make_unique<Store>(*state_dir);
        recovery_ = store_->recovery();
        std::vector<std::string> warnings;
        settings_ = merge_settings(*store_, config_.settings, config_.explicit_settings, &warnings);
        for (const auto& w : warnings)
            spdlog::warn("{}", w);
        for (int p = 1; p <= settings_.model.panels; ++p) {
            const int64_t previous = store_->load_counter(power_up_key(p)).value_or(0);
            // Rolls over to 1 like the meter's other counters.
            const int64_t now = previous >= 32767 ? 1 : previous + 1;
            power_up_[static_cast<size_t>(p - 1)] = static_cast<int>(now);
            // A start on a failing disk still counts; the count is stored when it recovers.
            power_up_unsaved_[static_cast<size_t>(p - 1)] = true;
        }
        retry_power_up();
    }
    discover_profiles();
    speed_.store(config_.simulation.speed);
    if (config_.source.kind == "replay") {
        source_ =
            std::make_unique<ReplaySource>(config_.source.replay_file, config_.source.replay_loop);
    } else {
        auto sim = std::make_unique<PanelSimulator>(config_.simulation, settings_.model,
                                                    ct_sizes_of(settings_));
        simulator_ = sim.get();
        source_ = std::move(sim);
        if (!config_.simulation.events.empty())
            simulator_->set_scenario_name(
                std::filesystem::path(config_.origin).filename().string());
        // The loads an operator kept across restarts, over the configuration's.
        if (store_) {
            kept_loads_ = load_kept_loads(store_->dir());
            for (const KeptLoad& k : kept_loads_)
                simulator_->set_load(k.panel, k.channel, k.amps, k.pf);
            if (!kept_loads_.empty())
                spdlog::info("simulator: {} kept load(s) applied from {}", kept_loads_.size(),
                             (store_->dir() / kKeptLoadsFile).string());
        }
        publish_sim_state(std::chrono::steady_clock::now(), true);
    }
    meter_ = std::make_unique<Meter>(settings_.model, metering_config(settings_),
                                     source_->info().nominal_frequency);
    if (store_) {
        MeterSnapshot saved = meter_->snapshot();
        if (store_->load_meter_state(saved)) meter_->restore(saved);
    }
    latest_ = meter_->snapshot();
    published_.write_slot() = latest_;
    published_.publish();
    started_ = std::chrono::steady_clock::now();
    last_checkpoint_ = started_;
    last_backup_ = started_;
}

Device::~Device() {
    stop();
}

void Device::start(AcquisitionPool* pool) {
    if (running_.exchange(true)) return;
    if (!pool) {
        own_pool_ = std::make_unique<AcquisitionPool>(1);
        pool = own_pool_.get();
    }
    pool->add(*this);
}

void Device::stop() {
    if (running_.exchange(false) && acquisition_pool_) {
        acquisition_pool_->remove(*this);
        acquisition_pool_ = nullptr;
    }
    own_pool_.reset();
    // The acquisition thread is gone: its state can be read directly, and
    // what it did not take is applied here.
    MeterCommand left;
    uint64_t newest = 0;
    while (commands_.pop(left)) {
        apply_command(left);
        newest = std::max(newest, left.ticket);
    }
    if (newest) applied_.store(std::max(applied_.load(), newest), std::memory_order_release);
    published_.write_slot() = meter_->snapshot();
    published_.publish();
    poll();
    if (store_ && !stopped_) {
        stopped_ = true;
        retry_power_up();
        try {
            store_->checkpoint(meter_->snapshot());
        } catch (const StoreError& e) {
            spdlog::error("final checkpoint failed: {}", e.what());
        }
        if (!pending_events_.empty())
            spdlog::error("{} events could not be recorded in the history (storage failing)",
                          pending_events_.size());
        // The last-good copy at a clean stop, when the state just written is good.
        if (!store_->health().failing) store_->backup();
    }
}

void Device::run_inline(double seconds, const std::function<void(double)>& progress) {
    const double start = meter_->snapshot().time;
    const double end = start + seconds;
    uint64_t blocks = 0;
    while (meter_->snapshot().time < end - 1e-9) {
        if (progress && ++blocks % 64 == 0) progress(meter_->snapshot().time - start);
        if (!source_->read(*block_)) break;
        meter_->process(*block_, [&](const MeterSnapshot&) {
            EventEngine& engine = meter_->events();
            for (size_t i = 0; i < engine.record_count(); ++i) {
                if (!events_.push(engine.records()[i])) events_dropped_.fetch_add(1);
            }
            engine.drain();
        });
        if (!events_.empty()) poll();
    }
    published_.write_slot() = meter_->snapshot();
    published_.publish();
    poll();
}

void Device::acquisition_begin() {
    const auto now = std::chrono::steady_clock::now();
    anchor_real_ = now;
    anchor_sim_ = std::nan("");
    acquired_speed_ = speed_.load();
    last_publish_ = now - std::chrono::seconds(1);
    due_ = now;
}

void Device::publish_acquired(const MeterSnapshot& s, bool force) {
    const auto now = std::chrono::steady_clock::now();
    // Above real time, hand over at most every few milliseconds: readers need the
    // newest state, not each of thousands of windows a second.
    if (!force && acquired_speed_ > 1.0 && now - last_publish_ < std::chrono::milliseconds(5))
        return;
    published_.write_slot() = s;
    published_.publish();
    last_publish_ = now;
}

void Device::drain_acquired_events() {
    EventEngine& engine = meter_->events();
    for (size_t i = 0; i < engine.record_count(); ++i) {
        if (!events_.push(engine.records()[i])) events_dropped_.fetch_add(1);
    }
    engine.drain();
}

std::chrono::steady_clock::time_point Device::acquisition_step() {
    using clock = std::chrono::steady_clock;
    MeterCommand cmd;
    bool changed = false;
    uint64_t newest = 0;
    while (commands_.pop(cmd)) {
        apply_command(cmd);
        changed = true;
        newest = std::max(newest, cmd.ticket);
    }
    if (changed) {
        drain_acquired_events();
        publish_sim_state(clock::now(), true);
        publish_acquired(meter_->snapshot(), true);
        // The snapshot that shows the writes is out: their faces may answer.
        if (newest) mark_applied(newest);
    }
    const auto now = clock::now();
    if (acquired_speed_ != speed_.load()) {
        acquired_speed_ = speed_.load();
        anchor_real_ = now;
        anchor_sim_ = std::nan("");
        due_ = now;
    }
    // Until the next block is due the pool's thread sleeps, or wakes at once
    // when a command arrives (send() wakes it): a write is seen within the
    // millisecond, not at the next block.
    if (now < due_) return due_;
    if (!source_->read(*block_)) {
        due_ = now + std::chrono::milliseconds(50);
        return due_;
    }
    if (std::isnan(anchor_sim_)) anchor_sim_ = block_->start_time;
    meter_->process(*block_, [this](const MeterSnapshot& s) {
        drain_acquired_events();
        publish_acquired(s, false);
    });
    publish_sim_state(now, false);
    // Pace the source to the simulated clock.
    const double sim_end = block_->start_time + static_cast<double>(block_->count) / kSampleRate;
    due_ = anchor_real_ + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(
                              (sim_end - anchor_sim_) / acquired_speed_));
    const auto after = clock::now();
    lag_.store(due_ > after ? 0.0 : std::chrono::duration<double>(after - due_).count());
    return due_;
}

void Device::apply_command(const MeterCommand& c) {
    switch (c.kind) {
        case MeterCommand::Kind::Configure:
            meter_->configure(c.config);
            break;
        case MeterCommand::Kind::Reset:
            meter_->apply(c.reset);
            break;
        case MeterCommand::Kind::LatchClear:
            meter_->apply(c.latch);
            break;
        case MeterCommand::Kind::SetRtc:
            meter_->set_rtc(c.rtc);
            break;
        case MeterCommand::Kind::SimSetLoad:
            if (simulator_) simulator_->set_load(c.panel, c.channel, c.amps, c.pf);
            break;
        case MeterCommand::Kind::SimTrip:
            if (simulator_) {
                if (c.value != 0.0)
                    simulator_->trip(c.panel, c.channel);
                else
                    simulator_->restore(c.panel, c.channel);
            }
            break;
        case MeterCommand::Kind::SimRamp:
            if (simulator_) simulator_->ramp(c.panel, c.channel, c.amps, c.seconds);
            break;
        case MeterCommand::Kind::SimVoltage:
            if (simulator_) simulator_->voltage_event(c.phase_mask, c.value, c.seconds);
            break;
        case MeterCommand::Kind::SimFrequency:
            if (simulator_) simulator_->set_frequency(c.value);
            break;
        case MeterCommand::Kind::SimSpeed:
            break;  // speed_ is read directly
        case MeterCommand::Kind::SimCtSize:
            if (simulator_) simulator_->set_ct_size(c.panel, c.channel, static_cast<int>(c.value));
            break;
        case MeterCommand::Kind::SimScenario:
            if (simulator_)
                simulator_->start_scenario(
                    scenario_events_,
                    std::string_view(scenario_name_.data(),
                                     strnlen(scenario_name_.data(), scenario_name_.size())));
            scenario_busy_.store(false, std::memory_order_release);
            break;
    }
}

void Device::publish_sim_state(std::chrono::steady_clock::time_point now, bool force) {
    if (!simulator_) return;
    if (!force && simulator_->state_version() == sim_state_version_ &&
        now - sim_state_at_ < std::chrono::milliseconds(250)) {
        return;
    }
    simulator_->copy_state(sim_state_.write_slot());
    sim_state_.publish();
    sim_state_version_ = simulator_->state_version();
    sim_state_at_ = now;
}

std::optional<SimulatorState> Device::sim_state() {
    if (!simulator_) return std::nullopt;
    sim_state_.fetch();
    return sim_state_.read_slot();
}

bool Device::sim_scenario(std::vector<ScenarioEvent> events, const std::string& name) {
    if (!simulator_ || scenario_busy_.load(std::memory_order_acquire)) return false;
    // What the simulator gave back last time is freed here, on the loop.
    scenario_events_ = std::move(events);
    std::stable_sort(scenario_events_.begin(), scenario_events_.end(),
                     [](const ScenarioEvent& a, const ScenarioEvent& b) { return a.at < b.at; });
    scenario_name_.fill('\0');
    name.copy(scenario_name_.data(), scenario_name_.size() - 1);
    scenario_busy_.store(true, std::memory_order_release);
    if (!running_.load()) {
        apply_command({.kind = MeterCommand::Kind::SimScenario});
        return true;
    }
    // Dropped (the acquisition thread stuck): not handed over, so the next
    // upload must not be refused as if this one were still on its way.
    if (!send({.kind = MeterCommand::Kind::SimScenario})) {
        scenario_busy_.store(false, std::memory_order_release);
        return false;
    }
    return true;
}

bool Device::sim_keep_loads(const std::vector<KeptLoad>& loads, std::string& why) {
    if (!simulator_) {
        why = "the source is not the simulator";
        return false;
    }
    if (!store_) {
        why = "the meter has no state directory (--state-dir): nothing can be kept";
        return false;
    }
    try {
        save_kept_loads(store_->dir(), loads);
    } catch (const std::exception& e) {
        why = e.what();
        return false;
    }
    kept_loads_ = loads;
    return true;
}

bool Device::send(const MeterCommand& command) {
    if (running_.load()) {
        // The queue is drained every block (<= 100 ms of metered time); a full
        // queue means the acquisition thread is stuck: wait briefly rather than drop.
        for (int tries = 0; !commands_.push(command); ++tries) {
            if (tries > 500) {
                spdlog::error("meter command queue full; command dropped");
                return false;
            }
            wake_acquisition();
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        wake_acquisition();
    } else {
        apply_command(command);
        published_.write_slot() = meter_->snapshot();
        published_.publish();
        if (command.ticket)
            applied_.store(std::max(applied_.load(), command.ticket), std::memory_order_release);
    }
    return true;
}

void Device::wake_acquisition() {
    // The pool's lock orders this with the thread's check before it sleeps.
    if (acquisition_pool_) acquisition_pool_->wake(acquisition_slot_);
}

void Device::mark_applied(uint64_t ticket) {
    // Sequentially consistent with when_applied's flag and check: either it
    // sees the ticket applied, or this sees its waiter.
    applied_.store(ticket);
    // Only when a face waits: one post to the loop, which runs them all.
    if (waiting_.exchange(false) && poster_set_.load(std::memory_order_acquire)) {
        poster_([weak = std::weak_ptr<Device*>(self_)] {
            if (const auto self = weak.lock()) (*self)->run_applied();
        });
    }
}

void Device::set_loop_poster(std::function<void(std::function<void()>)> post) {
    if (poster_set_.load()) return;
    // Set before the flag: the acquisition thread reads it only after the flag.
    poster_ = std::move(post);
    poster_set_.store(true, std::memory_order_release);
}

void Device::when_applied(uint64_t ticket, std::function<void()> fn) {
    if (applied(ticket) && poster_set_.load(std::memory_order_acquire)) {
        poster_([weak = std::weak_ptr<Device*>(self_), fn = std::move(fn)] {
            if (weak.lock()) fn();
        });
        return;
    }
    waiters_.push_back({ticket, std::chrono::steady_clock::now(), std::move(fn)});
    waiting_.store(true);
    // Applied meanwhile (before the flag was seen): run them now.
    if (ticket <= applied_.load() && poster_set_.load(std::memory_order_acquire)) {
        waiting_.store(false);
        poster_([weak = std::weak_ptr<Device*>(self_)] {
            if (const auto self = weak.lock()) (*self)->run_applied();
        });
    }
}

void Device::run_applied() {
    if (waiters_.empty()) return;
    const uint64_t done = applied_.load(std::memory_order_acquire);
    const auto now = std::chrono::steady_clock::now();
    std::vector<Waiter> ready;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
        // A command the queue could not take never completes: its face
        // answers after a while rather than never.
        const bool stale = now - it->since > std::chrono::seconds(2);
        if (it->ticket <= done || stale) {
            if (stale && it->ticket > done)
                spdlog::warn("write {} not seen by the meter within 2 s; answered", it->ticket);
            ready.push_back(std::move(*it));
            it = waiters_.erase(it);
        } else {
            ++it;
        }
    }
    if (!waiters_.empty()) waiting_.store(true);
    for (Waiter& w : ready)
        w.fn();
}

const MeterSnapshot& Device::snapshot() {
    if (pins_ > 0) return published_.read_slot();
    published_.fetch();
    MeterSnapshot& s = published_.read_slot();
    // Device Health carries what the metering thread cannot know: whether the
    // non-volatile store takes writes (bit 9, reserved in the map).
    const bool failing = store_ && store_->health().failing;
    for (PanelReadings& p : s.panel) {
        if (failing)
            p.health |= health_bits::kStorageFailing;
        else
            p.health &= static_cast<uint16_t>(~health_bits::kStorageFailing);
    }
    return s;
}

namespace {

WriteError write_error_of(points::Refusal r) {
    switch (r) {
        case points::Refusal::None:
            return WriteError::None;
        case points::Refusal::NotWritable:
            return WriteError::UnknownKey;
        case points::Refusal::WrongType:
            return WriteError::WrongType;
        case points::Refusal::OutOfRange:
        case points::Refusal::NotWholeStep:
            return WriteError::OutOfRange;
        case points::Refusal::Inconsistent:
        case points::Refusal::AccessDenied:
            return WriteError::Inconsistent;
        case points::Refusal::StorageFailed:
            return WriteError::StorageFailed;
    }
    return WriteError::Inconsistent;
}

}  // namespace

WriteResult Device::write_setting(const SettingDef& def, const SettingValue& value) {
    return write_settings({{&def, value}});
}

WriteResult Device::write_setting(std::string_view key, const SettingValue& value) {
    const SettingDef* def = find_setting(key);
    if (!def) return {WriteError::UnknownKey, "unknown setting " + std::string(key)};
    return write_setting(*def, value);
}

WriteResult Device::write_settings(
    const std::vector<std::pair<const SettingDef*, SettingValue>>& batch) {
    points::WriteRequest request;
    for (const auto& [def, value] : batch) {
        points::WriteItem item;
        item.setting = def;
        item.panel = def->panel == 0 ? 1 : def->panel;
        if (const auto* i = std::get_if<int64_t>(&value))
            item.value = *i;
        else
            item.value = std::get<std::string>(value);
        request.items.push_back(std::move(item));
    }
    const points::SubmitResult r = submit(request);
    return {write_error_of(r.result.refusal), r.result.message};
}

points::SubmitResult Device::submit(const points::WriteRequest& request) {
    // 1. Validate once: the settings on a trial copy, commands against the newest snapshot.
    points::WritePlan plan;
    points::SubmitResult out;
    out.result = points::plan_writes(request, settings_, snapshot(), plan);
    if (!out.ok() || plan.empty()) return out;
    // Operating_Mode Locked disables profile changes (the guide): the stored
    // mode decides, so Locked set and not yet restarted refuses too.
    for (size_t i = 0; i < plan.settings.size(); ++i) {
        const auto& [def, value] = plan.settings[i];
        if (def->key == "gateway.removed_profiles" && settings_.gateway.operating_mode == 0 &&
            value != def->get(settings_)) {
            out.result = {points::Refusal::Inconsistent, i, std::string(kLockedProfilesMessage)};
            return out;
        }
    }
    // 2. Store the NV settings and counters in one transaction; a refusal changes nothing.
    if (store_) {
        std::vector<std::pair<std::string, SettingValue>> nv;
        for (const auto& [def, value] : plan.settings) {
            if (def->nv) nv.emplace_back(def->key, value);
        }
        std::vector<std::pair<std::string, int64_t>> counters;
        for (const auto& [panel, value] : plan.power_up)
            counters.emplace_back(power_up_key(panel), value);
        if (!nv.empty() || !counters.empty()) {
            try {
                store_->update_settings_and_counters(nv, counters);
            } catch (const StoreError& e) {
                out.result = {points::Refusal::StorageFailed, 0,
                              std::string("Storage is failing, nothing was changed: ") + e.what()};
                return out;
            }
        }
    }
    // 3. Apply; what the metering thread must do goes with a ticket.
    const bool commands = plan.meter_commands();
    const uint64_t ticket = commands ? ++next_ticket_ : 0;
    auto command = [ticket](MeterCommand c) {
        c.ticket = ticket;
        return c;
    };
    if (!plan.settings.empty()) {
        settings_ = std::move(plan.trial);
        ++settings_version_;
        bool metering = false;
        for (const auto& [def, value] : plan.settings) {
            metering = metering || def->panel != 0;
            if (def->panel != 0 && def->key.find(".ct_size.") != std::string::npos) {
                MeterCommand ct;
                ct.kind = MeterCommand::Kind::SimCtSize;
                ct.panel = def->panel;
                ct.channel = def->channel;
                ct.value = static_cast<double>(std::get<int64_t>(value));
                send(command(ct));
            }
        }
        if (metering) {
            MeterCommand cmd;
            cmd.kind = MeterCommand::Kind::Configure;
            cmd.config = metering_config(settings_);
            send(command(cmd));
        }
    }
    for (const auto& [panel, value] : plan.power_up) {
        power_up_.at(static_cast<size_t>(panel - 1)) = value;
        power_up_unsaved_.at(static_cast<size_t>(panel - 1)) = false;
    }
    for (const LatchClearCommand& c : plan.latch_clears) {
        MeterCommand cmd;
        cmd.kind = MeterCommand::Kind::LatchClear;
        cmd.latch = c;
        send(command(cmd));
    }
    for (const ResetCommand& c : plan.resets) {
        MeterCommand cmd;
        cmd.kind = MeterCommand::Kind::Reset;
        cmd.reset = c;
        send(command(cmd));
    }
    if (plan.rtc) {
        MeterCommand cmd;
        cmd.kind = MeterCommand::Kind::SetRtc;
        cmd.rtc = *plan.rtc;
        send(command(cmd));
    }
    out.ticket = ticket;
    return out;
}

bool Device::set_rtc(int64_t unix_seconds, RtcSource source) {
    if (source != RtcSource::Other && settings_.gateway.rtc_control != static_cast<int>(source))
        return false;
    MeterCommand cmd;
    cmd.kind = MeterCommand::Kind::SetRtc;
    cmd.rtc = unix_seconds;
    send(cmd);
    return true;
}

int Device::power_up_counter(int panel) const {
    return power_up_.at(static_cast<size_t>(panel - 1));
}

void Device::retry_power_up() {
    if (!store_) return;
    for (size_t i = 0; i < power_up_unsaved_.size(); ++i) {
        if (!power_up_unsaved_[i]) continue;
        try {
            store_->save_counter(power_up_key(static_cast<int>(i + 1)), power_up_[i]);
            power_up_unsaved_[i] = false;
        } catch (const StoreError&) {
            return;  // noted in the store's health; tried again at the next poll
        }
    }
}

void Device::maybe_backup() {
    if (!store_ || store_->health().failing) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_backup_ < std::chrono::minutes(config_.storage.backup_minutes)) return;
    last_backup_ = now;
    store_->backup();
}

bool Device::send_to_simulator(const MeterCommand& command) {
    if (!simulator_) return false;
    send(command);
    return true;
}

bool Device::sim_set_load(int panel, int channel, double amps, std::optional<double> pf) {
    return send_to_simulator({.kind = MeterCommand::Kind::SimSetLoad,
                              .panel = panel,
                              .channel = channel,
                              .amps = amps,
                              .pf = pf});
}

bool Device::sim_trip(int panel, int channel, bool tripped) {
    return send_to_simulator({.kind = MeterCommand::Kind::SimTrip,
                              .panel = panel,
                              .channel = channel,
                              .value = tripped ? 1.0 : 0.0});
}

bool Device::sim_ramp(int panel, int channel, double amps, double seconds) {
    return send_to_simulator({.kind = MeterCommand::Kind::SimRamp,
                              .panel = panel,
                              .channel = channel,
                              .amps = amps,
                              .seconds = seconds});
}

bool Device::sim_voltage(int phase_mask, double magnitude, double seconds) {
    return send_to_simulator({.kind = MeterCommand::Kind::SimVoltage,
                              .seconds = seconds,
                              .value = magnitude,
                              .phase_mask = phase_mask});
}

bool Device::sim_frequency(double hz) {
    return send_to_simulator({.kind = MeterCommand::Kind::SimFrequency, .value = hz});
}

bool Device::sim_speed(double speed) {
    if (!(speed > 0.0) || speed > 100000.0) return false;
    speed_.store(speed);
    return true;
}

Device::Subscription Device::subscribe(EventListener listener) {
    const uint64_t id = next_listener_++;
    listeners_.emplace_back(id, std::move(listener));
    return Subscription(this, id);
}

void Device::unsubscribe(uint64_t id) {
    std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
}

void Device::poll() {
    run_applied();  // also the completions no poster carried (tests without a loop)
    event_batch_.clear();
    EventRecord r;
    while (events_.pop(r))
        event_batch_.push_back(r);
    // Listeners hear of events at once; the history records them when it can.
    for (const EventRecord& e : event_batch_) {
        for (const auto& [id, listener] : listeners_)
            listener(e);
    }
    if (store_) {
        pending_events_.insert(pending_events_.end(), event_batch_.begin(), event_batch_.end());
        record_events();
        retry_power_up();
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_checkpoint_ >= std::chrono::milliseconds(config_.storage.checkpoint_ms))
        checkpoint();
    maybe_backup();
}

void Device::record_events() {
    if (pending_events_.empty()) return;
    // While storage fails the oldest waiting events give way: the history is
    // bounded to event_history rows anyway.
    const auto keep = static_cast<size_t>(config_.storage.event_history);
    if (pending_events_.size() > keep) {
        const size_t drop = pending_events_.size() - keep;
        events_unrecorded_ += drop;
        pending_events_.erase(pending_events_.begin(),
                              pending_events_.begin() + static_cast<std::ptrdiff_t>(drop));
    }
    try {
        const auto wall = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
        store_->append_events(pending_events_.data(), pending_events_.size(), wall, keep);
        pending_events_.clear();
    } catch (const StoreError&) {
        // Noted in the store's health (logged once); tried again at the next poll.
    }
}

void Device::checkpoint() {
    last_checkpoint_ = std::chrono::steady_clock::now();
    if (!store_) return;
    const MeterSnapshot& s = snapshot();
    if (s.sequence == checkpointed_sequence_) return;
    try {
        store_->checkpoint(s);
        checkpointed_sequence_ = s.sequence;
    } catch (const StoreError&) {
        // Noted in the store's health (logged once); the next period tries again.
    }
}

}  // namespace openbcpm
