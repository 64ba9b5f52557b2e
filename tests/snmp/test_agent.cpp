// An SNMP agent for the integration tests and the benchmark: the real SNMP
// face of a meter (SNMPv2-MIB) plus the test MIB, on 127.0.0.1. Prints
// "port N" once it listens; runs until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <exception>

#include "config/config.hpp"
#include "device/device.hpp"
#include "protocols/snmp/snmp_face.hpp"
#include "test_mib.hpp"

namespace {

int run(int argc, char** argv) {
    using namespace openbcpm;
    CLI::App app{"openbcpm SNMP test agent"};
    std::string address = "127.0.0.1";
    int port = 0;
    std::string trap_address = "127.0.0.1";
    int trap_port = 162;
    uint32_t rows = 2000;
    size_t max_size = snmp::kMaxUdpPayload;
    std::string read_community = "public", write_community = "private", trap_community = "trap";
    app.add_option("--address", address, "address to bind");
    app.add_option("--port", port, "UDP port (0: any free one)");
    app.add_option("--trap-address", trap_address, "notification receiver address (0.0.0.0: none)");
    app.add_option("--trap-port", trap_port, "notification receiver port");
    app.add_option("--rows", rows, "rows of the test table (9 columns)");
    app.add_option("--max-size", max_size, "largest response, octets");
    app.add_option("--read-community", read_community);
    app.add_option("--write-community", write_community);
    app.add_option("--trap-community", trap_community);
    CLI11_PARSE(app, argc, argv);

    Config cfg = default_config();
    GatewaySettings& g = cfg.settings.gateway;
    g.ip_address = address;
    g.snmp_port = port;
    g.snmp_notif_ip = trap_address;
    g.snmp_notif_port = trap_port;
    g.read_community = read_community;
    g.write_community = write_community;
    g.trap_community = trap_community;
    Device device(cfg, std::nullopt);
    snmp::testmib::TestMib mib(rows);

    boost::asio::io_context io;
    snmp::SnmpFaceOptions options;
    options.views = {mib.view()};
    options.capabilities = {{snmp::testmib::kRoot, "The openbcpm SNMP test MIB"}};
    options.max_message_size = max_size;
    snmp::SnmpFace face(io, device, options);
    face.start();
    std::printf("port %u\n", static_cast<unsigned>(face.local_endpoint().port()));
    std::fflush(stdout);

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) {
        face.stop();
        io.stop();
    });
    io.run();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "snmp_test_agent: %s\n", e.what());
        return 1;
    }
}
