// BACnet/IP datalink and BBMD (Annex J) without sockets.
#include "protocols/bacnet/bip_link.hpp"

#include <gtest/gtest.h>

using namespace openbcpm::bacnet;
using namespace std::chrono_literals;
using Bytes = std::vector<uint8_t>;

namespace {

struct Captured {
    BipAddress to;
    Bytes datagram;
};

class BipLinkTest : public ::testing::Test {
  protected:
    BipLinkTest()
        : link(self, {255, 255, 255, 0}, [this](const BipAddress& to, std::span<const uint8_t> d) {
              out.push_back({to, Bytes(d.begin(), d.end())});
          }) {
        link.set_receiver(
            [this](std::span<const uint8_t> p, const LinkAddress& from, bool broadcast) {
                in.push_back({Bytes(p.begin(), p.end()), from, broadcast});
            });
    }
    void enable() {
        link.enable_bbmd({{self, {255, 255, 255, 255}},
                          {peer, {255, 255, 255, 255}},
                          {peer_subnet, {255, 255, 255, 0}}});
    }
    uint16_t result_of(const Captured& c) {
        const auto m = decode_bvll(c.datagram);
        EXPECT_TRUE(m && m->function == BvlcFunction::Result);
        return m ? m->result : 0xFFFF;
    }

    const BipAddress self{{10, 0, 0, 5}, 47808};
    const BipAddress peer{{10, 1, 0, 7}, 47808};
    const BipAddress peer_subnet{{10, 2, 0, 9}, 47808};
    const BipAddress client{{10, 0, 0, 20}, 47808};
    const BipAddress foreign{{192, 168, 9, 9}, 50000};
    const Bytes npdu{0x01, 0x00, 0x10, 0x08};
    struct Received {
        Bytes npdu;
        LinkAddress from;
        bool broadcast;
    };
    std::vector<Captured> out;
    std::vector<Received> in;
    BipLink link;
    BipLink::Clock::time_point now = BipLink::Clock::time_point{} + 100h;
};

LinkAddress link_address(const BipAddress& a) {
    const auto b = a.bytes();
    return LinkAddress(b.begin(), b.end());
}

}  // namespace

TEST_F(BipLinkTest, UnicastAndBroadcastWithoutBbmd) {
    link.receive(client, encode_bvll_npdu(BvlcFunction::OriginalUnicastNpdu, npdu), now);
    link.receive(client, encode_bvll_npdu(BvlcFunction::OriginalBroadcastNpdu, npdu), now,
                 Arrival::Broadcast);
    ASSERT_EQ(in.size(), 2u);
    EXPECT_FALSE(in[0].broadcast);
    EXPECT_TRUE(in[1].broadcast);
    EXPECT_EQ(in[0].from, link_address(client));
    EXPECT_TRUE(out.empty());
    link.send_npdu(npdu, {});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].to.to_string(), "10.0.0.255:47808");
    link.send_npdu(npdu, link_address(client));
    EXPECT_EQ(out[1].to, client);
    EXPECT_EQ(decode_bvll(out[1].datagram)->function, BvlcFunction::OriginalUnicastNpdu);
    // Our own broadcast coming back is ignored; malformed BVLLs are dropped.
    link.receive(self, encode_bvll_npdu(BvlcFunction::OriginalBroadcastNpdu, npdu), now);
    link.receive(client, Bytes{0x81, 0x0A, 0x00, 0x09, 0x01}, now);
    EXPECT_EQ(in.size(), 2u);
}

TEST_F(BipLinkTest, BbmdFunctionsAreNakedWhenDisabled) {
    link.receive(client, encode_register_foreign_device(60), now);
    link.receive(client, encode_read_bdt(), now);
    link.receive(client, encode_read_fdt(), now);
    link.receive(client, encode_delete_fdt_entry(client), now);
    link.receive(client, encode_bvll_npdu(BvlcFunction::DistributeBroadcastToNetwork, npdu), now);
    link.receive(client, encode_write_bdt({}), now);
    ASSERT_EQ(out.size(), 6u);
    EXPECT_EQ(result_of(out[0]), 0x0030);
    EXPECT_EQ(result_of(out[1]), 0x0020);
    EXPECT_EQ(result_of(out[2]), 0x0040);
    EXPECT_EQ(result_of(out[3]), 0x0050);
    EXPECT_EQ(result_of(out[4]), 0x0060);
    EXPECT_EQ(result_of(out[5]), 0x0010);
    EXPECT_TRUE(in.empty());
}

TEST_F(BipLinkTest, BroadcastsAreForwardedToPeersAndForeignDevices) {
    enable();
    link.receive(foreign, encode_register_foreign_device(60), now);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(result_of(out[0]), 0x0000);
    out.clear();
    // A local broadcast goes to both peers (one by directed broadcast) and the foreign device.
    link.receive(client, encode_bvll_npdu(BvlcFunction::OriginalBroadcastNpdu, npdu), now,
                 Arrival::Broadcast);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].to, peer);
    EXPECT_EQ(out[1].to.to_string(), "10.2.0.255:47808");
    EXPECT_EQ(out[2].to, foreign);
    for (const auto& c : out) {
        const auto m = decode_bvll(c.datagram);
        EXPECT_EQ(m->function, BvlcFunction::ForwardedNpdu);
        EXPECT_EQ(m->origin, client);
    }
    ASSERT_EQ(in.size(), 1u);
    out.clear();
    in.clear();
    // A Forwarded-NPDU from a peer: local delivery, local re-broadcast (the
    // peer's mask is all ones) and the foreign devices.
    const BipAddress far{{10, 1, 0, 99}, 47808};
    link.receive(peer, encode_forwarded_npdu(far, npdu), now);
    ASSERT_EQ(in.size(), 1u);
    EXPECT_EQ(in[0].from, link_address(far));
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].to.to_string(), "10.0.0.255:47808");
    EXPECT_EQ(out[1].to, foreign);
    out.clear();
    in.clear();
    // Not from a peer: dropped.
    link.receive(client, encode_forwarded_npdu(far, npdu), now);
    EXPECT_TRUE(in.empty());
    EXPECT_TRUE(out.empty());
    // Distribute-Broadcast-To-Network from the registered foreign device.
    link.receive(foreign, encode_bvll_npdu(BvlcFunction::DistributeBroadcastToNetwork, npdu), now);
    ASSERT_EQ(in.size(), 1u);
    EXPECT_TRUE(in[0].broadcast);
    ASSERT_EQ(out.size(), 3u);  // local broadcast + 2 peers, not back to the sender
    EXPECT_EQ(out[0].to.to_string(), "10.0.0.255:47808");
    out.clear();
    // Our own broadcasts reach the peers and foreign devices too.
    link.send_npdu(npdu, {});
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(decode_bvll(out[1].datagram)->origin, self);
}

TEST_F(BipLinkTest, ForeignDeviceTableWithGraceReadAndDelete) {
    enable();
    link.receive(foreign, encode_register_foreign_device(60), now);
    link.receive(client, encode_read_fdt(), now + 10s);
    auto m = decode_bvll(out.back().datagram);
    ASSERT_EQ(m->function, BvlcFunction::ReadFdtAck);
    ASSERT_EQ(m->fdt.size(), 1u);
    EXPECT_EQ(m->fdt[0].ttl, 60);
    EXPECT_EQ(m->fdt[0].remaining, 80);  // 60 + 30 grace - 10
    link.receive(client, encode_read_bdt(), now);
    m = decode_bvll(out.back().datagram);
    ASSERT_EQ(m->function, BvlcFunction::ReadBdtAck);
    EXPECT_EQ(m->bdt.size(), 3u);
    link.tick(now + 89s);
    EXPECT_EQ(link.fdt().size(), 1u);
    link.tick(now + 91s);
    EXPECT_TRUE(link.fdt().empty());
    // After expiry the device may not distribute broadcasts.
    link.receive(foreign, encode_bvll_npdu(BvlcFunction::DistributeBroadcastToNetwork, npdu),
                 now + 92s);
    EXPECT_EQ(result_of(out.back()), 0x0060);
    link.receive(foreign, encode_register_foreign_device(60), now + 92s);
    link.receive(client, encode_delete_fdt_entry(foreign), now + 93s);
    EXPECT_EQ(result_of(out.back()), 0x0000);
    EXPECT_TRUE(link.fdt().empty());
    link.receive(client, encode_delete_fdt_entry(foreign), now + 93s);
    EXPECT_EQ(result_of(out.back()), 0x0050);
}

TEST_F(BipLinkTest, TheForeignDeviceTableHoldsAtMost128) {
    enable();
    for (int i = 0; i < 128; ++i) {
        const BipAddress fd{{192, 168, 10, static_cast<uint8_t>(i)}, 47808};
        link.receive(fd, encode_register_foreign_device(60), now);
        EXPECT_EQ(result_of(out.back()), 0x0000);
    }
    const BipAddress late{{192, 168, 11, 1}, 47808};
    link.receive(late, encode_register_foreign_device(60), now);
    EXPECT_EQ(result_of(out.back()), 0x0030);  // Register-Foreign-Device NAK
    EXPECT_EQ(link.fdt().size(), 128u);
    // A registered device still renews.
    link.receive(BipAddress{{192, 168, 10, 5}, 47808}, encode_register_foreign_device(120), now);
    EXPECT_EQ(result_of(out.back()), 0x0000);
}

TEST_F(BipLinkTest, TheDestinationOfADatagramDecidesWhatIsTakenAndForwarded) {
    enable();
    // An Original-Unicast-NPDU sent to a broadcast address reached every
    // station: nobody takes it.
    link.receive(client, encode_bvll_npdu(BvlcFunction::OriginalUnicastNpdu, npdu), now,
                 Arrival::Broadcast);
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(link.stats().dropped, 1u);
    EXPECT_EQ(link.stats().broadcasts_in, 1u);
    // An Original-Broadcast-NPDU sent to us alone is taken as a broadcast,
    // but a BBMD forwards only what its subnet heard.
    link.receive(client, encode_bvll_npdu(BvlcFunction::OriginalBroadcastNpdu, npdu), now);
    ASSERT_EQ(in.size(), 1u);
    EXPECT_TRUE(in[0].broadcast);
    EXPECT_TRUE(out.empty());
    // A Forwarded-NPDU a peer sent as a directed broadcast has reached our
    // subnet already: delivered, not broadcast again.
    const BipAddress far{{10, 1, 0, 99}, 47808};
    link.receive(peer, encode_forwarded_npdu(far, npdu), now, Arrival::Broadcast);
    ASSERT_EQ(in.size(), 2u);
    EXPECT_EQ(in[1].from, link_address(far));
    EXPECT_TRUE(out.empty());
    // Sent to us directly, we broadcast it on our subnet.
    link.receive(peer, encode_forwarded_npdu(far, npdu), now, Arrival::Unicast);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].to.to_string(), "10.0.0.255:47808");
}

TEST(BipLink, AHostNetmaskHasNoLocalBroadcast) {
    std::vector<BipAddress> sent;
    const BipAddress self{{127, 0, 0, 1}, 47808};
    BipLink link(self, {255, 255, 255, 255},
                 [&](const BipAddress& to, std::span<const uint8_t>) { sent.push_back(to); });
    const Bytes npdu{0x01, 0x00, 0x10, 0x08};
    link.send_npdu(npdu, {});
    EXPECT_TRUE(sent.empty());
    // As a BBMD its broadcasts still reach the peers.
    const BipAddress peer{{127, 0, 0, 1}, 47809};
    link.enable_bbmd({{self, {255, 255, 255, 255}}, {peer, {255, 255, 255, 255}}});
    link.send_npdu(npdu, {});
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0], peer);
}
