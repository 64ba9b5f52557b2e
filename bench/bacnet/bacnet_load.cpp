// BACnet/IP load against a running meter (the real binary): N clients, each
// on its own UDP socket and thread, send one confirmed request at a time to
// panel 1 (through the virtual router) and wait for the whole answer
// (segments acknowledged window by window). Prints requests per second and
// the latency percentiles.
// Usage: bacnet_load PORT CLIENTS SECONDS KIND   (KIND: rp | rpm10 | rpm-all20)
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "protocols/bacnet/services.hpp"
#include "router_client.hpp"

using namespace openbcpm::bacnet;
using Clock = std::chrono::steady_clock;

namespace {

// Panel 1's current inputs (docs/bacnet-objects.md: AI417.. channel 1..42 current).
constexpr uint32_t kFirstCurrent = 417;

struct Request {
    ConfirmedService service;
    std::vector<uint8_t> data;
};

Request request_of(const std::string& kind, uint32_t ai = kFirstCurrent) {
    if (kind == "rp") {
        return {ConfirmedService::ReadProperty,
                encode_read_property(
                    {ObjectId(ObjectType::AnalogInput, ai), {PropertyId::PresentValue, kNoIndex}})};
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

// One socket, `window` requests in flight (one invoke ID each), one thread.
// Fills `lat` with the latency of each answered request; returns the number
// of requests that got no answer within a second (sent again).
size_t run_windowed(uint16_t port, int window, double seconds, const Request& req,
                    std::optional<NetAddress> dest, std::vector<double>& lat, size_t& bytes) {
    namespace asio = boost::asio;
    asio::io_context io;
    asio::ip::udp::socket socket(
        io, asio::ip::udp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
    const asio::ip::udp::endpoint target(asio::ip::make_address_v4("127.0.0.1"), port);
    socket.set_option(asio::socket_base::receive_buffer_size(1 << 22));
    timeval tv{0, 100000};  // wake up to look for lost requests
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::array<Clock::time_point, 256> sent{};
    std::array<bool, 256> busy{};
    std::array<uint8_t, 1600> buf{};
    uint8_t next = 0;
    const auto send = [&](uint8_t id) {
        ConfirmedHeader h;
        h.invoke_id = id;
        h.service = static_cast<uint8_t>(req.service);
        h.segmented_response_accepted = false;
        h.max_apdu_code = 5;  // 1476
        NpduHeader nh;
        nh.expecting_reply = true;
        nh.destination = dest;
        const auto d = encode_bvll_npdu(BvlcFunction::OriginalUnicastNpdu,
                                        encode_npdu(nh, encode_confirmed_request(h, req.data)));
        socket.send_to(asio::buffer(d), target);
        sent[id] = Clock::now();
        busy[id] = true;
    };
    const auto send_next = [&] {
        while (busy[next])
            ++next;
        send(next++);
    };
    for (int i = 0; i < window; ++i)
        send_next();
    size_t failed = 0;
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < end) {
        boost::system::error_code ec;
        const size_t n = socket.receive(asio::buffer(buf), 0, ec);
        const auto now = Clock::now();
        if (!ec) {
            const auto m = decode_bvll(std::span<const uint8_t>(buf.data(), n));
            if (!m) continue;
            const auto np = decode_npdu(m->npdu);
            if (!np || np->header.network_message) continue;
            const auto a = decode_apdu(np->payload);
            if (!a || !busy[a->invoke_id]) continue;
            busy[a->invoke_id] = false;
            if (a->type == PduType::ComplexAck && !a->segmented) {
                lat.push_back(
                    std::chrono::duration<double, std::micro>(now - sent[a->invoke_id]).count());
                bytes += a->data.size();
            } else {
                ++failed;
            }
            send_next();
        }
        for (size_t id = 0; id < busy.size(); ++id) {
            if (busy[id] && now - sent[id] > std::chrono::seconds(1)) {
                ++failed;
                send(static_cast<uint8_t>(id));
            }
        }
    }
    return failed;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr,
                     "usage: %s PORT CLIENTS SECONDS KIND [--window N] [--direct AI]\n"
                     "  KIND: rp | rpm10 | rpm-all20\n",
                     argv[0]);
        return 2;
    }
    const auto port = static_cast<uint16_t>(std::atoi(argv[1]));
    int clients = std::max(1, std::atoi(argv[2]));
    const double seconds = std::atof(argv[3]);
    const std::string kind = argv[4];
    int window = 0;
    std::optional<uint32_t> direct;
    for (int i = 5; i + 1 < argc; i += 2) {
        const std::string opt = argv[i];
        if (opt == "--window")
            window = std::clamp(std::atoi(argv[i + 1]), 1, 255);
        else if (opt == "--direct")
            direct = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    }
    if ((window > 0 || direct) && kind == "rpm-all20") {
        std::fprintf(stderr, "--window and --direct take rp or rpm10\n");
        return 2;
    }
    const Request req = direct ? request_of(kind, *direct) : request_of(kind);
    if (direct && kind != "rp") {
        std::fprintf(stderr, "--direct takes rp\n");
        return 2;
    }
    std::optional<NetAddress> dest;
    if (!direct) dest = NetAddress{50, {1}};
    if (window > 0) clients = 1;
    std::atomic<bool> go{false}, stop{false};
    std::vector<std::vector<double>> latencies(static_cast<size_t>(clients));
    std::vector<size_t> failures(static_cast<size_t>(clients)), bytes(static_cast<size_t>(clients));
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(clients));
    for (int c = 0; c < clients && window > 0; ++c) {
        threads.emplace_back([&, c] {
            const auto i = static_cast<size_t>(c);
            latencies[i].reserve(1 << 21);
            while (!go.load())
                std::this_thread::yield();
            failures[i] = run_windowed(port, window, seconds, req, dest, latencies[i], bytes[i]);
        });
    }
    for (int c = 0; c < clients && window == 0; ++c) {
        threads.emplace_back([&, c] {
            bench::RouterClient client(port, dest);
            auto& lat = latencies[static_cast<size_t>(c)];
            lat.reserve(1 << 20);
            while (!go.load())
                std::this_thread::yield();
            while (!stop.load()) {
                const auto t0 = Clock::now();
                if (client.request(req.service, req.data, bytes[static_cast<size_t>(c)]))
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
        "%-9s %s %3d  %9.0f req/s  p50 %7.0f us  p99 %7.0f us  %7.0f B/answer  failed %zu\n",
        argv[4], window > 0 ? "window " : "clients", window > 0 ? window : clients,
        static_cast<double>(all.size()) / elapsed, pct(0.5), pct(0.99),
        all.empty() ? 0.0 : static_cast<double>(total_bytes) / static_cast<double>(all.size()),
        failed);
    return all.empty() ? 1 : 0;
}
