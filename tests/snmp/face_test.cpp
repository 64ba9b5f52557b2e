// The SNMP face on a real UDP socket of an io_context, bound to 127.0.0.1.
#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>
#include <chrono>

#include "config/config.hpp"
#include "device/device.hpp"
#include "protocols/snmp/snmp_face.hpp"
#include "test_mib.hpp"

namespace openbcpm::snmp {
namespace {

using boost::asio::ip::udp;

class SnmpFaceTest : public ::testing::Test {
  protected:
    SnmpFaceTest()
        : receiver_(io_, udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
          client_(io_) {
        Config cfg = default_config();
        cfg.settings.gateway.ip_address = "127.0.0.1";
        cfg.settings.gateway.snmp_port = 0;  // any free port
        cfg.settings.gateway.snmp_notif_ip = "127.0.0.1";
        cfg.settings.gateway.snmp_notif_port = receiver_.local_endpoint().port();
        cfg.settings.gateway.trap_community = "alerts";
        device_ = std::make_unique<Device>(cfg, std::nullopt);
        SnmpFaceOptions options;
        options.views = {mib_.view()};
        face_ = std::make_unique<SnmpFace>(io_, *device_, options);
        client_.open(udp::v4());
    }
    void TearDown() override {
        face_->stop();
        io_.restart();
        io_.poll();
    }

    // Runs the loop until a datagram arrives on `socket` (or a second passes).
    std::optional<Message> receive(udp::socket& socket) {
        std::vector<uint8_t> buffer(65536);
        udp::endpoint from;
        std::optional<Message> got;
        socket.async_receive_from(
            boost::asio::buffer(buffer), from, [&](const boost::system::error_code& ec, size_t n) {
                if (ec) return;
                const Decoded d = decode_message(std::span<const uint8_t>(buffer.data(), n));
                if (d.status == DecodeStatus::Ok) got = d.message;
                io_.stop();
            });
        io_.restart();
        io_.run_for(std::chrono::seconds(1));
        if (!got) {
            socket.cancel();
            io_.restart();
            io_.poll();
        }
        return got;
    }

    std::optional<Message> ask(const Message& m) {
        client_.send_to(boost::asio::buffer(encode_message(m)), face_->local_endpoint());
        return receive(client_);
    }

    static Message get(std::string community, const Oid& name) {
        Message m;
        m.community = std::move(community);
        m.pdu.request_id = 77;
        m.pdu.varbinds.push_back({name, Null{}});
        return m;
    }

    boost::asio::io_context io_;
    testmib::TestMib mib_{100};
    udp::socket receiver_;
    udp::socket client_;
    std::unique_ptr<Device> device_;
    std::unique_ptr<SnmpFace> face_;
};

TEST_F(SnmpFaceTest, SendsColdStartAndAnswersOnTheLoop) {
    face_->start();
    EXPECT_EQ(face_->local_endpoint().address().to_string(), "127.0.0.1");
    EXPECT_NE(face_->local_endpoint().port(), 0);

    const auto trap = receive(receiver_);
    ASSERT_TRUE(trap);
    EXPECT_EQ(trap->community, "alerts");
    EXPECT_EQ(trap->pdu.type, PduType::SNMPv2Trap);
    ASSERT_EQ(trap->pdu.varbinds.size(), 2u);
    EXPECT_EQ(trap->pdu.varbinds[1], (VarBind{oids::kSnmpTrapOid0, oids::kColdStart}));

    auto r = ask(get("public", oids::kSysObjectId.child(0)));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->pdu.request_id, 77);
    EXPECT_EQ(r->pdu.varbinds[0].value, Value(oids::kBcpme));
    r = ask(get("public", oids::kSysName.child(0)));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->pdu.varbinds[0].value, Value(std::string("BCPME84-4E3B73CB")));
    r = ask(get("public", testmib::kEntry.child(testmib::kValue).child(9)));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->pdu.varbinds[0].value, Value(int32_t{9}));
    EXPECT_FALSE(ask(get("wrong", oids::kSysName.child(0))));
}

TEST_F(SnmpFaceTest, FollowsCommunityChangesInTheSettings) {
    face_->start();
    receive(receiver_);  // coldStart
    ASSERT_TRUE(
        device_->write_setting("gateway.read_community", SettingValue(std::string("meters"))).ok());
    EXPECT_FALSE(ask(get("public", oids::kSysName.child(0))));
    EXPECT_TRUE(ask(get("meters", oids::kSysName.child(0))));
}

TEST_F(SnmpFaceTest, SendsAuthenticationFailureWhenEnabled) {
    face_->start();
    receive(receiver_);  // coldStart
    face_->agent().mib_state().enable_authen_traps = 1;
    EXPECT_FALSE(ask(get("guess", oids::kSysName.child(0))));
    const auto trap = receive(receiver_);
    ASSERT_TRUE(trap);
    EXPECT_EQ(trap->pdu.varbinds[1], (VarBind{oids::kSnmpTrapOid0, oids::kAuthenticationFailure}));
}

TEST_F(SnmpFaceTest, StopClosesTheSocket) {
    face_->start();
    const auto at = face_->local_endpoint();
    face_->stop();
    io_.restart();
    io_.poll();
    // The port is free again.
    udp::socket again(io_, at);
    EXPECT_TRUE(again.is_open());
}

}  // namespace
}  // namespace openbcpm::snmp
