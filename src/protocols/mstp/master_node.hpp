// The MS/TP master node state machine (clause 9.5.6): token passing, poll
// for master, reply postponed, Max_Master and Max_Info_Frames. Sans-I/O:
// octets come in with the time they arrived, timers are the caller's (it
// calls poll() at next_deadline()), and frames go out through a callback at
// the moment they may go on the wire (T_turnaround after the last octet
// heard). The receive frame state machine runs inside. Once warm it
// allocates nothing per frame: queued frames, frames held for T_turnaround
// and the echo to discard live in storage the node keeps (issue 16).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <vector>

#include "protocols/mstp/frame.hpp"
#include "protocols/mstp/receiver.hpp"

namespace openbcpm::mstp {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;

// The standard's constants (clause 9.5.3).
inline constexpr unsigned kNpoll = 50;       // tokens between maintenance polls
inline constexpr unsigned kNretryToken = 1;  // token retries before a new successor is sought
inline constexpr unsigned kNminOctets = 4;   // octets that prove another node is active
inline constexpr microseconds kTnoToken{500'000};
inline constexpr microseconds kTslot{10'000};
inline constexpr microseconds kTreplyDelay{250'000};  // the most a reply may take
inline constexpr microseconds kTusageDelay{15'000};   // the most before using a token/answering
inline constexpr unsigned kTurnaroundBits = 40;
inline constexpr unsigned kFrameAbortBits = 60;

// The timers the standard leaves within bounds; the defaults are chosen to
// tolerate USB-RS-485 adapters (their latency timers split frames) and are
// documented with the measurements in docs/mstp.md.
struct Timing {
    microseconds frame_abort{30'000};     // T_frame_abort: 60 bit times .. 100 ms
    microseconds usage_timeout{50'000};   // T_usage_timeout: 20 .. 100 ms
    microseconds reply_timeout{300'000};  // T_reply_timeout: 255 .. 300 ms
    // How long ANSWER_DATA_REQUEST waits for the upper layer's reply before
    // Reply Postponed (below T_reply_delay). The virtual router answers
    // within the indication, so no wait is needed.
    microseconds answer_wait{0};
};

struct NodeConfig {
    uint8_t station = 1;  // TS, 0..127
    uint8_t max_master = 127;
    uint8_t max_info_frames = 1;
    uint32_t baud = 38400;
    Timing timing;
    size_t max_queue = 64;  // frames waiting for the token
    // Drop the octets we transmitted when the adapter echoes them back.
    bool discard_echo = false;
};

class MasterNode {
  public:
    enum class State : uint8_t {
        Initialize,
        Idle,
        UseToken,
        WaitForReply,
        DoneWithToken,
        PassToken,
        NoToken,
        PollForMaster,
        AnswerDataRequest
    };

    struct Stats {
        uint64_t octets_in = 0, frames_in = 0, invalid_frames = 0, frames_out = 0, octets_out = 0;
        uint64_t tokens_received = 0, tokens_passed = 0, token_retries = 0, successors_lost = 0;
        uint64_t polls_sent = 0, polls_answered = 0, tokens_generated = 0, sole_master = 0;
        uint64_t data_in = 0, data_out = 0, replies = 0, replies_postponed = 0;
        uint64_t reply_timeouts = 0, queue_drops = 0, own_address_frames = 0, echo_octets = 0;
        uint64_t lost_token = 0, unexpected_frames = 0;
    };

    // Octets to put on the line, now.
    using Transmit = std::function<void(std::span<const uint8_t> octets)>;
    // A BACnet data frame for this station or broadcast, for the upper layer.
    // A reply to a Data Expecting Reply is to be enqueued within this call.
    using Indication = std::function<void(const Frame& frame)>;

    MasterNode(NodeConfig config, Transmit transmit, Indication indication);

    // INITIALIZE: the node listens from `now` (the line counts as silent).
    void start(Clock::time_point now);
    // Octets received at `now`, in order.
    void receive(std::span<const uint8_t> octets, Clock::time_point now);
    // Timers: call at next_deadline() (calling earlier or more often is harmless).
    void poll(Clock::time_point now);
    Clock::time_point next_deadline() const;

    // Queues a frame for the next time this node holds the token. Data
    // Expecting Reply to a station waits for its reply; broadcast frames
    // never do. False (and counted) when the queue is full or data too long.
    // The data is copied into a slot the node keeps for the next frame.
    bool enqueue(FrameType type, uint8_t destination, std::span<const uint8_t> data);
    bool enqueue(FrameType type, uint8_t destination, std::initializer_list<uint8_t> data) {
        return enqueue(type, destination, std::span<const uint8_t>(data.begin(), data.size()));
    }

    void set_max_master(uint8_t max_master);
    void set_max_info_frames(uint8_t max_info_frames);

    State state() const { return state_; }
    uint8_t station() const { return config_.station; }
    uint8_t max_master() const { return config_.max_master; }
    uint8_t max_info_frames() const { return config_.max_info_frames; }
    uint8_t next_station() const { return ns_; }
    uint8_t poll_station() const { return ps_; }
    bool sole_master() const { return sole_master_; }
    size_t queued() const { return queue_.size(); }
    const Stats& stats() const { return stats_; }
    const FrameReceiver::Stats& receiver_stats() const { return rx_.stats(); }
    microseconds turnaround() const { return turnaround_; }
    // The time `octets` take on the wire at this baud (10 bits each).
    microseconds wire_time(size_t octets) const;

  private:
    // A queued frame in a slot of its own, reused for later frames.
    struct Outgoing {
        FrameType type = FrameType::Token;
        uint8_t destination = 0;
        uint16_t size = 0;
        uint64_t seq = 0;
        std::array<uint8_t, kMaxData> data{};
        std::span<const uint8_t> octets() const { return {data.data(), size}; }
    };
    // A frame encoded into held_octets_ waiting for T_turnaround.
    struct Held {
        Clock::time_point due;
        size_t offset = 0, size = 0;
    };

    void run();
    bool step();
    bool step_idle();
    bool step_use_token();
    bool step_wait_for_reply();
    bool step_done_with_token();
    bool step_pass_token();
    bool step_no_token();
    bool step_poll_for_master();
    bool step_answer_data_request();

    void send(FrameType type, uint8_t destination, std::span<const uint8_t> data = {});
    // Sends the queued frame at queue_[position] and frees its slot.
    void send_queued(size_t position);
    void put_on_line(std::span<const uint8_t> octets);
    bool holding() const { return held_next_ < held_.size(); }
    void flush_held();
    void check_frame_abort();
    microseconds silence() const;
    uint8_t next_address(uint8_t a) const {
        return static_cast<uint8_t>((a + 1U) % (config_.max_master + 1U));
    }

    NodeConfig config_;
    Transmit transmit_;
    Indication indication_;
    FrameReceiver rx_;
    microseconds turnaround_;

    State state_ = State::Initialize;
    Clock::time_point now_{};
    // SilenceTimer: the line was last active then (an octet heard, or the
    // projected end of our own transmission).
    Clock::time_point silence_since_{};
    Clock::time_point last_octet_{};  // last octet heard: T_turnaround, T_frame_abort
    Clock::time_point tx_busy_until_{};
    // Frames held for T_turnaround, in order from held_next_; the storage is
    // kept when they are gone.
    std::vector<Held> held_;
    size_t held_next_ = 0;
    std::vector<uint8_t> held_octets_;
    std::array<uint8_t, kMaxFrameSize> frame_buffer_{};  // a frame sent at once
    // Our transmitted octets still to come back (discard_echo): a ring.
    static constexpr size_t kMaxEcho = 4096;
    std::array<uint8_t, kMaxEcho> echo_{};
    size_t echo_head_ = 0, echo_size_ = 0;

    // Flags set by the receive state machine, consumed by the master's states.
    bool received_valid_ = false;
    bool received_invalid_ = false;
    Frame received_;
    uint32_t event_count_ = 0;

    uint8_t ns_ = 0, ps_ = 0;
    unsigned token_count_ = 0, frame_count_ = 0, retry_count_ = 0;
    bool sole_master_ = false;

    // The frames waiting for the token: slot numbers in order (at most
    // max_queue); slots grow to the most ever queued and are kept.
    std::vector<size_t> queue_;
    std::vector<Outgoing> slots_;
    std::vector<size_t> free_slots_;
    uint64_t next_seq_ = 0;
    // ANSWER_DATA_REQUEST: who asked, and which queued frames may answer.
    uint8_t requester_ = 0;
    uint64_t answer_from_seq_ = 0;
    Clock::time_point answer_deadline_{};
    Stats stats_;
};

std::string_view to_string(MasterNode::State s);

}  // namespace openbcpm::mstp
