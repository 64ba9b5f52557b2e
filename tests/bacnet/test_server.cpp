// The BACnet/IP test server of the integration tests and the benchmark:
// the test node (router + two panel devices) on 127.0.0.1. Prints
// "READY <port>" when it listens, and one line per hook call (TIMESYNC,
// IDENTITY, REINIT) so that tests can check them. Stops on SIGINT/SIGTERM or
// after --lifetime seconds.
#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <string>

#include "protocols/bacnet/face.hpp"
#include "test_database.hpp"
#include "test_server_support.hpp"

using namespace openbcpm::bacnet;
using testbed::say;

static int serve(int argc, char** argv) {
    BacnetIpOptions options;
    options.address = "127.0.0.1";
    options.port = 47901;
    options.netmask = "255.255.255.255";
    std::string password;
    int inputs = 40;
    int lifetime = 600;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i], value = argv[i + 1];
        if (key == "--port")
            options.port = static_cast<uint16_t>(std::stoi(value));
        else if (key == "--address")
            options.address = value;
        else if (key == "--netmask")
            options.netmask = value;
        else if (key == "--password")
            password = value;
        else if (key == "--inputs")
            inputs = std::stoi(value);
        else if (key == "--lifetime")
            lifetime = std::stoi(value);
        else if (key == "--bbmd") {
            options.bbmd = true;
            try {
                options.bdt = load_bdt_file(value);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "%s\n", e.what());
                return 2;
            }
        } else {
            std::fprintf(stderr, "unknown option %s\n", key.c_str());
            return 2;
        }
    }

    boost::asio::io_context io;
    auto node = testbed::make_test_node(inputs);
    RouterConfig config = node->config;
    config.password = password;
    RouterHooks hooks = testbed::announcing_hooks();
    VirtualRouter router(config, hooks);
    options.on_tick = testbed::evaluate_panels(*node);
    BacnetIpFace face(io, router, options);
    try {
        face.start();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    say(fmt::format("READY {}", face.local_port()));

    testbed::run_until_stopped(io, lifetime, [&] { face.stop(); });
    const auto& s = router.stats();
    say(fmt::format(
        "STOPPED in={} out={} dropped={} rejects={} aborts={} segmented={} notifications={}",
        s.npdus_in, s.npdus_out, s.dropped, s.rejects, s.aborts, s.segmented_responses,
        s.notifications));
    return 0;
}

int main(int argc, char** argv) {
    try {
        return serve(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bacnet_test_server: %s\n", e.what());
        return 1;
    }
}
