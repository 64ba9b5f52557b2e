#include "protocols/bacnet/face.hpp"

#include <fmt/format.h>

#include <boost/asio/ip/address_v4.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace openbcpm::bacnet {

namespace asio = boost::asio;
using asio::ip::udp;

BacnetIpFace::BacnetIpFace(asio::io_context& io, VirtualRouter& router, BacnetIpOptions options)
    : router_(router), options_(std::move(options)), socket_(io), timer_(io) {}

BacnetIpFace::~BacnetIpFace() {
    close();
}

void BacnetIpFace::start() {
    if (running_) return;
    boost::system::error_code ec;
    const auto ip = asio::ip::make_address_v4(options_.address, ec);
    if (ec) throw std::runtime_error(fmt::format("BACnet/IP: bad address '{}'", options_.address));
    const auto mask = BipAddress::parse(options_.netmask, 0);
    if (!mask)
        throw std::runtime_error(fmt::format("BACnet/IP: bad netmask '{}'", options_.netmask));
    socket_.open(udp::v4());
    socket_.set_option(asio::socket_base::reuse_address(true));
    socket_.set_option(asio::socket_base::broadcast(true));
    socket_.non_blocking(true);  // a send never stalls the event loop
    socket_.bind(udp::endpoint(ip, options_.port), ec);
    if (ec) {
        socket_.close();
        throw std::runtime_error(fmt::format("BACnet/IP: cannot bind {}:{}: {}", options_.address,
                                             options_.port, ec.message()));
    }
    const auto self = *BipAddress::parse(options_.address, local_port());
    link_ = std::make_unique<BipLink>(
        self, mask->ip, [this](const BipAddress& to, std::span<const uint8_t> d) {
            const udp::endpoint ep(asio::ip::address_v4(to.ip), to.port);
            boost::system::error_code ignored;
            // Non-blocking: a full send buffer drops the datagram, as UDP may.
            socket_.send_to(asio::buffer(d.data(), d.size()), ep, 0, ignored);
        });
    if (options_.bbmd) link_->enable_bbmd(options_.bdt);
    router_.attach(*link_);
    running_ = true;
    receive_next();
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
    boost::system::error_code ec;
    socket_.close(ec);
}

uint16_t BacnetIpFace::local_port() const {
    boost::system::error_code ec;
    const auto ep = socket_.local_endpoint(ec);
    return ec ? options_.port : ep.port();
}

void BacnetIpFace::receive_next() {
    socket_.async_receive_from(
        asio::buffer(buffer_), sender_, [this](boost::system::error_code ec, size_t n) {
            if (!running_ || ec == asio::error::operation_aborted) return;
            if (!ec && sender_.address().is_v4()) {
                const BipAddress from{sender_.address().to_v4().to_bytes(), sender_.port()};
                link_->receive(from, std::span<const uint8_t>(buffer_.data(), n), Clock::now());
            }
            receive_next();
        });
}

void BacnetIpFace::schedule_tick() {
    timer_.expires_after(options_.tick);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || !running_) return;
        const auto now = Clock::now();
        if (options_.on_tick) options_.on_tick(now);
        link_->tick(now);
        router_.tick(now);
        schedule_tick();
    });
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
    if (o.bbmd) o.bdt = load_bdt_file(state_dir / "bdt.ini");
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
