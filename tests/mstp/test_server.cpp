// The meter side of the MS/TP integration tests: the BACnet test node (router
// device 50000, panel devices 50001/50002 on network 50) behind an MS/TP face
// on a serial device (a pty of the tests' bus). Prints "READY <device>" once
// the port is open, one line per hook call (MAXMASTER, TIMESYNC, IDENTITY,
// REINIT), and on SIGINT/SIGTERM or after --lifetime seconds the node's
// counters ("STOPPED key=value ...").
#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <ctime>
#include <string>

#include "protocols/mstp/face.hpp"
#include "test_database.hpp"

using namespace openbcpm;
using namespace openbcpm::bacnet;
using mstp::MstpFace;
using mstp::MstpOptions;

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

namespace {

int run(int argc, char** argv) {
    MstpOptions options;
    options.baud = 38400;
    std::string password;
    int inputs = 40;
    int lifetime = 300;
    try {
        for (int i = 1; i + 1 < argc; i += 2) {
            const std::string key = argv[i], value = argv[i + 1];
            const auto ms = [&] { return std::chrono::microseconds(std::stoi(value) * 1000); };
            if (key == "--device")
                options.device = value;
            else if (key == "--baud")
                options.baud = static_cast<uint32_t>(std::stoul(value));
            else if (key == "--mac")
                options.mac = static_cast<uint8_t>(std::stoi(value));
            else if (key == "--max-master")
                options.max_master = static_cast<uint8_t>(std::stoi(value));
            else if (key == "--max-info-frames")
                options.max_info_frames = static_cast<uint8_t>(std::stoi(value));
            else if (key == "--usage-timeout-ms")
                options.timing.usage_timeout = ms();
            else if (key == "--reply-timeout-ms")
                options.timing.reply_timeout = ms();
            else if (key == "--frame-abort-ms")
                options.timing.frame_abort = ms();
            else if (key == "--password")
                password = value;
            else if (key == "--inputs")
                inputs = std::stoi(value);
            else if (key == "--lifetime")
                lifetime = std::stoi(value);
            else
                throw std::invalid_argument("unknown option " + key);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    }

    boost::asio::io_context io;
    auto node = testbed::make_test_node(inputs);
    RouterConfig config = node->config;
    config.password = password;
    config.max_master = options.max_master;
    config.max_info_frames = options.max_info_frames;
    MstpFace* face_ptr = nullptr;
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
    // Max_Master written over BACnet reaches the node at once.
    hooks.max_master_changed = [&face_ptr](uint8_t m) {
        if (face_ptr) face_ptr->set_max_master(m);
        say(fmt::format("MAXMASTER {}", m));
    };
    VirtualRouter router(config, hooks);
    options.on_tick = [&node](Clock::time_point now) {
        const DateTime dt = local_now();
        const TimeStamp stamp{TimeStamp::Kind::DateTime, dt.time, 0, dt.date};
        for (auto& db : node->panel_db)
            db->evaluate(now, stamp);
    };
    MstpFace face(io, router, options);
    face_ptr = &face;
    try {
        face.start();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    say(fmt::format("READY {} mac={} baud={} max_master={}", options.device, options.mac,
                    options.baud, options.max_master));

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
    const auto& s = face.link()->node().stats();
    const auto& r = face.link()->node().receiver_stats();
    const auto& rs = router.stats();
    say(fmt::format(
        "STOPPED tokens_received={} tokens_passed={} token_retries={} successors_lost={} "
        "polls_sent={} polls_answered={} tokens_generated={} sole_master={} lost_token={} "
        "data_in={} data_out={} replies={} replies_postponed={} reply_timeouts={} "
        "queue_drops={} invalid_frames={} header_crc_errors={} data_crc_errors={} "
        "unexpected_frames={} own_address_frames={} npdus_in={} npdus_out={} "
        "router_dropped={} notifications={} write_errors={} read_errors={}",
        s.tokens_received, s.tokens_passed, s.token_retries, s.successors_lost, s.polls_sent,
        s.polls_answered, s.tokens_generated, s.sole_master, s.lost_token, s.data_in, s.data_out,
        s.replies, s.replies_postponed, s.reply_timeouts, s.queue_drops, s.invalid_frames,
        r.header_crc_errors, r.data_crc_errors, s.unexpected_frames, s.own_address_frames,
        rs.npdus_in, rs.npdus_out, rs.dropped, rs.notifications, face.write_errors(),
        face.read_errors()));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
