// The meter as the protocol faces see it: the newest snapshot, the settings,
// the one write path, event notifications, the simulator's controls and the
// state the diagnostics report. Faces depend on this interface only; the
// Device (src/device) implements it and src/app wires the two together.
//
// Everything here is called on the event loop thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "core/settings.hpp"
#include "events/event_engine.hpp"
#include "metering/snapshot.hpp"
#include "model/connection_stats.hpp"
#include "points/write_plan.hpp"
#include "sources/simulator_state.hpp"
#include "storage/store.hpp"

namespace openbcpm {

// Who sets the RTC: it is written only by the source RTC_Control allows.
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
constexpr FaceProtocol primary_protocol(int protocol_mode) {
    switch (protocol_mode) {
        case 1:
        case 2:
            return FaceProtocol::Bacnet;
        case 3:
            return FaceProtocol::Snmp;
        default:
            return FaceProtocol::Modbus;
    }
}
constexpr std::string_view primary_protocol_name(int protocol_mode) {
    switch (protocol_mode) {
        case 1:
            return "BACnet MS/TP";
        case 2:
            return "BACnet IP";
        case 3:
            return "SNMP";
        default:
            return "Modbus";
    }
}

class Site;  // model/site.hpp

class MeterModel {
  public:
    MeterModel() = default;
    MeterModel(const MeterModel&) = delete;
    MeterModel& operator=(const MeterModel&) = delete;
    virtual ~MeterModel() = default;

    virtual const Settings& settings() const = 0;
    // Counts the changes of settings(): what a face derived from them holds
    // while the count stays (comparing whole Settings per request costs more
    // than the request). 0: not counted, compare the settings themselves.
    virtual uint64_t settings_version() const { return 0; }
    virtual const Config& config() const = 0;

    // --- Reads ---
    // The newest snapshot (unless a SnapshotPin holds one). The reference is
    // good until the next call.
    virtual const MeterSnapshot& snapshot() = 0;
    // While a pin lives, snapshot() answers from the snapshot it was taken
    // at: one request sees one metering window however many values it reads.
    class SnapshotPin {
      public:
        SnapshotPin() = default;
        explicit SnapshotPin(MeterModel* m) : model_(m) {
            if (model_) model_->hold_snapshot(+1);
        }
        SnapshotPin(SnapshotPin&& o) noexcept : model_(std::exchange(o.model_, nullptr)) {}
        SnapshotPin& operator=(SnapshotPin&&) = delete;
        SnapshotPin(const SnapshotPin&) = delete;
        ~SnapshotPin() {
            if (model_) model_->hold_snapshot(-1);
        }

      private:
        MeterModel* model_ = nullptr;
    };
    // Takes the newest snapshot and holds it until the pin goes.
    [[nodiscard]] SnapshotPin pin_snapshot() {
        snapshot();
        return SnapshotPin(this);
    }
    virtual int power_up_counter(int panel) const = 0;

    // --- The one write path (src/points/write_plan.hpp) ---
    // Validates once, stores in one transaction (a refusal or a storage
    // failure changes nothing), applies, and queues the meter commands with a
    // ticket. The face answers once when_applied(ticket) has run.
    virtual points::SubmitResult submit(const points::WriteRequest& request) = 0;
    // Runs `fn` on the event loop once a published snapshot includes the
    // commands of `ticket` (posted at once when it does already). Never blocks.
    virtual void when_applied(uint64_t ticket, std::function<void()> fn) = 0;
    virtual bool applied(uint64_t ticket) const = 0;
    // How completions reach the event loop (the first one set stays).
    virtual void set_loop_poster(std::function<void(std::function<void()>)> post) = 0;
    // Settings alone, by their table entries: submit() without a ticket.
    virtual WriteResult write_setting(const SettingDef& def, const SettingValue& value) = 0;
    virtual WriteResult write_setting(std::string_view key, const SettingValue& value) = 0;
    virtual WriteResult write_settings(
        const std::vector<std::pair<const SettingDef*, SettingValue>>& batch) = 0;
    // BACnet time synchronisation: sets the RTC when `source` may (RTC_Control).
    virtual bool set_rtc(int64_t unix_seconds, RtcSource source) = 0;

    // --- The simulator's controls (false with a replay source) ---
    virtual bool simulating() const = 0;
    virtual bool sim_set_load(int panel, int channel, double amps, std::optional<double> pf) = 0;
    virtual bool sim_trip(int panel, int channel, bool tripped) = 0;
    virtual bool sim_ramp(int panel, int channel, double amps, double seconds) = 0;
    virtual bool sim_voltage(int phase_mask, double magnitude, double seconds) = 0;
    virtual bool sim_frequency(double hz) = 0;
    virtual bool sim_speed(double speed) = 0;
    virtual double speed() const = 0;
    // The simulator's own state (nullopt with a replay source): a copy the
    // acquisition thread took when it last changed, or within the last 250 ms.
    virtual std::optional<SimulatorState> sim_state() { return std::nullopt; }
    // Runs `events` (times in seconds from now) as the scenario `name`, in
    // place of the running one; no events stop it. False without a simulator
    // or while the previous one is still being handed over.
    virtual bool sim_scenario(std::vector<ScenarioEvent> /*events*/, const std::string& /*name*/) {
        return false;
    }
    // The loads kept across restarts (device/kept_loads.hpp), and replacing
    // them (stored at once; false, with why, without a state directory or
    // when the file cannot be written).
    virtual std::vector<KeptLoad> sim_kept_loads() const { return {}; }
    virtual bool sim_keep_loads(const std::vector<KeptLoad>& /*loads*/, std::string& why) {
        why = "no simulator state here";
        return false;
    }

    // --- Events, delivered on the event loop while the subscription lives ---
    using EventListener = std::function<void(const EventRecord&)>;
    class Subscription {
      public:
        Subscription() = default;
        Subscription(MeterModel* model, uint64_t id) : model_(model), id_(id) {}
        Subscription(Subscription&& o) noexcept
            : model_(std::exchange(o.model_, nullptr)), id_(o.id_) {}
        Subscription& operator=(Subscription&& o) noexcept {
            if (this != &o) {
                reset();
                model_ = std::exchange(o.model_, nullptr);
                id_ = o.id_;
            }
            return *this;
        }
        Subscription(const Subscription&) = delete;
        Subscription& operator=(const Subscription&) = delete;
        ~Subscription() { reset(); }
        void reset() {
            if (model_) model_->unsubscribe(id_);
            model_ = nullptr;
        }

      private:
        MeterModel* model_ = nullptr;
        uint64_t id_ = 0;
    };
    [[nodiscard]] virtual Subscription subscribe(EventListener listener) = 0;

    // System Restart: false when nothing can carry it out (no run loop).
    virtual bool request_restart(RestartKind kind) = 0;

    // --- Active profiles (Operating_Mode), fixed for this start ---
    // Whether `protocol`'s face serves `panel`: false only for a panel whose
    // profile was removed while Operating_Mode is Locked, on the face of the
    // primary protocol of the Protocol_Mode this start runs. In Discovery
    // mode the removed set is cleared at start and every panel is served.
    virtual bool serves_panel(FaceProtocol protocol, int panel) const = 0;
    // Bit p-1: panel p is not served on the primary protocol since this start.
    virtual int profiles_not_served() const = 0;
    // The Protocol_Mode and Operating_Mode this start runs with.
    virtual int start_protocol_mode() const = 0;
    virtual int start_operating_mode() const = 0;

    // --- What diagnostics report ---
    virtual Store* store() = 0;  // null without a state directory
    virtual StoreHealth storage_health() const = 0;
    virtual const StoreRecovery& storage_recovery() const = 0;
    virtual size_t events_pending() const = 0;
    virtual uint64_t events_unrecorded() const = 0;
    virtual uint64_t events_dropped() const = 0;
    // Where face files live (bdt.ini, certificates); empty without a state directory.
    virtual std::filesystem::path state_dir() const = 0;
    virtual double lag_seconds() const = 0;
    virtual ConnectionStats& connection_stats() = 0;
    virtual std::chrono::steady_clock::time_point started() const = 0;

    // --- A site (model/site.hpp) ---
    // The site this meter is part of (a [fleet] meter), null for a single meter.
    virtual Site* site() const { return nullptr; }

  protected:
    virtual void unsubscribe(uint64_t id) = 0;
    virtual void hold_snapshot(int delta) = 0;  // +1 a pin taken, -1 released
};

}  // namespace openbcpm
