#include "protocols/bacnet/face.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace openbcpm::bacnet {

namespace asio = boost::asio;

namespace {
constexpr auto kDropReportInterval = std::chrono::minutes(1);

std::string ip_text(const std::array<uint8_t, 4>& a) {
    return fmt::format("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
}
}  // namespace

BacnetIpFace::BacnetIpFace(asio::io_context& io, VirtualRouter& router, BacnetIpOptions options)
    : io_(io), router_(router), options_(std::move(options)), timer_(io) {}

BacnetIpFace::~BacnetIpFace() {
    close();
}

void BacnetIpFace::start() {
    if (running_) return;
    const auto address = BipAddress::parse(options_.address, 0);
    if (!address)
        throw std::runtime_error(fmt::format("BACnet/IP: bad address '{}'", options_.address));
    // A B/IP station is named by its own unicast address (it is the MAC of
    // the devices and the origin of forwarded broadcasts).
    if (address->ip_u32() == 0 || address->ip[0] >= 224)
        throw std::runtime_error(fmt::format(
            "BACnet/IP needs the meter's own unicast address, not {}", options_.address));
    const auto mask = BipAddress::parse(options_.netmask, 0);
    if (!mask)
        throw std::runtime_error(fmt::format("BACnet/IP: bad netmask '{}'", options_.netmask));
    LocalAddress local;
    try {
        local = locate_local_address(address->ip);
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(fmt::format("BACnet/IP: {}", e.what()));
    }
    warnings_.clear();
    // (Not on loopback: there the netmask only chooses the broadcast address
    // among the host's own, see docs/bacnet.md.)
    if (local.netmask && *local.netmask != mask->ip && address->ip[0] != 127)
        warnings_.push_back(
            fmt::format("netmask {} differs from the interface's {}: broadcasts go to {}",
                        options_.netmask, ip_text(*local.netmask),
                        ip_text(BipAddress::from_u32(address->ip_u32() | ~mask->ip_u32(), 0).ip)));
    port_ = BipPort::open(io_, options_.port);
    station_.self = BipAddress{address->ip, port_->port()};
    if (options_.udp_gso) port_->allow_gso();
    station_.broadcast = BipAddress::from_u32(address->ip_u32() | ~mask->ip_u32(), 0).ip;
    station_.interface = local.interface;
    link_ = std::make_unique<BipLink>(
        station_.self, mask->ip, [this](const BipAddress& to, std::span<const uint8_t> d) {
            // Non-blocking: a full send buffer drops the datagram, as UDP may
            // (counted now, or when the port sends its batch).
            if (port_->send(station_.self.ip, to, d, &send_dropped_) ==
                BipPort::SendResult::BufferFull)
                ++send_dropped_;
        });
    if (options_.bbmd) {
        std::vector<BdtEntry> bdt = options_.bdt;
        if (!options_.bdt_problem.empty()) {
            warnings_.push_back(fmt::format(
                "BBMD without a usable bdt.ini ({}): the broadcast distribution table is "
                "this meter alone until a bdt.ini is transferred and the meter restarted",
                options_.bdt_problem));
        } else if (std::none_of(bdt.begin(), bdt.end(),
                                [&](const BdtEntry& e) { return e.address == station_.self; })) {
            warnings_.push_back(
                fmt::format("bdt.ini does not list this meter ({})", station_.self.to_string()));
        }
        if (bdt.empty()) bdt.push_back(BdtEntry{station_.self, {255, 255, 255, 255}});
        link_->enable_bbmd(std::move(bdt));
    }
    station_id_ = port_->attach(
        station_, [this](const BipAddress& from, std::span<const uint8_t> d, Arrival arrival) {
            link_->receive(from, d, Clock::now(), arrival);
        });
    for (const auto& w : warnings_)
        spdlog::warn("BACnet/IP: {}", w);
    router_.attach(*link_);
    running_ = true;
    schedule_tick();
    router_.start(Clock::now());
}

void BacnetIpFace::stop() {
    close();
}

void BacnetIpFace::close() noexcept {
    if (!running_) return;
    running_ = false;
    router_.detach();
    try {
        timer_.cancel();
    } catch (const boost::system::system_error&) {
        // Nothing was waiting that could still fire into a stopped face.
    }
    port_->detach(station_id_);
}

uint16_t BacnetIpFace::local_port() const {
    return port_ ? port_->port() : options_.port;
}

void BacnetIpFace::schedule_tick() {
    timer_.expires_after(options_.tick);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || !running_) return;
        const auto now = Clock::now();
        if (options_.on_tick) options_.on_tick(now);
        link_->tick(now);
        router_.tick(now);
        report_send_drops(now);
        schedule_tick();
    });
}

// One line a minute at most, however many datagrams a peer that does not
// read (or a slow link) made us drop.
void BacnetIpFace::report_send_drops(Clock::time_point now) {
    if (send_dropped_ == send_drops_reported_ || now < next_drop_report_) return;
    spdlog::warn(
        "BACnet/IP: {} datagram(s) not sent since the last report: the socket's send buffer "
        "was full",
        send_dropped_ - send_drops_reported_);
    send_drops_reported_ = send_dropped_;
    next_drop_report_ = now + kDropReportInterval;
}

std::vector<BdtEntry> load_bdt_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(fmt::format("BBMD: cannot read {}", path.string()));
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = parse_bdt_ini(text.str());
    if (!parsed.ok())
        throw std::runtime_error(fmt::format("BBMD: {} ({})", parsed.error, path.string()));
    return std::move(parsed.entries);
}

BacnetIpOptions ip_options_from_settings(const GatewaySettings& g,
                                         const std::filesystem::path& state_dir) {
    BacnetIpOptions o;
    o.address = g.ip_address;
    o.port = static_cast<uint16_t>(g.bacnet_ip_port);
    o.netmask = g.netmask;
    o.bbmd = g.bbmd_enable;
    o.udp_gso = g.bacnet_udp_gso;
    if (o.bbmd) {
        try {
            if (state_dir.empty())
                throw std::runtime_error("the meter runs without a state directory");
            o.bdt = load_bdt_file(state_dir / "bdt.ini");
        } catch (const std::runtime_error& e) {
            o.bdt_problem = e.what();
        }
    }
    return o;
}

RouterConfig router_config_from_settings(
    const Settings& s, const std::array<DeviceIdentityOverride, 1 + kMaxPanels>& overrides) {
    RouterConfig c;
    const GatewaySettings& g = s.gateway;
    c.virtual_network = static_cast<uint16_t>(effective_router_net(g));
    c.max_master = static_cast<uint8_t>(g.mstp_max_master);
    const std::string series = "BCPME";
    const std::string firmware = fmt::format("{}", s.identity.firmware_rs);
    const auto identity = [&](DeviceConfig& d, size_t i, uint32_t instance, std::string name) {
        d.instance = overrides[i].instance.value_or(instance);
        d.name = overrides[i].name.value_or(std::move(name));
        d.model_name = s.model.model_name();
        d.firmware_revision = firmware;
        d.application_software_version =
            fmt::format("openbcpm {}.{}", s.identity.firmware_rs, s.identity.firmware_os);
    };
    const auto offset = static_cast<uint32_t>(g.device_id_offset);
    identity(c.router, 0, offset, series + "_Gateway");
    c.router.description = "BACnet virtual router of the branch circuit power meter";
    for (int p = 1; p <= s.model.panels; ++p) {
        const int address = g.modbus_address + (p - 1);
        DeviceConfig d;
        identity(d, static_cast<size_t>(p), offset + static_cast<uint32_t>(address),
                 fmt::format("{}_{}", series, address));
        d.description = fmt::format("Panel {}", p);
        d.location = s.panel(p).location;
        d.mac = static_cast<uint8_t>(address);
        c.panels.push_back(std::move(d));
    }
    return c;
}

}  // namespace openbcpm::bacnet
