// One running meter: the acquisition thread (source -> metering) and the model
// the protocol faces use on the event loop thread (settings, the latest
// snapshot, event notifications, commands). Faces never compute: they read
// the snapshot and submit validated writes here.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "app/connection_stats.hpp"
#include "config/config.hpp"
#include "core/spsc_queue.hpp"
#include "core/triple_buffer.hpp"
#include "metering/meter.hpp"
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

enum class RtcSource : uint8_t { Bacnet = 0, Modbus = 1, Other = 2 };

// A System Restart (GUI, BACnet ReinitializeDevice warmstart) keeps the RTC
// running; a cold start (ReinitializeDevice coldstart) starts it afresh, as a
// power cycle does.
enum class RestartKind : uint8_t { Warm, Cold };

// The refusal of a profile change while Operating_Mode is Locked.
inline constexpr std::string_view kLockedProfilesMessage =
    "Operating_Mode is Locked, which disables profile changes: set Operating_Mode to 1 "
    "(Discovery) first";

// The protocol families whose face serves the panels as the guide's profiles.
enum class FaceProtocol : uint8_t { Bacnet, Snmp, Modbus };
// The primary protocol of a Protocol_Mode: 1, 2 BACnet; 3 SNMP; 4 Modbus.
FaceProtocol primary_protocol(int protocol_mode);
std::string_view primary_protocol_name(int protocol_mode);

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
    // The newest snapshot (refreshes from the acquisition thread, unless a
    // SnapshotPin holds it). The reference is good until the next call.
    const MeterSnapshot& snapshot();
    // While a pin lives, snapshot() answers from the snapshot it was taken
    // at: one request sees one metering window however many values it reads.
    class SnapshotPin {
      public:
        SnapshotPin() = default;
        explicit SnapshotPin(Device* d) : device_(d) {
            if (device_) ++device_->pins_;
        }
        SnapshotPin(SnapshotPin&& o) noexcept : device_(std::exchange(o.device_, nullptr)) {}
        SnapshotPin& operator=(SnapshotPin&&) = delete;
        SnapshotPin(const SnapshotPin&) = delete;
        ~SnapshotPin() {
            if (device_) --device_->pins_;
        }

      private:
        Device* device_ = nullptr;
    };
    // Takes the newest snapshot and holds it until the pin goes.
    [[nodiscard]] SnapshotPin pin_snapshot() {
        snapshot();
        return SnapshotPin(this);
    }

    // --- The one write path (src/points/write_plan.hpp) ---
    // Validates the request once, stores its settings and counters in one
    // transaction (a refusal or a storage failure changes nothing), applies
    // them, and queues its meter commands (resets, latch clears, RTC,
    // metering settings) with a ticket. The face answers once
    // when_applied(ticket) has run.
    points::SubmitResult submit(const points::WriteRequest& request);
    // Runs `fn` on the event loop once a published snapshot includes the
    // commands of `ticket` (at once, posted, when it does already). Never blocks.
    void when_applied(uint64_t ticket, std::function<void()> fn);
    bool applied(uint64_t ticket) const {
        return ticket <= applied_.load(std::memory_order_acquire);
    }
    // How completions reach the event loop (Faces and each face set it;
    // the first one stays). Without it they run from poll().
    void set_loop_poster(std::function<void(std::function<void()>)> post);

    // Settings alone, by their table entries (config tools, the BACnet
    // router's Max_Master): submit() without a ticket to wait for.
    WriteResult write_setting(const SettingDef& def, const SettingValue& value);
    WriteResult write_setting(std::string_view key, const SettingValue& value);
    WriteResult write_settings(
        const std::vector<std::pair<const SettingDef*, SettingValue>>& batch);
    // BACnet time synchronisation: sets the RTC when `source` has write
    // access (RTC_Control); false otherwise.
    bool set_rtc(int64_t unix_seconds, RtcSource source);
    int power_up_counter(int panel) const;

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
    void set_restart_handler(std::function<void(RestartKind)> handler) {
        restart_handler_ = std::move(handler);
    }
    bool request_restart(RestartKind kind = RestartKind::Warm) {
        if (!restart_handler_) return false;
        restart_handler_(kind);
        return true;
    }

    // --- Active profiles (Operating_Mode), fixed for this start ---
    // Whether `protocol`'s face serves `panel`: false only for a panel whose
    // profile was removed while Operating_Mode is Locked, on the face of the
    // primary protocol of the Protocol_Mode this start runs. In Discovery
    // mode the removed set is cleared at start and every panel is served.
    bool serves_panel(FaceProtocol protocol, int panel) const {
        if (panel < 1 || panel > settings_.model.panels) return false;
        if (protocol != primary_protocol(start_protocol_mode_)) return true;
        return (not_served_ & (1 << (panel - 1))) == 0;
    }
    // Bit p-1: panel p is not served on the primary protocol since this start.
    int profiles_not_served() const { return not_served_; }
    // The Protocol_Mode and Operating_Mode this start runs with.
    int start_protocol_mode() const { return start_protocol_mode_; }
    int start_operating_mode() const { return start_operating_mode_; }

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
    void wake_acquisition();
    void run_applied();                  // the completions whose tickets are applied (event loop)
    void mark_applied(uint64_t ticket);  // after the snapshot showing it is published
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
    std::function<void(RestartKind)> restart_handler_;
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
    // The acquisition thread waits here between blocks; send() wakes it.
    std::mutex wake_mutex_;
    std::condition_variable wake_;

    std::thread thread_;
    std::atomic<bool> running_{false};
    std::atomic<double> speed_{1.0};
    std::atomic<double> lag_{0.0};
    std::atomic<uint64_t> events_dropped_{0};
    ConnectionStats connection_stats_;
};

}  // namespace openbcpm
