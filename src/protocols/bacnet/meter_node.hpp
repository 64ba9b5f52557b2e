// The meter as a BACnet node: the object databases of the router and panel
// devices built from the point catalogue (meter_objects.hpp) on a Device,
// the VirtualRouter with its identities (persisted once written over
// BACnet), and the hooks that carry BACnet's services to the meter: time
// synchronisation, Max_Master, ReinitializeDevice, and the over-threshold
// events that drive the Event_State of the channels' current inputs. Writes
// go through the one write path (Device::submit); the node's answer gate
// sends their answers once the meter shows them.
// Datalink-independent: the BACnet/IP face (meter_face.hpp) and the MS/TP
// face attach their datalink to router().
// Lives on the Device's event loop thread.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "model/meter_model.hpp"
#include "points/write_plan.hpp"
#include "protocols/bacnet/face.hpp"
#include "protocols/bacnet/meter_objects.hpp"
#include "protocols/bacnet/point_database.hpp"
#include "protocols/bacnet/router.hpp"

namespace openbcpm::bacnet {

// Store keys (Store::save_text) of what BACnet writes persistently:
// "bacnet.device.<d>.instance", "bacnet.device.<d>.name" (d = 0 router,
// 1.. panels) and "bacnet.device.<d>.nc.<n>.recipients" (hex of the encoded
// BACnetDestinations of Notification Class n).
std::string identity_key(size_t device, const char* what);
std::string recipients_key(size_t device, uint32_t notification_class);

// The identities written over BACnet that a store holds.
std::array<DeviceIdentityOverride, 1 + kMaxPanels> load_identity_overrides(Store* store);

// The meter's RTC (seconds since 1970) as a BACnet date and time, and back
// (nullopt when a field is unspecified or out of range).
DateTime rtc_date_time(int64_t unix_seconds);
std::optional<int64_t> rtc_seconds(const DateTime& dt);

class MeterNode {
  public:
    explicit MeterNode(MeterModel& device);
    ~MeterNode();
    MeterNode(const MeterNode&) = delete;
    MeterNode& operator=(const MeterNode&) = delete;

    VirtualRouter& router() { return *router_; }
    const RouterConfig& config() const { return config_; }
    // Device 0 is the router, 1.. the panels.
    PointDatabase& database(size_t device) { return *databases_.at(device); }
    size_t device_count() const { return databases_.size(); }

    // Puts the node's answer gate between the router and `link` (call after
    // the face attached the router to it): answers to writes wait until the
    // meter shows the write, and every request is answered from one
    // snapshot. release_link() before the link goes.
    void carry(Datalink& link);
    void release_link();

    // Also told when the router's Max_Master is written (the MS/TP face
    // follows it); the setting is written either way.
    void set_max_master_listener(std::function<void(uint8_t)> f) {
        max_master_listener_ = std::move(f);
    }

  private:
    struct Events;      // the over-threshold event listener's state
    class Gate;         // the answer gate (carry())
    class PanelSource;  // a panel's present values and writes

    void build_databases();
    // One write through the one write path; its ticket holds the answer.
    points::SubmitResult submit(const points::WriteItem& item);
    // Stored before they take effect; false: storage failed, the write is refused.
    bool persist_identity(size_t device, uint32_t instance, const std::string& name);
    bool persist_recipients(size_t device, const NotificationClassDef& nc);

    MeterModel& device_;
    RouterConfig config_;
    std::vector<std::unique_ptr<PanelSource>> sources_;  // before databases_: outlive them
    std::vector<std::unique_ptr<PointDatabase>> databases_;
    std::unique_ptr<Gate> gate_;  // before router_: outlives the router attached to it
    std::unique_ptr<VirtualRouter> router_;
    std::shared_ptr<Events> events_;
    MeterModel::Subscription subscription_;  // after events_: released before it
    std::function<void(uint8_t)> max_master_listener_;
    // The ticket of the write the request being handled made: the next
    // frame the router sends (its answer) waits for it.
    uint64_t pending_ticket_ = 0;
};

}  // namespace openbcpm::bacnet
