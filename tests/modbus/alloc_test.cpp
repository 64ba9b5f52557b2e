// The Modbus read path allocates nothing per request: the handler's reads and
// the TCP face serving masters over loopback, counted by replacing the global
// allocation functions in this test executable.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
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
#include "protocols/modbus/handler.hpp"
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
    std::atomic<int> warmed{0};
    std::atomic<bool> counted_phase{false};
    std::atomic<int> finished{0};
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
                ++warmed;
                ++finished;
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
            ++warmed;
            while (!counted_phase.load())
                std::this_thread::yield();
            for (int i = 0; i < kCounted; ++i)
                if (!one(++id)) ++failures;
            ++finished;
            close(fd);
        });
    }
    // Serve until every master is warm, then count while they run.
    while (warmed.load() < kMasters)
        io.run_for(std::chrono::milliseconds(1));
    allocations = 0;
    counting = true;
    counted_phase = true;
    while (finished.load() < kMasters)
        io.run_for(std::chrono::milliseconds(1));
    counting = false;
    for (auto& t : masters)
        t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(face.handler().stats().requests, uint64_t{kMasters} * (kWarm + kCounted));
    EXPECT_EQ(allocations.load(), 0);
    face.stop();
}
