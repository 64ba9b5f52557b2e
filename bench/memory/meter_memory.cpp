// What one more meter costs in memory: builds 1, then 2, then 10 meters of the
// embedded default configuration (two 84-channel panels) in this process, each
// a Device (no storage, not started) with its BACnet node (MeterNode: the
// router, the panel devices' object databases) and its SNMP face (the agent
// and the product MIB's view; not started, no socket), and prints the heap in
// use (mallinfo2) and VmRSS after each step, the increment per meter and
// which part of it each layer is. Usage: meter_memory [meters (default 10)]
#include <malloc.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "device/device.hpp"
#include "protocols/bacnet/meter_node.hpp"
#include "protocols/snmp/meter_face.hpp"

using namespace openbcpm;

namespace {

double heap_mb() {
    return static_cast<double>(mallinfo2().uordblks) / 1e6;
}

double rss_mb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1e3;
    }
    return 0.0;
}

struct MeterUnderTest {
    std::unique_ptr<Device> device;
    std::unique_ptr<bacnet::MeterNode> bacnet;
    std::unique_ptr<Face> snmp;
};

struct Sample {
    double heap = 0, rss = 0;
};

Sample sample() {
    malloc_trim(0);
    return {heap_mb(), rss_mb()};
}

}  // namespace

int main(int argc, char** argv) {
    const size_t most = argc > 1 ? static_cast<size_t>(std::max(2, std::atoi(argv[1]))) : 10;
    boost::asio::io_context io;
    const Config config = default_config();
    std::vector<MeterUnderTest> meters;
    meters.reserve(most);
    // Process-wide tables (catalogue, Modbus map, MIB, BACnet object tables)
    // are built by the first meter; the increments below are from the second on.
    std::printf("sizeof(MeterSnapshot) = %zu bytes\n", sizeof(MeterSnapshot));
    std::printf("%-8s %12s %12s %14s %14s %14s\n", "meters", "heap MB", "VmRSS MB", "Device MB",
                "BACnet MB", "SNMP MB");
    const Sample start = sample();
    std::printf("%-8d %12.2f %12.2f\n", 0, start.heap, start.rss);
    double device_mb = 0, bacnet_mb = 0, snmp_mb = 0;
    Sample at_one{}, last{};
    for (size_t n = 1; n <= most; ++n) {
        MeterUnderTest m;
        const Sample s0 = sample();
        m.device = std::make_unique<Device>(config, std::nullopt);
        const Sample s1 = sample();
        m.bacnet = std::make_unique<bacnet::MeterNode>(*m.device);
        const Sample s2 = sample();
        m.snmp = snmp::make_meter_snmp_face(io, *m.device);
        const Sample s3 = sample();
        meters.push_back(std::move(m));
        if (n >= 2) {
            device_mb += s1.heap - s0.heap;
            bacnet_mb += s2.heap - s1.heap;
            snmp_mb += s3.heap - s2.heap;
        }
        last = s3;
        if (n == 1) at_one = s3;
        if (n == 1 || n == 2 || n == most)
            std::printf("%-8zu %12.2f %12.2f %14.2f %14.2f %14.2f\n", n, s3.heap, s3.rss,
                        s1.heap - s0.heap, s2.heap - s1.heap, s3.heap - s2.heap);
    }
    const double k = static_cast<double>(most - 1);
    std::printf(
        "per additional meter (meters 2..%zu): heap %.2f MB (Device %.2f, BACnet node %.2f, "
        "SNMP face %.2f), VmRSS %.2f MB\n",
        most, (last.heap - at_one.heap) / k, device_mb / k, bacnet_mb / k, snmp_mb / k,
        (last.rss - at_one.rss) / k);
    return 0;
}
