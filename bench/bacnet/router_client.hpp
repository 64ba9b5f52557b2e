// The benchmarks' BACnet/IP client: a plain UDP socket on 127.0.0.1 sending
// one confirmed request at a time to panel 1 behind the virtual router
// (DNET 50, DADR 1) and taking the whole answer, segments acknowledged window
// by window.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <optional>
#include <span>
#include <vector>

#include "protocols/bacnet/apdu.hpp"
#include "protocols/bacnet/bvll.hpp"
#include "protocols/bacnet/npdu.hpp"
#include "protocols/bacnet/services.hpp"

namespace openbcpm::bacnet::bench {

class RouterClient {
  public:
    // `dest`: the DNET/DADR of the device asked (default: panel 1 behind
    // the router); nullopt: the device at `port` itself.
    explicit RouterClient(uint16_t port, std::optional<NetAddress> dest = NetAddress{50, {1}})
        : dest_(std::move(dest)),
          socket_(io_,
                  boost::asio::ip::udp::endpoint(boost::asio::ip::make_address_v4("127.0.0.1"), 0)),
          target_(boost::asio::ip::make_address_v4("127.0.0.1"), port) {
        socket_.set_option(boost::asio::socket_base::receive_buffer_size(1 << 20));
        // Blocking receives that give up after a second (a lost datagram).
        timeval tv{1, 0};
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }

    // One request; adds the answer's service data octets to `bytes`. False
    // when no complete answer came within a second, or it was not an ack.
    bool request(ConfirmedService service, std::span<const uint8_t> data, size_t& bytes) {
        using Clock = std::chrono::steady_clock;
        ConfirmedHeader h;
        h.invoke_id = ++invoke_;
        h.service = static_cast<uint8_t>(service);
        h.segmented_response_accepted = true;
        h.max_segments_code = 7;  // more than 64
        h.max_apdu_code = 5;      // 1476
        send(encode_confirmed_request(h, data));
        const auto deadline = Clock::now() + std::chrono::seconds(1);
        while (Clock::now() < deadline) {
            boost::system::error_code ec;
            const size_t n = socket_.receive(boost::asio::buffer(buf_), 0, ec);
            if (ec) return false;
            const auto m = decode_bvll(std::span<const uint8_t>(buf_.data(), n));
            if (!m) continue;
            const auto np = decode_npdu(m->npdu);
            if (!np || np->header.network_message) continue;
            const auto a = decode_apdu(np->payload);
            if (!a || a->invoke_id != h.invoke_id) continue;
            bytes += a->data.size();
            if (a->type != PduType::ComplexAck) return a->type == PduType::SimpleAck;
            if (!a->segmented) return true;
            // The first segment comes alone; then acknowledge the end of
            // each window and the last segment.
            const uint8_t window = std::max<uint8_t>(a->window_size, 1);
            if (!a->more_follows || a->sequence_number % window == 0)
                send(encode_segment_ack(false, false, h.invoke_id, a->sequence_number, window));
            if (!a->more_follows) return true;
        }
        return false;
    }

  private:
    void send(const std::vector<uint8_t>& apdu) {
        NpduHeader nh;
        nh.expecting_reply = true;
        nh.destination = dest_;
        const auto d = encode_bvll_npdu(BvlcFunction::OriginalUnicastNpdu, encode_npdu(nh, apdu));
        socket_.send_to(boost::asio::buffer(d), target_);
    }

    std::optional<NetAddress> dest_;
    boost::asio::io_context io_;
    boost::asio::ip::udp::socket socket_;
    boost::asio::ip::udp::endpoint target_;
    std::array<uint8_t, 1600> buf_{};
    uint8_t invoke_ = 0;
};

}  // namespace openbcpm::bacnet::bench
