// One running meter: the acquisition thread (source -> metering) and the model
// the protocol faces use on the event loop thread (settings, the latest
// snapshot, event notifications, commands). Faces never compute: they read
// the snapshot and submit validated writes here.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "app/connection_stats.hpp"
#include "config/config.hpp"
#include "core/spsc_queue.hpp"
#include "core/triple_buffer.hpp"
#include "metering/meter.hpp"
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
};

enum class RtcSource : uint8_t { Bacnet = 0, Modbus = 1, Other = 2 };

class Device {
  public:
    // Opens storage (when state_dir is set), merges settings, restores NV
    // state and builds the source. Does not start acquisition.
    Device(const Config& config, const std::optional<std::filesystem::path>& state_dir);
    ~Device();
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    void start();  // starts the acquisition thread
    void stop();   // stops it and writes a final checkpoint
    // Meters `seconds` of source time on the calling thread as fast as it can
    // (for `simulate` and tests); the acquisition thread must not be running.
    // `progress`, when given, hears the metered seconds done now and then.
    void run_inline(double seconds, const std::function<void(double)>& progress = {});

    // --- The model, for the event loop thread ---
    const Settings& settings() const { return settings_; }
    const Config& config() const { return config_; }
    // The newest snapshot (refreshes from the acquisition thread).
    const MeterSnapshot& snapshot();
    // Validates, persists, applies; pushes metering changes to the meter.
    WriteResult write_setting(const SettingDef& def, const SettingValue& value);
    WriteResult write_setting(std::string_view key, const SettingValue& value);
    // Validates the whole batch once on a copy of the settings, stores its NV
    // values in one transaction, then applies the copy: all or nothing. A
    // batch that cannot be stored is refused (WriteError::StorageFailed) and
    // changes nothing.
    WriteResult write_settings(
        const std::vector<std::pair<const SettingDef*, SettingValue>>& batch);
    void reset(const ResetCommand& command);
    void clear_latches(const LatchClearCommand& command);
    // Sets the RTC when `source` has write access (RTC_Control); false otherwise.
    bool set_rtc(int64_t unix_seconds, RtcSource source);
    int power_up_counter(int panel) const;
    // Stored first, then applied (StorageFailed: unchanged).
    WriteResult set_power_up_counter(int panel, int value);

    // Simulator control (no effect on a replay source; returns false then).
    bool simulating() const { return simulator_ != nullptr; }
    bool sim_set_load(int panel, int channel, double amps, std::optional<double> pf);
    bool sim_trip(int panel, int channel, bool tripped);
    bool sim_ramp(int panel, int channel, double amps, double seconds);
    bool sim_voltage(int phase_mask, double magnitude, double seconds);
    bool sim_frequency(double hz);
    bool sim_speed(double speed);
    double speed() const { return speed_.load(); }

    // Event changes, delivered on the event loop thread by poll(), for as long as
    // the returned subscription lives (a face keeps it as a member).
    using EventListener = std::function<void(const EventRecord&)>;
    class Subscription {
      public:
        Subscription() = default;
        Subscription(Device* device, uint64_t id) : device_(device), id_(id) {}
        Subscription(Subscription&& o) noexcept
            : device_(std::exchange(o.device_, nullptr)), id_(o.id_) {}
        Subscription& operator=(Subscription&& o) noexcept {
            if (this != &o) {
                reset();
                device_ = std::exchange(o.device_, nullptr);
                id_ = o.id_;
            }
            return *this;
        }
        Subscription(const Subscription&) = delete;
        Subscription& operator=(const Subscription&) = delete;
        ~Subscription() { reset(); }
        void reset() {
            if (device_) device_->unsubscribe(id_);
            device_ = nullptr;
        }

      private:
        Device* device_ = nullptr;
        uint64_t id_ = 0;
    };
    [[nodiscard]] Subscription subscribe(EventListener listener);
    // Moves events to storage and listeners; checkpoints when due. Call often.
    void poll();
    // Writes energy/maxima/NV counters now.
    void checkpoint();

    // System Restart (the GUI's button): re-initialises the meter in process.
    // Volatile state resets, NV state stays, the faces rebind with the stored
    // settings. The handler is installed by the run command; the request is
    // carried out on the event loop after the caller's handler returns.
    void set_restart_handler(std::function<void()> handler) {
        restart_handler_ = std::move(handler);
    }
    bool request_restart() {
        if (!restart_handler_) return false;
        restart_handler_();
        return true;
    }

    Store* store() { return store_.get(); }
    // Storage as the faces report it: whether writes reach the disk, and what
    // opening the store found (a restore). Both empty without a state directory.
    StoreHealth storage_health() const { return store_ ? store_->health() : StoreHealth{}; }
    const StoreRecovery& storage_recovery() const { return recovery_; }
    // Events recorded while storage failed that wait for it, and those dropped.
    size_t events_pending() const { return pending_events_.size(); }
    uint64_t events_unrecorded() const { return events_unrecorded_; }
    // Where face files live (bdt.ini, certificates); empty without a state directory.
    std::filesystem::path state_dir() const {
        return store_ ? store_->dir() : std::filesystem::path();
    }
    uint64_t events_dropped() const { return events_dropped_.load(); }
    double lag_seconds() const { return lag_.load(); }
    // The stream faces' connection counters (event loop thread).
    ConnectionStats& connection_stats() { return connection_stats_; }
    std::chrono::steady_clock::time_point started() const { return started_; }

  private:
    void acquisition_loop();
    void record_events();
    void retry_power_up();
    void maybe_backup();
    void send(const MeterCommand& command);
    bool send_to_simulator(const MeterCommand& command);  // false with no simulator
    void apply_command(const MeterCommand& command);

    Config config_;
    Settings settings_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<SampleSource> source_;
    PanelSimulator* simulator_ = nullptr;  // source_ when it is the simulator
    std::unique_ptr<Meter> meter_;
    std::unique_ptr<SampleBlock> block_;

    SpscQueue<MeterCommand, 64> commands_;
    SpscQueue<EventRecord, 8192> events_;
    TripleBuffer<MeterSnapshot> published_;
    MeterSnapshot latest_{};
    uint64_t checkpointed_sequence_ = ~uint64_t{0};
    std::chrono::steady_clock::time_point last_checkpoint_{};
    std::chrono::steady_clock::time_point started_{};

    void unsubscribe(uint64_t id);
    std::vector<std::pair<uint64_t, EventListener>> listeners_;
    uint64_t next_listener_ = 1;
    std::function<void()> restart_handler_;
    std::vector<EventRecord> event_batch_;
    // Events waiting for storage to come back (bounded: the history's size).
    std::vector<EventRecord> pending_events_;
    uint64_t events_unrecorded_ = 0;
    std::chrono::steady_clock::time_point last_backup_{};
    bool stopped_ = false;  // the final checkpoint and backup are done
    StoreRecovery recovery_;
    std::array<int, kMaxPanels> power_up_{};
    std::array<bool, kMaxPanels> power_up_unsaved_{};

    std::thread thread_;
    std::atomic<bool> running_{false};
    std::atomic<double> speed_{1.0};
    std::atomic<double> lag_{0.0};
    std::atomic<uint64_t> events_dropped_{0};
    ConnectionStats connection_stats_;
};

}  // namespace openbcpm
