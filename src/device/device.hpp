// One running meter: the acquisition thread (source -> metering) and the model
// the protocol faces use on the event loop thread (settings, the latest
// snapshot, event notifications, commands). Faces never compute: they read
// the snapshot and submit validated writes here.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "core/spsc_queue.hpp"
#include "core/triple_buffer.hpp"
#include "device/acquisition_pool.hpp"
#include "metering/meter.hpp"
#include "model/meter_model.hpp"
#include "points/write_plan.hpp"
#include "sources/sample_source.hpp"
#include "storage/store.hpp"

namespace openbcpm {

class PanelSimulator;

// What the event loop asks of the acquisition thread.
struct MeterCommand {
    enum class Kind : uint8_t {
        Configure,
        Reset,
        LatchClear,
        SetRtc,
        SimSetLoad,
        SimTrip,
        SimRamp,
        SimVoltage,
        SimFrequency,
        SimSpeed,
        SimCtSize,
        SimScenario,  // Device::scenario_events_ hold it
    };
    Kind kind = Kind::Configure;
    MeteringConfig config{};
    ResetCommand reset{};
    LatchClearCommand latch{};
    int64_t rtc = 0;
    int panel = 1;
    int channel = 1;
    double amps = 0.0;
    std::optional<double> pf{};
    double seconds = 0.0;
    double value = 0.0;  // magnitude, frequency, speed, CT size
    int phase_mask = 0b111;
    uint64_t ticket = 0;  // the write it belongs to (Device::submit), 0 for none
};

class Device final : public MeterModel {
  public:
    // Opens storage (when state_dir is set), merges settings, restores NV
    // state and builds the source. Does not start acquisition.
    Device(const Config& config, const std::optional<std::filesystem::path>& state_dir);
    ~Device();
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    // Starts acquisition on `pool` (shared by the meters of a fleet), or on a
    // pool of one thread of its own.
    void start(AcquisitionPool* pool = nullptr);
    void stop();  // takes it off the pool and writes a final checkpoint
    // Meters `seconds` of source time on the calling thread as fast as it can
    // (for `simulate` and tests); the acquisition thread must not be running.
    // `progress`, when given, hears the metered seconds done now and then.
    void run_inline(double seconds, const std::function<void(double)>& progress = {});

    // --- The model (model/meter_model.hpp), for the event loop thread ---
    const Settings& settings() const override { return settings_; }
    uint64_t settings_version() const override { return settings_version_; }
    const Config& config() const override { return config_; }
    // Refreshes from the acquisition thread unless a SnapshotPin holds it.
    const MeterSnapshot& snapshot() override;
    int power_up_counter(int panel) const override;

    points::SubmitResult submit(const points::WriteRequest& request) override;
    void when_applied(uint64_t ticket, std::function<void()> fn) override;
    bool applied(uint64_t ticket) const override {
        return ticket <= applied_.load(std::memory_order_acquire);
    }
    // Faces and each face set it; the first one stays. Without it
    // completions run from poll().
    void set_loop_poster(std::function<void(std::function<void()>)> post) override;
    WriteResult write_setting(const SettingDef& def, const SettingValue& value) override;
    WriteResult write_setting(std::string_view key, const SettingValue& value) override;
    WriteResult write_settings(
        const std::vector<std::pair<const SettingDef*, SettingValue>>& batch) override;
    bool set_rtc(int64_t unix_seconds, RtcSource source) override;

    bool simulating() const override { return simulator_ != nullptr; }
    bool sim_set_load(int panel, int channel, double amps, std::optional<double> pf) override;
    bool sim_trip(int panel, int channel, bool tripped) override;
    bool sim_ramp(int panel, int channel, double amps, double seconds) override;
    bool sim_voltage(int phase_mask, double magnitude, double seconds) override;
    bool sim_frequency(double hz) override;
    bool sim_speed(double speed) override;
    double speed() const override { return speed_.load(); }
    std::optional<SimulatorState> sim_state() override;
    bool sim_scenario(std::vector<ScenarioEvent> events, const std::string& name) override;
    std::vector<KeptLoad> sim_kept_loads() const override { return kept_loads_; }
    bool sim_keep_loads(const std::vector<KeptLoad>& loads, std::string& why) override;

    [[nodiscard]] Subscription subscribe(EventListener listener) override;
    // Moves events to storage and listeners; checkpoints when due. Call often.
    void poll();
    // Writes energy/maxima/NV counters now.
    void checkpoint();

    // System Restart (the GUI's button): re-initialises the meter in process.
    // Volatile state resets, NV state stays, the faces rebind with the stored
    // settings. The handler is installed by the run command; the request is
    // carried out on the event loop after the caller's handler returns.
    void set_restart_handler(std::function<void(RestartKind)> handler) {
        restart_handler_ = std::move(handler);
    }
    bool request_restart(RestartKind kind) override {
        if (!restart_handler_) return false;
        restart_handler_(kind);
        return true;
    }

    // --- Active profiles (Operating_Mode), fixed for this start ---
    bool serves_panel(FaceProtocol protocol, int panel) const override {
        if (panel < 1 || panel > settings_.model.panels) return false;
        if (protocol != primary_protocol(start_protocol_mode_)) return true;
        return (not_served_ & (1 << (panel - 1))) == 0;
    }
    int profiles_not_served() const override { return not_served_; }
    int start_protocol_mode() const override { return start_protocol_mode_; }
    int start_operating_mode() const override { return start_operating_mode_; }

    Store* store() override { return store_.get(); }
    StoreHealth storage_health() const override {
        return store_ ? store_->health() : StoreHealth{};
    }
    const StoreRecovery& storage_recovery() const override { return recovery_; }
    size_t events_pending() const override { return pending_events_.size(); }
    uint64_t events_unrecorded() const override { return events_unrecorded_; }
    std::filesystem::path state_dir() const override {
        return store_ ? store_->dir() : std::filesystem::path();
    }
    uint64_t events_dropped() const override { return events_dropped_.load(); }
    double lag_seconds() const override { return lag_.load(); }
    ConnectionStats& connection_stats() override { return connection_stats_; }
    std::chrono::steady_clock::time_point started() const override { return started_; }
    // The site of a [fleet] meter (set by the fleet before its faces start).
    Site* site() const override { return site_; }
    void set_site(Site* site) { site_ = site; }

  protected:
    void unsubscribe(uint64_t id) override;
    void hold_snapshot(int delta) override { pins_ += delta; }

  private:
    friend class AcquisitionPool;
    // On the pool's thread: the state of the pacing set afresh, then one step
    // per pass: the commands, the block if it is due; returns when it is due next.
    void acquisition_begin();
    std::chrono::steady_clock::time_point acquisition_step();
    void publish_acquired(const MeterSnapshot& s, bool force);
    void drain_acquired_events();
    void record_events();
    void retry_power_up();
    void maybe_backup();
    bool send(const MeterCommand& command);  // false: dropped, the queue stayed full
    void wake_acquisition();
    void run_applied();                  // the completions whose tickets are applied (event loop)
    void mark_applied(uint64_t ticket);  // after the snapshot showing it is published
    bool send_to_simulator(const MeterCommand& command);  // false with no simulator
    // On the pool's thread: the simulator's state, when it changed or every 250 ms.
    void publish_sim_state(std::chrono::steady_clock::time_point now, bool force);
    void apply_command(const MeterCommand& command);

    Config config_;
    Settings settings_;
    uint64_t settings_version_ = 1;  // one more at every change of settings_
    std::unique_ptr<Store> store_;
    std::unique_ptr<SampleSource> source_;
    PanelSimulator* simulator_ = nullptr;  // source_ when it is the simulator
    // The simulator's state: written by the pool's thread, read on the loop.
    TripleBuffer<SimulatorState> sim_state_;
    uint64_t sim_state_version_ = ~uint64_t{0};
    std::chrono::steady_clock::time_point sim_state_at_{};
    // A scenario on its way to the simulator, which swaps its events with
    // these (the old ones come back here to be freed on the loop); busy from
    // the send until the swap.
    std::vector<ScenarioEvent> scenario_events_;
    std::array<char, 64> scenario_name_{};
    std::atomic<bool> scenario_busy_{false};
    std::vector<KeptLoad> kept_loads_;  // applied at construction
    std::unique_ptr<Meter> meter_;
    std::unique_ptr<SampleBlock> block_;

    SpscQueue<MeterCommand, 64> commands_;
    SpscQueue<EventRecord, 8192> events_;
    TripleBuffer<MeterSnapshot> published_;
    MeterSnapshot latest_{};
    uint64_t checkpointed_sequence_ = ~uint64_t{0};
    std::chrono::steady_clock::time_point last_checkpoint_{};
    std::chrono::steady_clock::time_point started_{};

    std::vector<std::pair<uint64_t, EventListener>> listeners_;
    uint64_t next_listener_ = 1;
    std::function<void(RestartKind)> restart_handler_;
    Site* site_ = nullptr;
    void discover_profiles();  // at construction: the Operating_Mode rules
    int start_protocol_mode_ = 4;
    int start_operating_mode_ = 1;
    int not_served_ = 0;
    std::vector<EventRecord> event_batch_;
    // Events waiting for storage to come back (bounded: the history's size).
    std::vector<EventRecord> pending_events_;
    uint64_t events_unrecorded_ = 0;
    std::chrono::steady_clock::time_point last_backup_{};
    bool stopped_ = false;  // the final checkpoint and backup are done
    StoreRecovery recovery_;
    std::array<int, kMaxPanels> power_up_{};
    std::array<bool, kMaxPanels> power_up_unsaved_{};

    // Tickets: issued on the loop, applied by the acquisition thread.
    uint64_t next_ticket_ = 0;
    std::atomic<uint64_t> applied_{0};
    struct Waiter {
        uint64_t ticket = 0;
        std::chrono::steady_clock::time_point since{};
        std::function<void()> fn;
    };
    std::vector<Waiter> waiters_;
    std::atomic<bool> waiting_{false};  // waiters_ not empty: post when a ticket is applied
    std::function<void(std::function<void()>)> poster_;
    std::atomic<bool> poster_set_{false};
    // Lives as long as the Device; posted completions hold it weakly.
    std::shared_ptr<Device*> self_ = std::make_shared<Device*>(this);
    int pins_ = 0;
    // The pool that meters this device, and the thread of it (slot) to wake.
    std::unique_ptr<AcquisitionPool> own_pool_;
    AcquisitionPool* acquisition_pool_ = nullptr;
    size_t acquisition_slot_ = 0;
    // The pacing, touched by the pool's thread only.
    std::chrono::steady_clock::time_point anchor_real_{}, last_publish_{}, due_{};
    double anchor_sim_ = 0.0;
    double acquired_speed_ = 1.0;

    std::atomic<bool> running_{false};
    std::atomic<double> speed_{1.0};
    std::atomic<double> lag_{0.0};
    std::atomic<uint64_t> events_dropped_{0};
    ConnectionStats connection_stats_;
};

}  // namespace openbcpm
