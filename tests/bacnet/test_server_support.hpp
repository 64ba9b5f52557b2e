// What the BACnet/IP and the MS/TP test servers share: the router hooks that
// announce themselves on stdout (one line per call, for the tests to check),
// the panel databases evaluated on the face's tick, and the run until a
// signal or the lifetime ends.
#pragma once

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <string>

#include "protocols/bacnet/router.hpp"
#include "test_database.hpp"

namespace openbcpm::bacnet::testbed {

inline void say(const std::string& line) {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

inline DateTime local_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    const auto weekday = static_cast<uint8_t>(tm.tm_wday == 0 ? 7 : tm.tm_wday);
    return DateTime{Date{static_cast<uint8_t>(tm.tm_year), static_cast<uint8_t>(tm.tm_mon + 1),
                         static_cast<uint8_t>(tm.tm_mday), weekday},
                    Time{static_cast<uint8_t>(tm.tm_hour), static_cast<uint8_t>(tm.tm_min),
                         static_cast<uint8_t>(tm.tm_sec), 0}};
}

// Local time from the host clock; TIMESYNC, IDENTITY and REINIT lines.
inline RouterHooks announcing_hooks() {
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
    return hooks;
}

// The face's tick: the panel databases' values and event states move on.
inline std::function<void(Clock::time_point)> evaluate_panels(TestNode& node) {
    return [&node](Clock::time_point now) {
        const DateTime dt = local_now();
        const TimeStamp stamp{TimeStamp::Kind::DateTime, dt.time, 0, dt.date};
        for (auto& db : node.panel_db)
            db->evaluate(now, stamp);
    };
}

// Runs `io` until SIGINT/SIGTERM or `lifetime_seconds`, then calls stop().
inline void run_until_stopped(boost::asio::io_context& io, int lifetime_seconds,
                              const std::function<void()>& stop) {
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    boost::asio::steady_timer deadline(io, std::chrono::seconds(lifetime_seconds));
    const auto shutdown = [&] {
        stop();
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
}

}  // namespace openbcpm::bacnet::testbed
