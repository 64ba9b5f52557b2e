// The meter side of the MS/TP integration tests: the BACnet test node (router
// device 50000, panel devices 50001/50002 on network 50) behind an MS/TP face
// on a serial device (a pty of the tests' bus). Prints "READY <device>" once
// the port is open, one line per hook call (MAXMASTER, TIMESYNC, IDENTITY,
// REINIT), and on SIGINT/SIGTERM or after --lifetime seconds the node's
// counters ("STOPPED key=value ...").
#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <string>

#include "protocols/mstp/face.hpp"
#include "test_database.hpp"
#include "test_server_support.hpp"

using namespace openbcpm;
using namespace openbcpm::bacnet;
using mstp::MstpFace;
using mstp::MstpOptions;
using testbed::say;

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
    RouterHooks hooks = testbed::announcing_hooks();
    // Max_Master written over BACnet reaches the node at once.
    hooks.max_master_changed = [&face_ptr](uint8_t m) {
        if (face_ptr) face_ptr->set_max_master(m);
        say(fmt::format("MAXMASTER {}", m));
    };
    VirtualRouter router(config, hooks);
    options.on_tick = testbed::evaluate_panels(*node);
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

    testbed::run_until_stopped(io, lifetime, [&] { face.stop(); });
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
