// The receive frame state machine (clause 9.5.4), fed one octet at a time:
// IDLE hunts for 0x55, PREAMBLE for 0xFF, HEADER collects six octets and
// checks the CRC-8, DATA collects the data and checks the CRC-16, SKIP_DATA
// lets a frame for another station (or too long for us) go by. Time is the
// caller's: it calls timeout() when the line has been silent longer than
// T_frame_abort in the middle of a frame.
#pragma once

#include <cstdint>
#include <optional>

#include "protocols/mstp/frame.hpp"

namespace openbcpm::mstp {

class FrameReceiver {
  public:
    enum class State : uint8_t { Idle, Preamble, Header, Data, SkipData };
    // What an octet, a timeout or an error completed.
    enum class Event : uint8_t {
        None,
        ValidFrame,    // for this station or broadcast (any frame when promiscuous): frame()
        InvalidFrame,  // ReceivedInvalidFrame: bad CRC, too long, aborted
        NotForUs       // a good header addressed to another station
    };

    struct Stats {
        uint64_t octets = 0, valid = 0, not_for_us = 0;
        uint64_t header_crc_errors = 0, data_crc_errors = 0, too_long = 0, aborted = 0;
    };

    // `station` is TS; without one the receiver takes every frame (a sniffer,
    // the fuzz target). `max_data` is the input buffer (kMaxData).
    explicit FrameReceiver(std::optional<uint8_t> station, size_t max_data = kMaxData);

    Event feed(uint8_t octet);
    // Silence above T_frame_abort: a frame in progress is abandoned.
    Event timeout();
    // A UART error (framing, overrun) ends the frame in progress.
    Event error();

    State state() const { return state_; }
    bool in_frame() const { return state_ != State::Idle; }
    // The last frame completed (ValidFrame) or the header seen (NotForUs).
    const Frame& frame() const { return frame_; }
    const Stats& stats() const { return stats_; }
    void set_station(std::optional<uint8_t> station) { station_ = station; }

  private:
    bool wanted(uint8_t destination) const {
        return !station_ || destination == *station_ || destination == kBroadcast;
    }
    Event abandon();

    std::optional<uint8_t> station_;
    size_t max_data_;
    State state_ = State::Idle;
    Frame frame_;
    size_t index_ = 0;
    size_t length_ = 0;
    size_t skip_ = 0;
    uint8_t header_crc_ = 0xFF;
    uint16_t data_crc_ = 0xFFFF;
    Stats stats_;
};

// Every frame in a byte stream, as a promiscuous receiver sees it (no
// timeouts): for sniffing, tests and the fuzz target.
struct StreamDecode {
    std::vector<Frame> frames;
    size_t invalid = 0;
};
StreamDecode decode_stream(std::span<const uint8_t> octets);

}  // namespace openbcpm::mstp
