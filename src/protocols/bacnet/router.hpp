// The meter's BACnet node: a virtual router with its own Device object on the
// attached network, and one Device per panel on the internal (virtual)
// network behind it. Network layer (routing, network messages), application
// layer (services per device, segmentation of responses, DCC, COV
// subscriptions, event notifications, confirmed requests it initiates).
// Sans-I/O: NPDUs come in through receive() and go out through the
// Datalink; time comes in through the `now` arguments and tick().
// One class, implemented along its seams: router.cpp (lifetime),
// router_network.cpp (network layer), router_transactions.cpp (confirmed
// requests, segmentation, timers), and a file per family of services:
// router_discovery, router_read, router_write, router_cov,
// router_device_management, router_events (.cpp); device_object.cpp holds
// the Device objects.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocols/bacnet/apdu.hpp"
#include "protocols/bacnet/datalink.hpp"
#include "protocols/bacnet/npdu.hpp"
#include "protocols/bacnet/object_database.hpp"
#include "protocols/bacnet/services.hpp"

namespace openbcpm::bacnet {

using Clock = std::chrono::steady_clock;

inline constexpr uint16_t kVendorIdentifier = 335;  // Schneider Electric
inline constexpr size_t kMaxApdu = 1476;

// Where a request came from and where its answer goes: the datalink station
// and, for a requester on another network, its SNET/SADR.
struct Peer {
    LinkAddress link;  // empty: broadcast on the datalink
    std::optional<NetAddress> remote;
    bool operator==(const Peer&) const = default;
    auto operator<=>(const Peer&) const = default;
};

struct DeviceConfig {
    uint32_t instance = 0;
    std::string name;
    std::string description;
    std::string location;
    std::string model_name;
    std::string firmware_revision;
    std::string application_software_version;
    uint8_t mac = 0;                     // MAC on the virtual network (panels)
    ObjectDatabase* database = nullptr;  // may be null: no objects
    // False: the device is absent from the virtual network (a panel whose
    // profile was removed in Locked mode): nothing reaches it, it announces nothing.
    bool served = true;
};

struct RouterConfig {
    uint16_t virtual_network = 50;
    DeviceConfig router;               // the virtual router's own device
    std::vector<DeviceConfig> panels;  // devices on the virtual network
    std::string password;              // DCC / ReinitializeDevice; empty = none
    uint16_t apdu_timeout_ms = 3000;
    uint16_t segment_timeout_ms = 2000;
    uint8_t apdu_retries = 3;
    uint8_t proposed_window = 16;  // for segmented responses
    uint8_t max_master = 127;      // router device (MS/TP)
    uint8_t max_info_frames = 1;
    size_t max_cov_subscriptions = 128;  // per device
    int utc_offset_minutes = 0;          // BACnet sign: UTC = local + offset
    std::chrono::milliseconds cov_scan{500};
};

struct RouterHooks {
    // Object_Identifier or Object_Name of a device was written (device 0 is
    // the router, 1.. the panels): persist them.
    std::function<void(size_t device, uint32_t instance, const std::string& name)> identity_changed;
    // Called before such a write, or one of Max_Master (device 0, instance and
    // name unchanged then), takes effect: store it; false refuses the write
    // (error class resources) and nothing changes. Null: nothing to store.
    std::function<bool(size_t device, uint32_t instance, const std::string& name)> persist_identity;
    std::function<bool(uint8_t)> persist_max_master;
    // TimeSynchronization (utc = false) or UTCTimeSynchronization (utc = true).
    std::function<void(const DateTime& when, bool utc)> time_synchronized;
    std::function<void(uint8_t)> max_master_changed;
    // ReinitializeDevice accepted (password checked); return false to refuse.
    std::function<bool(ReinitializedState)> reinitialize;
    // The local date and time (Local_Date, Local_Time, event time stamps).
    std::function<DateTime()> local_time;
    // The monotonic clock for NPDUs arriving through the datalink (tests
    // substitute their own); steady_clock when empty.
    std::function<Clock::time_point()> clock;
};

struct RouterStats {
    uint64_t npdus_in = 0, npdus_out = 0, dropped = 0, rejects = 0, aborts = 0;
    uint64_t segmented_responses = 0, notifications = 0;
};

class VirtualRouter {
  public:
    VirtualRouter(RouterConfig config, RouterHooks hooks);
    ~VirtualRouter();
    VirtualRouter(const VirtualRouter&) = delete;
    VirtualRouter& operator=(const VirtualRouter&) = delete;

    // The network port; the router installs itself as the datalink's receiver.
    void attach(Datalink& link);
    void detach();
    // Announces the router (I-Am-Router-To-Network) and every device (I-Am).
    void start(Clock::time_point now);
    // Timers: DCC durations, COV lifetimes and checks, transaction timeouts.
    void tick(Clock::time_point now);
    void receive(std::span<const uint8_t> npdu, const LinkAddress& from, bool broadcast,
                 Clock::time_point now);

    // --- Introspection (tests, status pages) ---
    size_t device_count() const { return devices_.size(); }
    uint32_t device_instance(size_t d) const { return devices_.at(d).instance; }
    const std::string& device_name(size_t d) const { return devices_.at(d).name; }
    EnableDisable communication_state(size_t d) const { return devices_.at(d).dcc; }
    size_t cov_subscriptions(size_t d) const { return devices_.at(d).subscriptions.size(); }
    size_t active_transactions() const { return segmented_.size() + pending_.size(); }
    uint16_t virtual_network() const { return config_.virtual_network; }
    const RouterStats& stats() const { return stats_; }

  private:
    struct CovSubscription {
        Peer peer;
        uint32_t process_id = 0;
        ObjectId object;
        bool confirmed = false;
        uint32_t lifetime = 0;  // seconds, 0 = indefinite
        Clock::time_point expires{};
        std::optional<CovValue> last;
    };
    struct DeviceState {
        DeviceConfig config;
        uint32_t instance = 0;
        std::string name;
        EnableDisable dcc = EnableDisable::Enable;
        std::optional<Clock::time_point> dcc_until;
        std::vector<CovSubscription> subscriptions;
        uint32_t database_revision = 1;
    };
    // A complex ack being sent in segments (clause 5.4.5, SEGMENTED_RESPONSE).
    struct SegmentedResponse {
        size_t device = 0;
        Peer peer;
        uint8_t invoke_id = 0;
        uint8_t service = 0;
        std::vector<uint8_t> data;
        size_t segment_size = 0;
        size_t count = 0;
        size_t initial = 0;  // first unacknowledged segment
        size_t window = 1;   // actual window size
        int retries = 0;
        Clock::time_point deadline{};
    };
    // A confirmed request this node initiated (notifications).
    struct PendingRequest {
        Peer peer;
        uint8_t invoke_id = 0;
        std::vector<uint8_t> npdu;
        int retries = 0;
        Clock::time_point deadline{};
    };
    // A notification waiting for the address of a recipient device.
    struct Unbound {
        size_t device = 0;
        uint32_t recipient = 0;
        std::vector<uint8_t> apdu;
        bool confirmed = false;
        Clock::time_point expires{};
    };
    // The answer to a confirmed request (send_response encodes it).
    struct Response {
        enum class Kind : uint8_t { None, Simple, Complex, Error, ErrorRaw, Reject, Abort };
        Kind kind = Kind::None;
        std::vector<uint8_t> data;
        ErrorPair error{};
        RejectReason reject = RejectReason::Other;
        AbortReason abort = AbortReason::Other;

        static Response simple() { return {Kind::Simple, {}, {}, {}, {}}; }
        static Response complex(std::vector<uint8_t> d) {
            return {Kind::Complex, std::move(d), {}, {}, {}};
        }
        static Response error_of(ErrorPair e) { return {Kind::Error, {}, e, {}, {}}; }
        static Response error_raw(std::vector<uint8_t> d) {
            return {Kind::ErrorRaw, std::move(d), {}, {}, {}};
        }
        static Response reject_of(RejectReason r) { return {Kind::Reject, {}, {}, r, {}}; }
        static Response abort_of(AbortReason r) { return {Kind::Abort, {}, {}, {}, r}; }
    };
    // All, Required, Optional: names of groups of properties, not of one.
    static bool is_special(PropertyId p) {
        return p == PropertyId::All || p == PropertyId::Required || p == PropertyId::Optional;
    }

    void handle_network_message(const Npdu& n, const Peer& from);
    void send_network_message(const Peer& to, const NetworkMessageBody& m,
                              const std::optional<NetAddress>& dnet = {});
    void deliver_apdu(std::span<const size_t> targets, std::span<const uint8_t> apdu,
                      const Peer& from, bool link_broadcast, bool network_broadcast);
    void handle_confirmed(size_t d, const Apdu& a, const Peer& from);
    void handle_unconfirmed(size_t d, const Apdu& a, const Peer& from, bool broadcast);
    // I-Am: the Device_Address_Binding of its device (and notifications waiting for it).
    void learn_binding(const Apdu& a, const Peer& from);
    // (UTC)TimeSynchronization to the targets: the one clock, set once.
    void synchronize_time(std::span<const size_t> targets, const Apdu& a);
    Response dispatch_confirmed(size_t d, const Apdu& a, const Peer& from);
    void send_response(size_t d, const Apdu& request, const Peer& to, const Response& r);
    void send_segments(SegmentedResponse& s, size_t first, size_t count);
    void handle_segment_ack(const Apdu& a, const Peer& from);
    void handle_reply(const Apdu& a, const Peer& from);

    // Sends an APDU from device d; `to.link` empty = broadcast.
    void send_apdu(size_t d, const Peer& to, std::span<const uint8_t> apdu, bool expecting_reply);
    void send_confirmed(size_t d, const Peer& to, uint8_t service, std::span<const uint8_t> data);
    bool may_initiate(size_t d) const { return devices_[d].dcc == EnableDisable::Enable; }
    void send_i_am(size_t d, const Peer& to);

    // Services.
    // Appends the value (of the index asked) to `w`, or answers the error
    // and writes nothing.
    std::optional<ErrorPair> read_value(size_t d, ObjectId o, const PropertyReference& ref,
                                        Writer& w);
    ReadOutcome read_whole(size_t d, ObjectId o, PropertyId p);
    std::vector<PropertyInfo> properties_of(size_t d, ObjectId o);
    bool object_exists(size_t d, ObjectId o) const;
    ObjectId resolve(size_t d, ObjectId o) const;  // device wildcard instance
    WriteOutcome write_value(size_t d, ObjectId o, const PropertyValue& v);
    std::vector<PropertyInfo> device_properties(size_t d) const;
    ReadOutcome device_read(size_t d, PropertyId p);
    WriteOutcome device_write(size_t d, const PropertyValue& v);
    Response read_property(size_t d, std::span<const uint8_t> data);
    Response read_property_multiple(size_t d, std::span<const uint8_t> data);
    Response write_property(size_t d, std::span<const uint8_t> data);
    Response write_property_multiple(size_t d, std::span<const uint8_t> data);
    Response subscribe_cov(size_t d, std::span<const uint8_t> data, const Peer& from);
    Response device_communication_control(size_t d, std::span<const uint8_t> data);
    Response reinitialize_device(size_t d, std::span<const uint8_t> data);
    Response acknowledge_alarm(size_t d, std::span<const uint8_t> data);
    Response get_event_information(size_t d, std::span<const uint8_t> data);
    Response list_element(size_t d, std::span<const uint8_t> data, bool add);
    void who_has(size_t d, std::span<const uint8_t> data, const Peer& from, bool broadcast);

    // COV and events.
    void send_cov_notification(size_t d, CovSubscription& s, const CovValue& v);
    void scan_cov(size_t d);
    void on_event_report(size_t d, const EventReport& r);
    void deliver_to_recipient(size_t d, const Recipient& r, bool confirmed, uint8_t service,
                              std::span<const uint8_t> data);
    void flush_unbound(uint32_t instance);
    TimeStamp now_stamp() const;

    RouterConfig config_;
    RouterHooks hooks_;
    Datalink* link_ = nullptr;
    std::vector<DeviceState> devices_;
    std::vector<SegmentedResponse> segmented_;
    std::vector<PendingRequest> pending_;
    std::vector<Unbound> unbound_;
    std::map<uint32_t, Peer> bindings_;  // Device_Address_Binding, learnt from I-Am
    uint8_t next_invoke_id_ = 0;
    Clock::time_point now_{};
    Clock::time_point next_cov_scan_{};
    RouterStats stats_;
    std::vector<uint8_t> deferred_;  // scratch
    // Buffers of the request being answered, kept with their capacity so that
    // answering allocates nothing once warm. A user takes one (take()) and
    // gives it back (give_back()): a nested use finds it gone and makes its own.
    std::vector<uint8_t> response_buffer_;  // Response::data of read services
    std::vector<uint8_t> apdu_buffer_;      // send_response
    std::vector<uint8_t> npdu_buffer_;      // send_apdu
    std::vector<size_t> targets_;           // receive
    std::vector<ReadAccessSpec> rpm_specs_;
    template <class T>
    static std::vector<T> take(std::vector<T>& buffer) {
        std::vector<T> out = std::move(buffer);
        out.clear();
        return out;
    }
    template <class T>
    static void give_back(std::vector<T>& buffer, std::vector<T>&& used) {
        if (used.capacity() > buffer.capacity()) buffer = std::move(used);
    }
    // Work to run after the current response went out (initial COV
    // notification, acknowledgement notifications).
    std::vector<std::function<void()>> after_response_;
};

}  // namespace openbcpm::bacnet
