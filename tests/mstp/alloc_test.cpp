// The BACnet MS/TP face allocates nothing per request once warm (issue 16):
// a peer master at station 2 passes the meter (station 1) the token, gets it
// back, and asks a panel's Present_Value with a Data Expecting Reply frame
// that the meter answers at once. Driven through the meter's node on an
// MstpLink in virtual time, and through the whole face (serial port on a
// pseudo-terminal, the master node, the router) with a peer on the other
// side. Counted by replacing the global allocation functions in this test
// executable.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "../counting_new.hpp"
#include "config/config.hpp"
#include "device/device.hpp"
#include "protocols/bacnet/apdu.hpp"
#include "protocols/bacnet/meter_node.hpp"
#include "protocols/bacnet/npdu.hpp"
#include "protocols/bacnet/services.hpp"
#include "protocols/mstp/meter_face.hpp"
#include "protocols/mstp/mstp_link.hpp"
#include "protocols/mstp/receiver.hpp"

using namespace openbcpm;
using namespace openbcpm::bacnet;
using namespace std::chrono_literals;
using mstp::FrameReceiver;
using mstp::FrameType;
using Bytes = std::vector<uint8_t>;

namespace {

constexpr uint8_t kMeter = 1;
constexpr uint8_t kPeer = 2;

Config alloc_config(const std::string& serial_device = {}) {
    Config c =
        parse_config("[device]\nchannels = 84\n[gateway]\nprotocol_mode = 1\n", "mstp-alloc-test");
    c.settings.gateway.serial_device = serial_device;
    c.settings.gateway.upstream_baud = 115200;
    c.settings.gateway.mstp_mac_addr = kMeter;
    c.settings.gateway.mstp_max_master = kPeer;
    return c;
}

// ReadProperty of AI417's Present_Value on panel 1 (DNET 50, DADR 1), as
// the data of a Data Expecting Reply frame from the peer to the meter.
Bytes read_property_frame(uint8_t invoke_id) {
    ConfirmedHeader c;
    c.invoke_id = invoke_id;
    c.service = static_cast<uint8_t>(ConfirmedService::ReadProperty);
    c.max_apdu_code = 3;  // 480
    NpduHeader h;
    h.expecting_reply = true;
    h.destination = NetAddress{50, {1}};
    const Bytes npdu = encode_npdu(
        h,
        encode_confirmed_request(c, encode_read_property({ObjectId(ObjectType::AnalogInput, 417),
                                                          {PropertyId::PresentValue, kNoIndex}})));
    return mstp::encode_frame(FrameType::DataExpectingReply, kMeter, kPeer, npdu);
}

// The meter's answer to the request: a ComplexAck with its invoke ID.
bool answers_request(std::span<const uint8_t> npdu, uint8_t invoke_id) {
    const auto n = decode_npdu(npdu);
    const auto a = n ? decode_apdu(n->payload) : std::nullopt;
    return a && a->type == PduType::ComplexAck && a->invoke_id == invoke_id;
}

// What the meter sent, seen by a receiver of the peer's (its frame buffer is
// reserved: following the line allocates nothing).
struct Seen {
    FrameReceiver rx{kPeer};
    uint64_t tokens = 0, polls = 0, answers = 0, other = 0;
    Bytes last_answer = Bytes(mstp::kMaxData);
    size_t last_answer_size = 0;
    // Returns the type of each valid frame to the peer (not broadcast).
    std::optional<FrameType> feed(uint8_t octet) {
        if (rx.feed(octet) != FrameReceiver::Event::ValidFrame) return std::nullopt;
        const auto& f = rx.frame();
        if (f.destination != kPeer) {
            ++other;
            return std::nullopt;
        }
        if (f.type == FrameType::Token) {
            ++tokens;
        } else if (f.type == FrameType::PollForMaster) {
            ++polls;
        } else if (f.type == FrameType::DataNotExpectingReply) {
            ++answers;
            last_answer_size = f.data.size();
            std::copy(f.data.begin(), f.data.end(), last_answer.begin());
        } else {
            ++other;
        }
        return f.type;
    }
    std::span<const uint8_t> answer() const { return {last_answer.data(), last_answer_size}; }
};

// The peer's frames, encoded once.
struct PeerFrames {
    Bytes token = mstp::encode_frame(FrameType::Token, kMeter, kPeer);
    Bytes reply_to_poll = mstp::encode_frame(FrameType::ReplyToPollForMaster, kMeter, kPeer);
    Bytes request = read_property_frame(7);
};

// The meter's node on a real Device (one metering window done) carried by
// an MstpLink, the peer playing the line in virtual time.
struct NodeOnMstp {
    Device device{alloc_config(), std::nullopt};
    MeterNode node{device};
    Seen seen;
    mstp::MstpLink link{config(), [this](std::span<const uint8_t> o) {
                            for (uint8_t b : o)
                                seen.feed(b);
                        }};
    PeerFrames peer;
    mstp::Clock::time_point now = mstp::Clock::time_point{} + 1h;

    static mstp::NodeConfig config() {
        mstp::NodeConfig c;
        c.station = kMeter;
        c.max_master = kPeer;
        return c;
    }
    NodeOnMstp() {
        device.run_inline(1.0);
        node.router().attach(link);
        node.carry(link);
        link.node().start(now);
        node.router().start(now);
    }
    ~NodeOnMstp() { node.release_link(); }

    // The peer's frame on the line, then the meter's answer past T_turnaround.
    void hear(std::span<const uint8_t> frame) {
        now += 2ms;
        link.node().receive(frame, now);
        now += 2ms;  // T_turnaround is 1.04 ms at 38400 baud
        link.node().poll(now);
    }
    // The token to the meter until it comes back (answering its polls).
    bool token_round() {
        const uint64_t tokens = seen.tokens;
        uint64_t polls = seen.polls;
        hear(peer.token);
        for (int guard = 0; guard < 64; ++guard) {
            if (seen.tokens > tokens) return true;
            if (seen.polls > polls) {
                polls = seen.polls;
                hear(peer.reply_to_poll);
                continue;
            }
            now += 1ms;
            link.node().poll(now);
        }
        return false;
    }
    // One request: the token passed and back, then the ReadProperty answered.
    bool request() {
        const uint64_t answers = seen.answers;
        const bool token = token_round();
        hear(peer.request);
        return token && seen.answers == answers + 1;
    }
};

}  // namespace

TEST(MstpAllocations, TokenAndReadPropertyThroughTheNodeAllocateNothing) {
    NodeOnMstp n;
    int failures = 0;
    for (int i = 0; i < 20; ++i)  // the announcements, the first poll, warm storage
        if (!n.request()) ++failures;
    EXPECT_EQ(failures, 0);
    constexpr int kCounted = 1000;
    const uint64_t answers = n.seen.answers;
    allocations = 0;
    counting = true;
    for (int i = 0; i < kCounted; ++i)
        if (!n.request()) ++failures;
    counting = false;
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(n.seen.answers - answers, static_cast<uint64_t>(kCounted));
    EXPECT_EQ(allocations.load(), 0)
        << static_cast<double>(allocations.load()) / kCounted << " per request";
    EXPECT_TRUE(answers_request(n.seen.answer(), 7));
    const auto& stats = n.link.node().stats();
    EXPECT_GE(stats.replies, static_cast<uint64_t>(kCounted));
    EXPECT_EQ(stats.replies_postponed, 0U);
    EXPECT_EQ(stats.queue_drops, 0U);
    EXPECT_EQ(n.link.node().queued(), 0U);
    // The count works: a frame encoded the vector way allocates.
    counting = true;
    const Bytes again = mstp::encode_frame(FrameType::Token, kMeter, kPeer);
    counting = false;
    EXPECT_GT(allocations.load(), 0);
}

namespace {

// The peer on the pty's master side: raw reads and writes of frames encoded
// beforehand, so that it allocates nothing itself while the face is counted.
class PtyMaster {
  public:
    PtyMaster() {
        std::array<char, 256> name{};
        if (openpty(&master_, &slave_, name.data(), nullptr, nullptr) != 0)
            throw std::runtime_error("openpty");
        name_ = name.data();
    }
    ~PtyMaster() {
        close(master_);
        close(slave_);
    }
    const std::string& name() const { return name_; }
    bool send(std::span<const uint8_t> octets) {
        return write(master_, octets.data(), octets.size()) == static_cast<ssize_t>(octets.size());
    }
    // Reads until a frame of `type` for the peer arrives (others are counted
    // in `seen`), for at most `timeout`.
    bool wait_for(FrameType type, std::chrono::milliseconds timeout) {
        const auto until = mstp::Clock::now() + timeout;
        while (true) {
            while (next_ < got_) {
                if (seen.feed(buffer_[next_++]) == type) return true;
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(until - mstp::Clock::now());
            if (left.count() <= 0) return false;
            pollfd p{master_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            const ssize_t n = read(master_, buffer_.data(), buffer_.size());
            next_ = 0;
            got_ = n > 0 ? static_cast<size_t>(n) : 0;
        }
    }
    Seen seen;

  private:
    int master_ = -1, slave_ = -1;
    std::string name_;
    std::array<uint8_t, 512> buffer_{};
    size_t next_ = 0, got_ = 0;
};

}  // namespace

// The whole face on a pseudo-terminal: asio's serial port, the wake timer,
// the master node, the answer gate and the router, once warm, allocate
// nothing for a token passed and back and a ReadProperty answered.
TEST(MstpAllocations, MeterFaceOverAPseudoTerminalAllocatesNothingPerRequest) {
    PtyMaster peer;
    Device device(alloc_config(peer.name()), std::nullopt);
    device.run_inline(1.0);
    boost::asio::io_context io;
    mstp::MeterMstpFace face(io, device);
    face.start();
    const PeerFrames frames;
    constexpr int kWarm = 30;
    constexpr int kCounted = 300;
    CountedPhase phase;
    std::atomic<int> failures{0};
    std::thread client([&] {
        // The meter claims the token on the silent line and polls us.
        bool ok = peer.wait_for(FrameType::PollForMaster, 3s) && peer.send(frames.reply_to_poll) &&
                  peer.wait_for(FrameType::Token, 2s);
        if (!ok) ++failures;
        auto one = [&] {
            // We hold the token: ask, get the answer, pass the token, get it back.
            return peer.send(frames.request) &&
                   peer.wait_for(FrameType::DataNotExpectingReply, 2s) && peer.send(frames.token) &&
                   peer.wait_for(FrameType::Token, 2s);
        };
        for (int i = 0; ok && i < kWarm; ++i)
            if (!one()) ++failures;
        phase.warm_done();
        for (int i = 0; ok && i < kCounted; ++i)
            if (!one()) ++failures;
        phase.done();
    });
    phase.serve_warm_up(io);
    const uint64_t answers = peer.seen.answers;
    const long counted = phase.count(io);
    client.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(peer.seen.answers - answers, static_cast<uint64_t>(kCounted));
    EXPECT_TRUE(answers_request(peer.seen.answer(), 7));
    EXPECT_EQ(counted, 0) << static_cast<double>(counted) / kCounted << " per request";
    face.stop();
    io.run_for(10ms);
}
