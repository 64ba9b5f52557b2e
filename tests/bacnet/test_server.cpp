// The BACnet/IP test server of the integration tests and the benchmark:
// the test node (router + two panel devices) on 127.0.0.1. Prints
// "READY <port>" when it listens, and one line per hook call (TIMESYNC,
// IDENTITY, REINIT) so that tests can check them. Stops on SIGINT/SIGTERM or
// after --lifetime seconds.
#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <ctime>
#include <string>

#include "protocols/bacnet/face.hpp"
#include "test_database.hpp"

using namespace openbcpm::bacnet;

namespace {

DateTime local_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    const uint8_t weekday = static_cast<uint8_t>(tm.tm_wday == 0 ? 7 : tm.tm_wday);
    return DateTime{Date{static_cast<uint8_t>(tm.tm_year), static_cast<uint8_t>(tm.tm_mon + 1),
                         static_cast<uint8_t>(tm.tm_mday), weekday},
                    Time{static_cast<uint8_t>(tm.tm_hour), static_cast<uint8_t>(tm.tm_min),
                         static_cast<uint8_t>(tm.tm_sec), 0}};
}

void say(const std::string& line) {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

}  // namespace

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
    RouterHooks hooks;
    hooks.local_time = local_now;
    hooks.time_synchronized = [](const DateTime& dt, bool utc) {
        say(fmt::format("TIMESYNC {} {:04}-{:02}-{:02} {:02}:{:02}:{:02}", utc ? "utc" : "local",
                        1900 + dt.date.year, dt.date.month, dt.date.day, dt.time.hour,
                        dt.time.minute, dt.time.second));
    };
    hooks.identity_changed = [](size_t d, uint32_t instance, const std::string& name) {
        say(fmt::format("IDENTITY {} {} {}", d, instance, name));
    };
    hooks.reinitialize = [](ReinitializedState s) {
        say(fmt::format("REINIT {}", static_cast<int>(s)));
        return true;
    };
    VirtualRouter router(config, hooks);
    options.on_tick = [&node](Clock::time_point now) {
        const DateTime dt = local_now();
        const TimeStamp stamp{TimeStamp::Kind::DateTime, dt.time, 0, dt.date};
        for (auto& db : node->panel_db)
            db->evaluate(now, stamp);
    };
    BacnetIpFace face(io, router, options);
    try {
        face.start();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    say(fmt::format("READY {}", face.local_port()));

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    boost::asio::steady_timer deadline(io, std::chrono::seconds(lifetime));
    const auto shutdown = [&] {
        face.stop();
        signals.cancel();
        deadline.cancel();
    };
    signals.async_wait([&](boost::system::error_code ec, int) {
        if (!ec) shutdown();
    });
    deadline.async_wait([&](boost::system::error_code ec) {
        if (!ec) shutdown();
    });
    io.run();
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
