// BACnet/IP load against a running meter (the real binary): N clients, each
// on its own UDP socket and thread, send one confirmed request at a time to
// panel 1 (through the virtual router) and wait for the whole answer
// (segments acknowledged window by window). Prints requests per second and
// the latency percentiles.
// Usage: bacnet_load PORT CLIENTS SECONDS KIND   (KIND: rp | rpm10 | rpm-all20)
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "protocols/bacnet/apdu.hpp"
#include "protocols/bacnet/bvll.hpp"
#include "protocols/bacnet/npdu.hpp"
#include "protocols/bacnet/services.hpp"

using namespace openbcpm::bacnet;
namespace asio = boost::asio;
using asio::ip::udp;
using Clock = std::chrono::steady_clock;

namespace {

// Panel 1's current inputs (docs/bacnet-objects.md: AI417.. channel 1..42 current).
constexpr uint32_t kFirstCurrent = 417;

struct Request {
    ConfirmedService service;
    std::vector<uint8_t> data;
};

Request request_of(const std::string& kind) {
    if (kind == "rp") {
        return {ConfirmedService::ReadProperty,
                encode_read_property({ObjectId(ObjectType::AnalogInput, kFirstCurrent),
                                      {PropertyId::PresentValue, kNoIndex}})};
    }
    std::vector<ReadAccessSpec> specs;
    if (kind == "rpm10") {
        for (uint32_t i = 0; i < 10; ++i) {
            specs.push_back(
                {ObjectId(ObjectType::AnalogInput, kFirstCurrent + i),
                 {{PropertyId::PresentValue, kNoIndex}, {PropertyId::StatusFlags, kNoIndex}}});
        }
    } else if (kind == "rpm-all20") {
        for (uint32_t i = 0; i < 20; ++i) {
            specs.push_back({ObjectId(ObjectType::AnalogInput, kFirstCurrent + i),
                             {{PropertyId::All, kNoIndex}}});
        }
    } else {
        std::fprintf(stderr, "unknown kind %s (rp, rpm10, rpm-all20)\n", kind.c_str());
        std::exit(2);
    }
    return {ConfirmedService::ReadPropertyMultiple, encode_read_property_multiple(specs)};
}

class Client {
  public:
    explicit Client(uint16_t port)
        : socket_(io_, udp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0)),
          target_(asio::ip::make_address_v4("127.0.0.1"), port) {
        socket_.set_option(asio::socket_base::receive_buffer_size(1 << 20));
        // Blocking receives that give up after a second (a lost datagram).
        timeval tv{1, 0};
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }

    // One request; false when no complete answer came within a second.
    bool request(const Request& r, size_t& bytes) {
        ConfirmedHeader h;
        h.invoke_id = ++invoke_;
        h.service = static_cast<uint8_t>(r.service);
        h.segmented_response_accepted = true;
        h.max_segments_code = 7;  // more than 64
        h.max_apdu_code = 5;      // 1476
        send(encode_confirmed_request(h, r.data));
        const auto deadline = Clock::now() + std::chrono::seconds(1);
        while (Clock::now() < deadline) {
            boost::system::error_code ec;
            const size_t n = socket_.receive(asio::buffer(buf_), 0, ec);
            if (ec) return false;
            const auto m = decode_bvll(std::span<const uint8_t>(buf_.data(), n));
            if (!m) continue;
            const auto np = decode_npdu(m->npdu);
            if (!np || np->header.network_message) continue;
            const auto a = decode_apdu(np->payload);
            if (!a || a->invoke_id != h.invoke_id) continue;
            bytes += a->data.size();
            if (a->type != PduType::ComplexAck) return a->type == PduType::SimpleAck;
            if (!a->segmented) return true;
            // The first segment comes alone; then acknowledge the end of
            // each window and the last segment.
            const uint8_t window = std::max<uint8_t>(a->window_size, 1);
            if (!a->more_follows || a->sequence_number % window == 0)
                send(encode_segment_ack(false, false, h.invoke_id, a->sequence_number, window));
            if (!a->more_follows) return true;
        }
        return false;
    }

  private:
    void send(const std::vector<uint8_t>& apdu) {
        NpduHeader nh;
        nh.expecting_reply = true;
        nh.destination = NetAddress{50, {1}};
        const auto d = encode_bvll_npdu(BvlcFunction::OriginalUnicastNpdu, encode_npdu(nh, apdu));
        socket_.send_to(asio::buffer(d), target_);
    }
    asio::io_context io_;
    udp::socket socket_;
    udp::endpoint target_;
    std::array<uint8_t, 1600> buf_{};
    uint8_t invoke_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s PORT CLIENTS SECONDS KIND (rp | rpm10 | rpm-all20)\n",
                     argv[0]);
        return 2;
    }
    const auto port = static_cast<uint16_t>(std::atoi(argv[1]));
    const int clients = std::max(1, std::atoi(argv[2]));
    const double seconds = std::atof(argv[3]);
    const Request req = request_of(argv[4]);
    std::atomic<bool> go{false}, stop{false};
    std::vector<std::vector<double>> latencies(static_cast<size_t>(clients));
    std::vector<size_t> failures(static_cast<size_t>(clients)), bytes(static_cast<size_t>(clients));
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(clients));
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            Client client(port);
            auto& lat = latencies[static_cast<size_t>(c)];
            lat.reserve(1 << 20);
            while (!go.load())
                std::this_thread::yield();
            while (!stop.load()) {
                const auto t0 = Clock::now();
                if (client.request(req, bytes[static_cast<size_t>(c)]))
                    lat.push_back(
                        std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
                else
                    ++failures[static_cast<size_t>(c)];
            }
        });
    }
    const auto t0 = Clock::now();
    go = true;
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& t : threads)
        t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<double> all;
    size_t failed = 0, total_bytes = 0;
    for (int c = 0; c < clients; ++c) {
        const auto i = static_cast<size_t>(c);
        all.insert(all.end(), latencies[i].begin(), latencies[i].end());
        failed += failures[i];
        total_bytes += bytes[i];
    }
    std::sort(all.begin(), all.end());
    const auto pct = [&](double p) {
        return all.empty() ? 0.0
                           : all[static_cast<size_t>(p * static_cast<double>(all.size() - 1))];
    };
    std::printf(
        "%-9s clients %3d  %9.0f req/s  p50 %7.0f us  p99 %7.0f us  %7.0f B/answer  failed %zu\n",
        argv[4], clients, static_cast<double>(all.size()) / elapsed, pct(0.5), pct(0.99),
        all.empty() ? 0.0 : static_cast<double>(total_bytes) / static_cast<double>(all.size()),
        failed);
    return all.empty() ? 1 : 0;
}
