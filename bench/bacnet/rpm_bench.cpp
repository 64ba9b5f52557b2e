// RPM requests per second and latency against the test node served by the
// BACnet/IP face on 127.0.0.1 (its own io_context thread here, as the test
// server runs it), with a plain UDP client in the benchmark thread.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <thread>

#include "protocols/bacnet/face.hpp"
#include "protocols/bacnet/services.hpp"
#include "router_client.hpp"
#include "test_database.hpp"

using namespace openbcpm::bacnet;
namespace asio = boost::asio;

namespace {

struct Server {
    asio::io_context io;
    std::unique_ptr<testbed::TestNode> node = testbed::make_test_node(40);
    VirtualRouter router{node->config, {}};
    std::unique_ptr<BacnetIpFace> face;
    std::thread thread;
    uint16_t port = 0;
    Server() {
        BacnetIpOptions o;
        o.address = "127.0.0.1";
        o.port = 0;
        o.netmask = "255.255.255.255";
        face = std::make_unique<BacnetIpFace>(io, router, o);
        face->start();
        port = face->local_port();
        thread = std::thread([this] { io.run(); });
    }
    ~Server() {
        asio::post(io, [this] { face->stop(); });
        thread.join();
    }
};

Server& server() {
    static Server s;
    return s;
}

void run(benchmark::State& state, ConfirmedService service, const std::vector<uint8_t>& request) {
    bench::RouterClient client(server().port);
    std::vector<double> micros;
    size_t bytes = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        const auto t0 = std::chrono::steady_clock::now();
        if (!client.request(service, request, bytes)) {
            state.SkipWithError("no complete answer within a second");
            break;
        }
        micros.push_back(
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    std::sort(micros.begin(), micros.end());
    const auto pct = [&](double p) {
        return micros.empty()
                   ? 0.0
                   : micros[static_cast<size_t>(p * static_cast<double>(micros.size() - 1))];
    };
    state.counters["p50_us"] = pct(0.50);
    state.counters["p99_us"] = pct(0.99);
    state.counters["requests_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_ReadProperty(benchmark::State& state) {
    run(state, ConfirmedService::ReadProperty,
        encode_read_property(
            {ObjectId(ObjectType::AnalogInput, 1), {PropertyId::PresentValue, kNoIndex}}));
}

void BM_RpmTenPresentValues(benchmark::State& state) {
    std::vector<ReadAccessSpec> specs;
    for (uint32_t i = 1; i <= 10; ++i) {
        specs.push_back(
            {ObjectId(ObjectType::AnalogInput, i),
             {{PropertyId::PresentValue, kNoIndex}, {PropertyId::StatusFlags, kNoIndex}}});
    }
    run(state, ConfirmedService::ReadPropertyMultiple, encode_read_property_multiple(specs));
}

void BM_RpmAllOfAllObjectsSegmented(benchmark::State& state) {
    std::vector<ReadAccessSpec> specs{
        {ObjectId(ObjectType::Device, 50001), {{PropertyId::All, kNoIndex}}}};
    for (uint32_t i = 1; i <= 40; ++i)
        specs.push_back({ObjectId(ObjectType::AnalogInput, i), {{PropertyId::All, kNoIndex}}});
    for (uint32_t i = 1; i <= 2; ++i)
        specs.push_back({ObjectId(ObjectType::AnalogValue, i), {{PropertyId::All, kNoIndex}}});
    specs.push_back({ObjectId(ObjectType::AnalogOutput, 1), {{PropertyId::All, kNoIndex}}});
    specs.push_back({ObjectId(ObjectType::NotificationClass, 1), {{PropertyId::All, kNoIndex}}});
    run(state, ConfirmedService::ReadPropertyMultiple, encode_read_property_multiple(specs));
}

}  // namespace

BENCHMARK(BM_ReadProperty)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_RpmTenPresentValues)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_RpmAllOfAllObjectsSegmented)->UseRealTime()->MinTime(2.0);
BENCHMARK_MAIN();
