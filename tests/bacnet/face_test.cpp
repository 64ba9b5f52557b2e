// The UDP face on 127.0.0.1: a Who-Is over a real socket gets the I-Ams.
#include "protocols/bacnet/face.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <filesystem>
#include <fstream>

#include "../temp_dir.hpp"
#include "protocols/bacnet/services.hpp"
#include "test_database.hpp"

using namespace openbcpm::bacnet;
namespace asio = boost::asio;
using asio::ip::udp;

TEST(BacnetFace, AnswersWhoIsOverUdpOnLoopback) {
    asio::io_context io;
    auto node = testbed::make_test_node(4);
    VirtualRouter router(node->config, {});
    BacnetIpOptions options;
    options.address = "127.0.0.1";
    options.port = 0;  // any free port
    options.netmask = "255.255.255.255";
    BacnetIpFace face(io, router, options);
    face.start();
    const uint16_t port = face.local_port();
    ASSERT_NE(port, 0);

    udp::socket client(io, udp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
    NpduHeader h;
    h.destination = NetAddress{kGlobalNetwork, {}};
    const auto npdu = encode_npdu(h, encode_unconfirmed_request(UnconfirmedService::WhoIs, {}));
    const auto datagram = encode_bvll_npdu(BvlcFunction::OriginalUnicastNpdu, npdu);
    client.send_to(asio::buffer(datagram),
                   udp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));

    std::vector<uint32_t> ids;
    std::array<uint8_t, 1600> buf{};
    udp::endpoint from;
    std::function<void()> next = [&] {
        client.async_receive_from(
            asio::buffer(buf), from, [&](boost::system::error_code ec, size_t n) {
                if (ec) return;
                const auto m = decode_bvll(std::span<const uint8_t>(buf.data(), n));
                if (m && m->function == BvlcFunction::OriginalUnicastNpdu) {
                    const auto np = decode_npdu(m->npdu);
                    if (np && !np->header.network_message) {
                        const auto a = decode_apdu(np->payload);
                        if (a && a->type == PduType::UnconfirmedRequest)
                            ids.push_back(decode_i_am(a->data).device.instance);
                    }
                }
                if (ids.size() < 3)
                    next();
                else
                    io.stop();
            });
    };
    next();
    io.run_for(std::chrono::seconds(5));
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, (std::vector<uint32_t>{50000, 50001, 50002}));
    face.stop();
}

TEST(BacnetFace, SettingsGiveIdentitiesAndBdt) {
    openbcpm::Settings s;
    s.gateway.device_id_offset = 27000;
    s.gateway.virt_router_net = 0;  // out of range: 5
    s.gateway.modbus_address = 3;
    auto c = router_config_from_settings(s);
    EXPECT_EQ(c.virtual_network, 5);
    EXPECT_EQ(c.router.instance, 27000u);
    ASSERT_EQ(c.panels.size(), 2u);
    EXPECT_EQ(c.panels[0].instance, 27003u);
    EXPECT_EQ(c.panels[0].name, "BCPME_3");
    EXPECT_EQ(c.panels[1].mac, 4);
    std::array<DeviceIdentityOverride, 3> overrides{};
    overrides[1].instance = 1234;
    overrides[2].name = "East panel";
    c = router_config_from_settings(s, overrides);
    EXPECT_EQ(c.panels[0].instance, 1234u);
    EXPECT_EQ(c.panels[1].name, "East panel");
    EXPECT_EQ(c.panels[1].instance, 27004u);

    const openbcpm::test::TempDir scratch;
    const auto& dir = scratch.path;
    std::ofstream(dir / "bdt.ini") << "// Bdt.ini\n127.0.0.1,47808,255.255.255.255\n";
    s.gateway.bbmd_enable = true;
    const auto o = ip_options_from_settings(s.gateway, dir);
    EXPECT_TRUE(o.bbmd);
    ASSERT_EQ(o.bdt.size(), 1u);
    EXPECT_TRUE(o.bdt_problem.empty());
    // A malformed or missing bdt.ini does not stop the meter: the options say why.
    std::ofstream(dir / "bdt.ini") << "127.0.0.1 ,47808,255.255.255.255\n";
    auto bad = ip_options_from_settings(s.gateway, dir);
    EXPECT_TRUE(bad.bdt.empty());
    EXPECT_NE(bad.bdt_problem.find("line 1"), std::string::npos) << bad.bdt_problem;
    std::filesystem::remove(dir / "bdt.ini");
    bad = ip_options_from_settings(s.gateway, dir);
    EXPECT_NE(bad.bdt_problem.find("cannot read"), std::string::npos) << bad.bdt_problem;
    EXPECT_THROW((void)load_bdt_file(dir / "bdt.ini"), std::runtime_error);
}

namespace {

// A plain UDP socket on loopback that sends B/IP datagrams and keeps what
// comes back, with the address each came from.
struct Client {
    struct Datagram {
        udp::endpoint from;
        BvlcFunction function;
        std::vector<uint8_t> bytes;
    };
    Client(asio::io_context& io, const char* address)
        : socket(io, udp::endpoint(asio::ip::make_address_v4(address), 0)) {
        socket.set_option(asio::socket_base::broadcast(true));
        receive();
    }
    void receive() {
        socket.async_receive_from(
            asio::buffer(buf), from, [this](boost::system::error_code ec, size_t n) {
                if (ec) return;
                std::vector<uint8_t> bytes(buf.begin(),
                                           buf.begin() + static_cast<std::ptrdiff_t>(n));
                if (auto m = decode_bvll(bytes)) got.push_back({from, m->function, bytes});
                receive();
            });
    }
    void send(BvlcFunction f, const char* address, uint16_t port) {
        NpduHeader h;
        h.destination = NetAddress{kGlobalNetwork, {}};
        const auto npdu = encode_npdu(h, encode_unconfirmed_request(UnconfirmedService::WhoIs, {}));
        socket.send_to(asio::buffer(encode_bvll_npdu(f, npdu)),
                       udp::endpoint(asio::ip::make_address_v4(address), port));
    }
    // The I-Ams received, as (source address, device instance).
    std::vector<std::pair<std::string, uint32_t>> i_ams() const {
        std::vector<std::pair<std::string, uint32_t>> out;
        for (const auto& d : got) {
            const auto m = decode_bvll(d.bytes);  // its spans point into d.bytes
            const auto n = decode_npdu(m->npdu);
            if (!n || n->header.network_message) continue;
            const auto a = decode_apdu(n->payload);
            if (a && a->type == PduType::UnconfirmedRequest &&
                a->service == static_cast<uint8_t>(UnconfirmedService::IAm))
                out.emplace_back(d.from.address().to_string(),
                                 decode_i_am(a->data).device.instance);
        }
        std::sort(out.begin(), out.end());
        return out;
    }
    udp::socket socket;
    udp::endpoint from;
    std::array<uint8_t, 1600> buf{};
    std::vector<Datagram> got;
};

BacnetIpOptions loopback_options(const char* address, uint16_t port, const char* netmask) {
    BacnetIpOptions o;
    o.address = address;
    o.port = port;
    o.netmask = netmask;
    return o;
}

// Runs the loop for a while: every datagram on loopback has arrived by then.
void settle(asio::io_context& io) {
    io.restart();
    io.run_for(std::chrono::milliseconds(300));
}

}  // namespace

TEST(BacnetFace, ArrivalFollowsTheDestinationAddress) {
    const BipStation s{BipAddress{{192, 0, 2, 1}, 47808}, {192, 0, 2, 255}, 3};
    EXPECT_EQ(arrival_at(s, {192, 0, 2, 1}, 3), Arrival::Unicast);
    EXPECT_EQ(arrival_at(s, {192, 0, 2, 1}, 7), Arrival::Unicast);  // routed to us: still ours
    EXPECT_EQ(arrival_at(s, {192, 0, 2, 255}, 3), Arrival::Broadcast);
    EXPECT_EQ(arrival_at(s, {255, 255, 255, 255}, 3), Arrival::Broadcast);
    EXPECT_EQ(arrival_at(s, {255, 255, 255, 255}, 7), std::nullopt);  // another interface's
    EXPECT_EQ(arrival_at(s, {192, 0, 2, 2}, 3), std::nullopt);
    EXPECT_EQ(arrival_at(s, {198, 51, 100, 255}, 3), std::nullopt);
    // A /32 netmask: the broadcast address is our own, taken as a unicast.
    const BipStation host{BipAddress{{127, 0, 0, 1}, 47808}, {127, 0, 0, 1}, 1};
    EXPECT_EQ(arrival_at(host, {127, 0, 0, 1}, 1), Arrival::Unicast);
}

// Two stations share one port on loopback (as many meters of one process
// will): each takes its unicasts, both take their subnet's broadcast, and
// every answer leaves from the station's own address.
TEST(BacnetFace, StationsShareAPortAndAnswerFromTheirOwnAddress) {
    asio::io_context io;
    auto node_a = testbed::make_test_node(4, 50, 50000);
    auto node_b = testbed::make_test_node(4, 60, 60000);
    VirtualRouter router_a(node_a->config, {});
    VirtualRouter router_b(node_b->config, {});
    BacnetIpFace a(io, router_a, loopback_options("127.0.0.2", 0, "255.255.255.0"));
    a.start();
    const uint16_t port = a.local_port();
    BacnetIpFace b(io, router_b, loopback_options("127.0.0.3", port, "255.255.255.0"));
    b.start();
    EXPECT_EQ(b.local_port(), port);
    EXPECT_EQ(a.station().broadcast, (std::array<uint8_t, 4>{127, 0, 0, 255}));
    settle(io);  // the start-up announcements (to 127.0.0.255: each hears the other's)
    EXPECT_GE(a.link()->stats().broadcasts_in, 4u);

    Client client(io, "127.0.0.1");
    // A unicast Who-Is to B: B's three devices answer to the client, from 127.0.0.3.
    client.send(BvlcFunction::OriginalUnicastNpdu, "127.0.0.3", port);
    settle(io);
    EXPECT_EQ(client.i_ams(),
              (std::vector<std::pair<std::string, uint32_t>>{
                  {"127.0.0.3", 60000}, {"127.0.0.3", 60001}, {"127.0.0.3", 60002}}));
    for (const auto& d : client.got)
        EXPECT_EQ(d.function, BvlcFunction::OriginalUnicastNpdu);

    // A broadcast Who-Is on the subnet: both answer by broadcast (the client,
    // on another port, hears nothing), and each hears the other's I-Ams.
    client.got.clear();
    const auto a_in = a.link()->stats().broadcasts_in;
    const auto b_in = b.link()->stats().broadcasts_in;
    client.send(BvlcFunction::OriginalBroadcastNpdu, "127.0.0.255", port);
    settle(io);
    EXPECT_TRUE(client.got.empty());
    EXPECT_EQ(a.link()->stats().broadcasts_in - a_in, 1u + 3u + 3u);  // Who-Is, B's and our I-Ams
    EXPECT_EQ(b.link()->stats().broadcasts_in - b_in, 1u + 3u + 3u);

    // The limited broadcast reaches both too (they are on lo, where it came in).
    const auto a_in2 = a.link()->stats().broadcasts_in;
    client.send(BvlcFunction::OriginalBroadcastNpdu, "255.255.255.255", port);
    settle(io);
    EXPECT_EQ(a.link()->stats().broadcasts_in - a_in2, 1u + 3u + 3u);
    EXPECT_TRUE(client.got.empty());

    // An Original-Unicast-NPDU sent to the broadcast address is nobody's.
    const auto dropped = a.link()->stats().dropped;
    client.send(BvlcFunction::OriginalUnicastNpdu, "127.0.0.255", port);
    settle(io);
    EXPECT_TRUE(client.got.empty());
    EXPECT_EQ(a.link()->stats().dropped, dropped + 1);

    // Stopping one station leaves the other on the port.
    a.stop();
    client.send(BvlcFunction::OriginalUnicastNpdu, "127.0.0.3", port);
    client.send(BvlcFunction::OriginalUnicastNpdu, "127.0.0.2", port);
    settle(io);
    EXPECT_EQ(client.i_ams().size(), 3u);
    b.stop();
}

TEST(BacnetFace, ABbmdWithoutBdtIniRunsAloneAndSaysSo) {
    asio::io_context io;
    auto node = testbed::make_test_node(4);
    VirtualRouter router(node->config, {});
    openbcpm::GatewaySettings g;
    g.ip_address = "127.0.0.1";
    g.bacnet_ip_port = 0;
    g.bbmd_enable = true;
    const openbcpm::test::TempDir scratch;
    BacnetIpFace face(io, router, ip_options_from_settings(g, scratch.path));
    face.start();
    ASSERT_TRUE(face.link()->bbmd());
    ASSERT_EQ(face.link()->bdt().size(), 1u);
    EXPECT_EQ(face.link()->bdt()[0].address, face.station().self);
    ASSERT_EQ(face.warnings().size(), 1u);
    EXPECT_NE(face.warnings()[0].find("this meter alone"), std::string::npos) << face.warnings()[0];
    face.stop();
}

// The port is the meter's on every address: another socket on it (another
// process, a BMS tool on the same host) makes the start fail and say so, it
// does not share the port and take some of the meter's unicasts.
TEST(BacnetFace, APortInUseIsAStartFailure) {
    asio::io_context io;
    auto node = testbed::make_test_node(4);
    VirtualRouter router(node->config, {});
    asio::io_context other;  // another process's socket, in effect
    udp::socket taken(other, udp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
    const uint16_t port = taken.local_endpoint().port();
    BacnetIpFace face(io, router, loopback_options("127.0.0.2", port, "255.255.255.0"));
    try {
        face.start();
        FAIL() << "started on a port in use";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot bind UDP port " + std::to_string(port)),
                  std::string::npos)
            << e.what();
    }
    taken.close();
    face.start();  // free again
    EXPECT_EQ(face.local_port(), port);
    face.stop();
}

TEST(BacnetFace, RefusesAnAddressThatIsNotTheHosts) {
    asio::io_context io;
    auto node = testbed::make_test_node(4);
    VirtualRouter router(node->config, {});
    for (const char* address : {"0.0.0.0", "239.1.2.3", "203.0.113.77", "127.0.0.300"}) {
        BacnetIpFace face(io, router, loopback_options(address, 0, "255.255.255.0"));
        EXPECT_THROW(face.start(), std::runtime_error) << address;
    }
}

// With GSO allowed, the answers of a batch to one station leave as UDP GSO
// runs (every datagram but a run's last of one size; a larger one starts a
// new run), and the station still receives each datagram on its own, in
// order, byte for byte. Without, no run is made.
TEST(BacnetPort, AnswersInARowToOneStationGoOutAsGsoRunsWhenAllowed) {
    for (const bool gso : {false, true}) {
        asio::io_context io;
        const auto port = BipPort::open(io, 0);
        if (gso) port->allow_gso();
        const BipStation station{BipAddress{{127, 0, 0, 1}, port->port()}, {127, 0, 0, 255}, 0};
        // Each datagram received is answered with five of sizes 20, 20, 10, 30, 30
        // (runs: 20 20 10 | 30 30), each filled with its index.
        const std::array<size_t, 5> sizes{20, 20, 10, 30, 30};
        const size_t id =
            port->attach(station, [&](const BipAddress& from, std::span<const uint8_t>, Arrival) {
                for (size_t i = 0; i < sizes.size(); ++i) {
                    const std::vector<uint8_t> d(sizes[i], static_cast<uint8_t>(i));
                    EXPECT_EQ(port->send(station.self.ip, from, d), BipPort::SendResult::Sent);
                }
            });
        udp::socket client(io, udp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
        const uint8_t ping = 1;
        client.send_to(asio::buffer(&ping, 1),
                       udp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port->port()));
        settle(io);
        client.non_blocking(true);
        std::vector<std::vector<uint8_t>> got;
        std::array<uint8_t, 1600> buf{};
        boost::system::error_code ec;
        for (size_t n; (n = client.receive(asio::buffer(buf), 0, ec)), !ec;)
            got.emplace_back(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        ASSERT_EQ(got.size(), sizes.size()) << "gso " << gso;
        for (size_t i = 0; i < sizes.size(); ++i)
            EXPECT_EQ(got[i], std::vector<uint8_t>(sizes[i], static_cast<uint8_t>(i)));
        EXPECT_EQ(port->stats().sent, sizes.size());
        EXPECT_EQ(port->stats().gso_runs, gso ? 2u : 0u);
        EXPECT_EQ(port->stats().gso_refused, 0u);
        port->detach(id);
    }
}
