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
    std::ofstream(dir / "bdt.ini") << "127.0.0.1 ,47808,255.255.255.255\n";
    EXPECT_THROW((void)ip_options_from_settings(s.gateway, dir), std::runtime_error);
}
