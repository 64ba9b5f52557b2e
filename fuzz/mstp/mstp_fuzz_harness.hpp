// What the libFuzzer target does with one input, shared with the unit test
// that replays the committed corpus: the frame decoder on the whole input,
// the receive state machine fed octet by octet (promiscuous and as station
// 1, with timeouts), and a master node with the link and the virtual router
// of the BACnet test node taking the input as line traffic in chunks, with
// time moving between them so that every timer fires.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "protocols/bacnet/router.hpp"
#include "protocols/mstp/frame.hpp"
#include "protocols/mstp/mstp_link.hpp"
#include "protocols/mstp/receiver.hpp"
#include "test_database.hpp"

namespace openbcpm::mstp::fuzzing {

class Harness {
  public:
    Harness() {
        bacnet::RouterHooks h;
        h.clock = [this] { return now_; };
        h.local_time = [] {
            return bacnet::DateTime{bacnet::Date{126, 1, 5, 1}, bacnet::Time{12, 0, 0, 0}};
        };
        router_ = std::make_unique<bacnet::VirtualRouter>(node_->config, h);
    }

    size_t run(std::span<const uint8_t> input) {
        size_t sink = 0;
        // The whole-frame decoder and the stream decoder.
        const auto whole = decode_frame(input);
        if (const auto* f = std::get_if<Frame>(&whole)) sink += f->data.size();
        sink += decode_stream(input).frames.size();

        // The receive state machine, a timeout after every 0x00 octet.
        FrameReceiver rx(uint8_t{1}, 64);
        for (uint8_t o : input) {
            if (rx.feed(o) == FrameReceiver::Event::ValidFrame) sink += rx.frame().data.size();
            if (o == 0x00) rx.timeout();
        }

        // A master node at station 1 under the router, fresh for each input.
        NodeConfig c;
        c.station = 1;
        c.max_master = 7;
        c.max_info_frames = 2;
        c.max_queue = 16;
        MstpLink link(c, [&sink](std::span<const uint8_t> o) { sink += o.size(); });
        router_->attach(link);
        link.node().start(now_);
        size_t i = 0;
        while (i < input.size()) {
            // Chunks of 1..16 octets; the time before each grows with the
            // octets' values: from a few microseconds to past T_no_token.
            const size_t n = std::min<size_t>(input.size() - i, 1 + (input[i] & 0x0F));
            now_ += std::chrono::microseconds(37 * (input[i] + 1) * (input[i] >> 4));
            link.node().receive(input.subspan(i, n), now_);
            link.node().poll(now_);
            i += n;
        }
        // Let the timers run out: reply, usage, no-token, the slots.
        for (int k = 0; k < 16; ++k) {
            now_ = std::max(now_ + std::chrono::milliseconds(1), link.node().next_deadline());
            link.node().poll(now_);
        }
        router_->tick(now_);
        router_->detach();
        return sink;
    }

  private:
    Clock::time_point now_ = Clock::time_point{} + std::chrono::hours(1);
    std::unique_ptr<bacnet::testbed::TestNode> node_ = bacnet::testbed::make_test_node(8);
    std::unique_ptr<bacnet::VirtualRouter> router_;
};

}  // namespace openbcpm::mstp::fuzzing
