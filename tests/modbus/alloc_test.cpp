// The Modbus read path allocates nothing per request: the handler's reads,
// the TCP face serving masters over loopback and the RTU face serving a master
// on a pseudo-terminal, counted by replacing the global allocation functions
// in this test executable.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "../counting_new.hpp"
#include "device/device.hpp"
#include "protocols/modbus/codec.hpp"
#include "protocols/modbus/handler.hpp"
#include "protocols/modbus/rtu_face.hpp"
#include "protocols/modbus/tcp_face.hpp"

using namespace openbcpm;
using namespace openbcpm::modbus;

namespace {

// A port nothing listens on now.
int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        close(fd);
        return 0;
    }
    close(fd);
    return ntohs(a.sin_port);
}

Config alloc_config() {
    return parse_config(
        "[device]\nchannels = 84\n[modbus]\ntcp_port = " + std::to_string(free_port()) + "\n",
        "alloc-test");
}

}  // namespace

TEST(ModbusAllocations, HandlerReadsAllocateNothing) {
    Device device(alloc_config(), std::nullopt);
    device.run_inline(1.0);
    Handler handler(device);
    std::array<uint8_t, kMaxPdu> out{};
    const std::array<std::array<uint8_t, 5>, 4> reads{{
        {0x03, 0x07, 0xCF, 0x00, 125},  // 2000..2124, the channel floats
        {0x04, 0x00, 0x00, 0x00, 125},  // 1..125 as input registers
        {0x03, 0x04, 0x97, 0x00, 2},    // 1176: an int32
        {0x03, 0x02, 0x1F, 0x00, 1},    // 544: a hole, exception 02
    }};
    for (const auto& pdu : reads)  // the pages of this state rendered
        handler.respond(1, pdu, Transport::Tcp, nullptr, out);
    allocations = 0;
    counting = true;
    size_t bytes = 0;
    for (int i = 0; i < 1000; ++i) {
        for (const auto& pdu : reads)
            bytes += handler.respond(1, pdu, Transport::Tcp, nullptr, out);
    }
    counting = false;
    EXPECT_EQ(allocations.load(), 0);
    EXPECT_EQ(bytes, 1000u * (252 + 252 + 6 + 2));
    // The count works: the vector-returning form allocates its answer.
    counting = true;
    EXPECT_TRUE(handler.handle(1, reads[0], Transport::Tcp));
    counting = false;
    EXPECT_GT(allocations.load(), 0);
}

// Masters on loopback, each with one request in flight: once every
// connection is up and has been answered, answering allocates nothing.
TEST(ModbusAllocations, TcpFaceAnswersReadsWithoutAllocating) {
    Device device(alloc_config(), std::nullopt);
    device.run_inline(1.0);
    boost::asio::io_context io;
    TcpFace face(io, device, ModbusConfig{});
    face.start();
    constexpr int kMasters = 4;
    constexpr int kWarm = 50;
    constexpr int kCounted = 500;
    CountedPhase phase(kMasters);
    std::atomic<int> failures{0};
    std::vector<std::thread> masters;
    for (int m = 0; m < kMasters; ++m) {
        masters.emplace_back([&] {
            const int fd = socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in to{};
            to.sin_family = AF_INET;
            to.sin_port = htons(face.port());
            to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
                ++failures;
                phase.gave_up();
                return;
            }
            auto one = [&](uint16_t id) {
                const std::array<uint8_t, 12> req{static_cast<uint8_t>(id >> 8),
                                                  static_cast<uint8_t>(id),
                                                  0,
                                                  0,
                                                  0,
                                                  6,
                                                  1,
                                                  3,
                                                  0x07,
                                                  0xCF,
                                                  0,
                                                  125};
                if (send(fd, req.data(), req.size(), 0) != 12) return false;
                std::array<uint8_t, 259> ans{};
                size_t got = 0;
                while (got < ans.size()) {
                    const ssize_t r = recv(fd, ans.data() + got, ans.size() - got, 0);
                    if (r <= 0) return false;
                    got += static_cast<size_t>(r);
                }
                return ans[0] == static_cast<uint8_t>(id >> 8) &&
                       ans[1] == static_cast<uint8_t>(id) && ans[7] == 3 && ans[8] == 250;
            };
            uint16_t id = 0;
            for (int i = 0; i < kWarm; ++i)
                if (!one(++id)) ++failures;
            phase.warm_done();
            for (int i = 0; i < kCounted; ++i)
                if (!one(++id)) ++failures;
            phase.done();
            close(fd);
        });
    }
    // Serve until every master is warm, then count while they run.
    const long counted = phase.count(io);
    for (auto& t : masters)
        t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(face.handler().stats().requests, uint64_t{kMasters} * (kWarm + kCounted));
    EXPECT_EQ(counted, 0);
    face.stop();
}

namespace {

// Reads exactly `n` bytes within a second; false on a timeout or an error.
bool read_exactly(int fd, uint8_t* to, size_t n) {
    size_t got = 0;
    while (got < n) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 1000) <= 0) return false;
        const ssize_t r = read(fd, to + got, n - got);
        if (r <= 0) return false;
        got += static_cast<size_t>(r);
    }
    return true;
}

bool send_all(int fd, const std::vector<uint8_t>& bytes) {
    return write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
}

// A request frame with its CRC (built before counting starts).
std::vector<uint8_t> rtu_request(uint8_t address, std::vector<uint8_t> pdu) {
    return rtu_adu(address, pdu);
}

// The master's end of a pseudo-terminal pair; the face opens the other end
// (its path) as its serial device.
struct Pty {
    int master = -1;
    std::string path;
    Pty() {
        master = posix_openpt(O_RDWR | O_NOCTTY);
        if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) return;
        if (const char* name = ptsname(master)) path = name;
    }
    ~Pty() {
        if (master >= 0) close(master);
    }
    Pty(const Pty&) = delete;
    Pty& operator=(const Pty&) = delete;
};

// The real RTU face on the loop of the test's thread, serving the slave end
// of a pseudo-terminal pair; the test is the master on the other end.
class ModbusRtuFace : public ::testing::Test {
  protected:
    ModbusRtuFace()
        : device_(parse_config("[device]\nchannels = 84\n[serial]\ndevice = \"" + pty_.path +
                                   "\"\nbaud = 76800\n",
                               "alloc-test"),
                  std::nullopt),
          face_(io_, device_) {}

    void SetUp() override {
        ASSERT_FALSE(pty_.path.empty()) << "no pseudo-terminal";
        device_.run_inline(1.0);
        face_.start();
    }
    void TearDown() override { face_.stop(); }

    // Runs the loop until `done` holds or two seconds have passed.
    template <class Done>
    bool run_until(Done done) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (!done()) {
            if (std::chrono::steady_clock::now() > until) return false;
            io_.run_for(std::chrono::milliseconds(1));
        }
        return true;
    }

    // Sends a request and reads its answer of `size` bytes (CRC included)
    // while the loop runs: true when a whole answer with a good CRC came.
    bool answered(const std::vector<uint8_t>& request, size_t size) {
        std::atomic<bool> done{false};
        bool good = false;
        std::thread reader([&] {
            std::array<uint8_t, kMaxRtuFrame> ans{};
            good = read_exactly(pty_.master, ans.data(), size) &&
                   decode_rtu(std::span<const uint8_t>(ans.data(), size)).has_value();
            done = true;
        });
        const bool sent = send_all(pty_.master, request);
        run_until([&] { return done.load(); });
        reader.join();
        return sent && good;
    }

    Pty pty_;
    Device device_;
    boost::asio::io_context io_;
    RtuFace face_;
};

}  // namespace

// A master on a pseudo-terminal, one request at a time as RTU masters go:
// once the face has answered a few, its answers (reads of 125 registers and
// an exception) allocate nothing, from the characters read off the line
// through the silence timer to the answer written back.
TEST_F(ModbusRtuFace, AnswersReadsWithoutAllocating) {
    struct Exchange {
        std::vector<uint8_t> request;
        size_t answer;  // its length, CRC included
        uint8_t function;
    };
    const std::array<Exchange, 3> exchanges{{
        {rtu_request(1, {0x03, 0x07, 0xCF, 0x00, 125}), 255, 0x03},  // 2000..2124
        {rtu_request(1, {0x04, 0x00, 0x00, 0x00, 125}), 255, 0x04},  // 1..125
        {rtu_request(1, {0x03, 0x02, 0x1F, 0x00, 1}), 5, 0x83},      // 544: a hole, exception 02
    }};
    constexpr int kWarm = 10;
    constexpr int kCounted = 100;
    CountedPhase phase;
    std::atomic<int> failures{0};
    std::thread master([&] {
        auto one = [&](const Exchange& e) {
            if (!send_all(pty_.master, e.request)) return false;
            std::array<uint8_t, kMaxRtuFrame> ans{};
            if (!read_exactly(pty_.master, ans.data(), e.answer)) return false;
            const auto frame = decode_rtu(std::span(ans.data(), e.answer));
            return frame && frame->address == 1 && frame->pdu[0] == e.function;
        };
        for (int i = 0; i < kWarm; ++i) {
            for (const auto& e : exchanges)
                if (!one(e)) ++failures;
        }
        phase.warm_done();
        for (int i = 0; i < kCounted; ++i) {
            for (const auto& e : exchanges)
                if (!one(e)) ++failures;
        }
        phase.done();
    });
    const long counted = phase.count(io_);
    master.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(face_.stats().frames, uint64_t{exchanges.size()} * (kWarm + kCounted));
    EXPECT_EQ(face_.stats().responses, face_.stats().frames);
    EXPECT_EQ(face_.stats().crc_errors, 0u);
    EXPECT_EQ(counted, 0) << double(counted) / double(exchanges.size() * kCounted)
                          << " allocations per request";
}

// The answers waiting for the line are bounded: a master that sends requests
// and reads nothing fills the pseudo-terminal, then the face's few places;
// further answers are dropped and counted. Once the master reads, it gets
// whole answers, as many as were not dropped, and is answered again.
TEST_F(ModbusRtuFace, QueuesAFewAnswersAtMost) {
    const auto request = rtu_request(1, {0x03, 0x07, 0xCF, 0x00, 125});
    constexpr size_t kAnswer = 255;
    // One request per pass, each after the previous one's silence.
    int sent = 0;
    while (face_.stats().dropped < 3 && sent < 5000) {
        ASSERT_TRUE(send_all(pty_.master, request));
        ++sent;
        const auto frames = face_.stats().frames;
        ASSERT_TRUE(run_until([&] { return face_.stats().frames > frames; }));
    }
    ASSERT_EQ(face_.stats().dropped, 3u) << sent << " requests sent";
    EXPECT_EQ(face_.stats().responses, static_cast<uint64_t>(sent));
    // Every answer not dropped reaches the master, whole and in order.
    const uint64_t delivered = face_.stats().responses - face_.stats().dropped;
    std::atomic<bool> read_all{false};
    std::thread reader([&] {
        std::array<uint8_t, kAnswer> ans{};
        for (uint64_t i = 0; i < delivered; ++i) {
            if (!read_exactly(pty_.master, ans.data(), ans.size()) ||
                !decode_rtu(std::span<const uint8_t>(ans))) {
                ADD_FAILURE() << "answer " << i << " of " << delivered;
                break;
            }
        }
        read_all = true;
    });
    EXPECT_TRUE(run_until([&] { return read_all.load(); }));
    reader.join();
    pollfd p{pty_.master, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 0), 0) << "more than the answers not dropped";
    // The queue drained: the next request is answered.
    EXPECT_TRUE(answered(request, kAnswer));
    EXPECT_EQ(face_.stats().dropped, 3u);
}

// What the face must not answer, through the face with its fixed frame
// buffer: a frame longer than 256 bytes (an overrun, dropped until the next
// silence), a damaged CRC, another address on the bus, a broadcast; the next
// good request is answered each time.
TEST_F(ModbusRtuFace, DropsWhatItMustNotAnswer) {
    const auto good = rtu_request(1, {0x03, 0x00, 0x00, 0x00, 5});
    constexpr size_t kAnswer = 15;  // address, function, count, 10 bytes, CRC
    auto unanswered = [&](const std::vector<uint8_t>& frame) {
        const RtuStats before = face_.stats();
        EXPECT_TRUE(send_all(pty_.master, frame));
        run_until([&] {
            return face_.stats().frames > before.frames || face_.stats().overruns > before.overruns;
        });
        io_.run_for(std::chrono::milliseconds(20));  // the silence after it, and any answer
        pollfd p{pty_.master, POLLIN, 0};
        EXPECT_EQ(poll(&p, 1, 0), 0) << "an answer";
        EXPECT_EQ(face_.stats().responses, before.responses);
    };
    ASSERT_TRUE(answered(good, kAnswer));
    unanswered(std::vector<uint8_t>(kMaxRtuFrame + 1, 0x01));
    EXPECT_EQ(face_.stats().overruns, 1u);
    EXPECT_EQ(face_.stats().frames, 1u);  // the overlong frame is not one
    EXPECT_TRUE(answered(good, kAnswer));
    auto damaged = good;
    damaged.back() ^= 0xFF;
    unanswered(damaged);
    EXPECT_EQ(face_.stats().crc_errors, 1u);
    EXPECT_TRUE(answered(good, kAnswer));
    unanswered(rtu_request(7, {0x03, 0x00, 0x00, 0x00, 5}));  // another device's address
    EXPECT_TRUE(answered(good, kAnswer));
    unanswered(rtu_request(0, {0x03, 0x00, 0x00, 0x00, 5}));  // a broadcast
    EXPECT_TRUE(answered(good, kAnswer));
    EXPECT_EQ(face_.stats().frames, 8u);
    EXPECT_EQ(face_.stats().crc_errors, 1u);
    EXPECT_EQ(face_.stats().responses, 5u);
}
