// BACnet/IP load against a running meter (the real binary): N clients, each
// on its own UDP socket and thread, send one confirmed request at a time to
// panel 1 (through the virtual router) and wait for the whole answer
// (segments acknowledged window by window). Prints requests per second and
// the latency percentiles.
// Usage: bacnet_load PORT CLIENTS SECONDS KIND   (KIND: rp | rpm10 | rpm-all20)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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
            bench::RouterClient client(port);
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
        "%-9s clients %3d  %9.0f req/s  p50 %7.0f us  p99 %7.0f us  %7.0f B/answer  failed %zu\n",
        argv[4], clients, static_cast<double>(all.size()) / elapsed, pct(0.5), pct(0.99),
        all.empty() ? 0.0 : static_cast<double>(total_bytes) / static_cast<double>(all.size()),
        failed);
    return all.empty() ? 1 : 0;
}
