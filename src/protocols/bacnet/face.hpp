// The BACnet/IP face: a station on the shared UDP port (BipPort) carrying
// the BipLink (BVLL, BBMD) under the VirtualRouter. Also the helpers that
// derive the router's configuration from the meter's settings and load
// bdt.ini.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/settings.hpp"
#include "model/face.hpp"
#include "protocols/bacnet/bip_link.hpp"
#include "protocols/bacnet/bip_port.hpp"
#include "protocols/bacnet/router.hpp"

namespace openbcpm::bacnet {

struct BacnetIpOptions {
    std::string address = "127.0.0.1";  // GatewaySettings::ip_address
    uint16_t port = 47808;              // GatewaySettings::bacnet_ip_port
    std::string netmask = "255.255.255.0";
    bool bbmd = false;          // GatewaySettings::bbmd_enable
    bool udp_gso = false;       // GatewaySettings::bacnet_udp_gso
    std::vector<BdtEntry> bdt;  // from bdt.ini; empty: this station alone
    // Why bdt.ini was not used (missing, unreadable, malformed); empty when it was.
    std::string bdt_problem;
    std::chrono::milliseconds tick{100};
    // Called on every tick before the router's timers (e.g. to run
    // PointDatabase::evaluate with the meter's clock).
    std::function<void(Clock::time_point)> on_tick;
};

class BacnetIpFace : public Face {
  public:
    BacnetIpFace(boost::asio::io_context& io, VirtualRouter& router, BacnetIpOptions options);
    ~BacnetIpFace() override;
    std::string name() const override { return "bacnet-ip"; }
    // Joins the UDP port (throws std::runtime_error when the address is not
    // this host's or the port cannot be bound), attaches the router,
    // announces it and its devices.
    void start() override;
    void stop() override;

    uint16_t local_port() const;  // the bound port (useful with port 0)
    BipLink* link() { return link_.get(); }
    const BipStation& station() const { return station_; }
    // Datagrams dropped because the socket's send buffer was full.
    uint64_t send_dropped() const { return send_dropped_; }
    // What is wrong but did not stop the face (a BBMD without its bdt.ini, a
    // netmask that differs from the interface's), for the log and diagnostics.
    const std::vector<std::string>& warnings() const { return warnings_; }

  private:
    void close() noexcept;  // stop() without virtual dispatch (the destructor's)
    void schedule_tick();
    void report_send_drops(Clock::time_point now);

    boost::asio::io_context& io_;
    VirtualRouter& router_;
    BacnetIpOptions options_;
    boost::asio::steady_timer timer_;
    std::shared_ptr<BipPort> port_;
    size_t station_id_ = 0;
    BipStation station_;
    std::unique_ptr<BipLink> link_;
    std::vector<std::string> warnings_;
    uint64_t send_dropped_ = 0, send_drops_reported_ = 0;
    Clock::time_point next_drop_report_{};
    bool running_ = false;
};

// Reads bdt.ini; throws std::runtime_error with the file's problem (line,
// reason) when it is malformed or missing.
std::vector<BdtEntry> load_bdt_file(const std::filesystem::path& path);

// Options from the gateway settings; bdt.ini is read from `state_dir` when
// BBMD support is on. A missing or unusable file does not stop the meter:
// the options say why (bdt_problem) and the BDT is the meter alone.
BacnetIpOptions ip_options_from_settings(const GatewaySettings& g,
                                         const std::filesystem::path& state_dir);

// Identities written over BACnet, which no longer follow the offset.
struct DeviceIdentityOverride {
    std::optional<uint32_t> instance;
    std::optional<std::string> name;
};

// The router and panel device identities of the meter: Device ID = offset
// (+ Modbus address of the panel), name = series + "_" + Modbus address,
// network = Virt_Router_Net (out of range: 5). Databases are left null: the
// caller sets config.router.database and config.panels[i].database.
RouterConfig router_config_from_settings(
    const Settings& s, const std::array<DeviceIdentityOverride, 1 + kMaxPanels>& overrides = {});

}  // namespace openbcpm::bacnet
