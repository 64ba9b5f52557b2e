#include "protocols/mstp/master_node.hpp"

#include <algorithm>
#include <stdexcept>

namespace openbcpm::mstp {

namespace {

// Enough steps for the longest run of immediate transitions: a sole master
// with nothing to send passes itself the token Npoll times, then polls.
constexpr int kMaxStepsPerRun = 4 * static_cast<int>(kNpoll) + 16;
// Held frames sent and not yet dropped from the front of held_ before it is
// compacted (when it never empties, as on a busy line).
constexpr size_t kHeldCompactAt = 32;

microseconds bit_times(unsigned bits, uint32_t baud) {
    // Rounded up: never shorter than the standard's figure.
    const uint64_t us = (uint64_t{bits} * 1'000'000U + baud - 1) / baud;
    return microseconds(static_cast<int64_t>(us));
}

bool expects_reply(FrameType t, uint8_t destination) {
    return destination != kBroadcast &&
           (t == FrameType::DataExpectingReply || t == FrameType::TestRequest);
}

}  // namespace

std::string_view to_string(MasterNode::State s) {
    switch (s) {
        case MasterNode::State::Initialize:
            return "INITIALIZE";
        case MasterNode::State::Idle:
            return "IDLE";
        case MasterNode::State::UseToken:
            return "USE_TOKEN";
        case MasterNode::State::WaitForReply:
            return "WAIT_FOR_REPLY";
        case MasterNode::State::DoneWithToken:
            return "DONE_WITH_TOKEN";
        case MasterNode::State::PassToken:
            return "PASS_TOKEN";
        case MasterNode::State::NoToken:
            return "NO_TOKEN";
        case MasterNode::State::PollForMaster:
            return "POLL_FOR_MASTER";
        case MasterNode::State::AnswerDataRequest:
            return "ANSWER_DATA_REQUEST";
    }
    return "?";
}

MasterNode::MasterNode(NodeConfig config, Transmit transmit, Indication indication)
    : config_(config),
      transmit_(std::move(transmit)),
      indication_(std::move(indication)),
      rx_(config.station),
      turnaround_(bit_times(kTurnaroundBits, config.baud ? config.baud : 9600)) {
    if (config_.baud == 0) config_.baud = 9600;
    if (config_.station > kMaxMasterAddress) config_.station = kMaxMasterAddress;
    if (config_.max_master > kMaxMasterAddress) config_.max_master = kMaxMasterAddress;
    if (config_.max_info_frames == 0) config_.max_info_frames = 1;
    // T_frame_abort is at least 60 bit times whatever was asked.
    config_.timing.frame_abort =
        std::max(config_.timing.frame_abort, bit_times(kFrameAbortBits, config_.baud));
}

microseconds MasterNode::wire_time(size_t octets) const {
    return bit_times(static_cast<unsigned>(octets * 10U), config_.baud);
}

void MasterNode::start(Clock::time_point now) {
    now_ = now;
    silence_since_ = now;
    last_octet_ = now;
    tx_busy_until_ = now;
    // INITIALIZE -> IDLE: no known successor, and a poll at the first token.
    ns_ = config_.station;
    ps_ = config_.station;
    token_count_ = kNpoll;
    sole_master_ = false;
    received_valid_ = received_invalid_ = false;
    event_count_ = 0;
    state_ = State::Idle;
}

void MasterNode::set_max_master(uint8_t max_master) {
    config_.max_master = std::min(max_master, kMaxMasterAddress);
    // A successor or poll station beyond the new range is forgotten.
    if (ns_ > config_.max_master) ns_ = config_.station;
    if (ps_ > config_.max_master) ps_ = config_.station;
}

void MasterNode::set_max_info_frames(uint8_t max_info_frames) {
    config_.max_info_frames = std::max<uint8_t>(max_info_frames, 1);
}

bool MasterNode::enqueue(FrameType type, uint8_t destination, std::span<const uint8_t> data) {
    if (data.size() > kMaxData || queue_.size() >= config_.max_queue) {
        ++stats_.queue_drops;
        return false;
    }
    size_t slot = 0;
    if (free_slots_.empty()) {
        slot = slots_.size();
        slots_.emplace_back();
    } else {
        slot = free_slots_.back();
        free_slots_.pop_back();
    }
    Outgoing& o = slots_[slot];
    o.type = type;
    o.destination = destination;
    o.size = static_cast<uint16_t>(data.size());
    o.seq = next_seq_++;
    std::copy(data.begin(), data.end(), o.data.begin());
    queue_.push_back(slot);
    return true;
}

void MasterNode::send_queued(size_t position) {
    const size_t slot = queue_[position];
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(position));
    const Outgoing& o = slots_[slot];
    send(o.type, o.destination, o.octets());
    free_slots_.push_back(slot);
}

microseconds MasterNode::silence() const {
    return now_ > silence_since_ ? std::chrono::duration_cast<microseconds>(now_ - silence_since_)
                                 : microseconds(0);
}

void MasterNode::check_frame_abort() {
    if (rx_.in_frame() && now_ - last_octet_ >= config_.timing.frame_abort) {
        if (rx_.timeout() == FrameReceiver::Event::InvalidFrame) {
            received_invalid_ = true;
            ++stats_.invalid_frames;
        }
    }
}

void MasterNode::receive(std::span<const uint8_t> octets, Clock::time_point now) {
    if (state_ == State::Initialize) return;
    now_ = std::max(now_, now);
    flush_held();
    // No T_frame_abort check here: `now` is when the read completed, not when
    // the octets arrived. After a stall of the process they may have waited in
    // the driver past the abort time although the line had no gap; a real gap
    // is found by poll() at the abort deadline, while no octet is waiting.
    if (received_invalid_) run();
    for (uint8_t o : octets) {
        if (echo_size_ != 0) {
            if (o == echo_[echo_head_]) {
                echo_head_ = (echo_head_ + 1) % kMaxEcho;
                --echo_size_;
                ++stats_.echo_octets;
                continue;
            }
            echo_size_ = 0;  // not our echo after all
        }
        ++stats_.octets_in;
        if (event_count_ < UINT32_MAX) ++event_count_;
        last_octet_ = now_;
        silence_since_ = std::max(silence_since_, now_);
        switch (rx_.feed(o)) {
            case FrameReceiver::Event::ValidFrame:
                if (rx_.frame().source == config_.station) {
                    // Another station with our address (or an echo we were
                    // not told about): not a frame to act on.
                    ++stats_.own_address_frames;
                    break;
                }
                ++stats_.frames_in;
                received_ = rx_.frame();
                received_valid_ = true;
                run();
                break;
            case FrameReceiver::Event::InvalidFrame:
                ++stats_.invalid_frames;
                received_invalid_ = true;
                run();
                break;
            default:
                break;
        }
    }
    // Octets alone move PASS_TOKEN and NO_TOKEN (EventCount).
    run();
}

void MasterNode::poll(Clock::time_point now) {
    if (state_ == State::Initialize) return;
    now_ = std::max(now_, now);
    flush_held();
    check_frame_abort();
    run();
}

Clock::time_point MasterNode::next_deadline() const {
    Clock::time_point t = Clock::time_point::max();
    if (holding()) t = std::min(t, held_[held_next_].due);
    if (rx_.in_frame()) t = std::min(t, last_octet_ + config_.timing.frame_abort);
    switch (state_) {
        case State::Idle:
            t = std::min(t, silence_since_ + kTnoToken);
            break;
        case State::NoToken: {
            const auto mine = silence_since_ + kTnoToken + kTslot * config_.station;
            const auto after_all = silence_since_ + kTnoToken + kTslot * (config_.max_master + 1);
            t = std::min(t, now_ < mine ? mine : after_all);
            break;
        }
        case State::PassToken:
        case State::PollForMaster:
            t = std::min(t, silence_since_ + config_.timing.usage_timeout);
            break;
        case State::WaitForReply:
            t = std::min(t, silence_since_ + config_.timing.reply_timeout);
            break;
        case State::AnswerDataRequest:
            t = std::min(t, answer_deadline_);
            break;
        case State::Initialize:
            break;
        case State::UseToken:
        case State::DoneWithToken:
            t = std::min(t, now_);  // transient: not left pending by run()
            break;
    }
    return t;
}

void MasterNode::run() {
    for (int i = 0; i < kMaxStepsPerRun; ++i) {
        if (!step()) return;
    }
}

bool MasterNode::step() {
    switch (state_) {
        case State::Initialize:
            return false;
        case State::Idle:
            return step_idle();
        case State::UseToken:
            return step_use_token();
        case State::WaitForReply:
            return step_wait_for_reply();
        case State::DoneWithToken:
            return step_done_with_token();
        case State::PassToken:
            return step_pass_token();
        case State::NoToken:
            return step_no_token();
        case State::PollForMaster:
            return step_poll_for_master();
        case State::AnswerDataRequest:
            return step_answer_data_request();
    }
    return false;
}

bool MasterNode::step_idle() {
    if (received_invalid_) {
        received_invalid_ = false;  // ReceivedInvalidFrame: wait for the next one
        return true;
    }
    if (received_valid_) {
        received_valid_ = false;
        const Frame& f = received_;
        const bool to_us = f.destination == config_.station;
        switch (f.type) {
            case FrameType::Token:
                if (!to_us) break;  // a broadcast token is unwanted
                ++stats_.tokens_received;
                frame_count_ = 0;
                sole_master_ = false;
                state_ = State::UseToken;
                return true;
            case FrameType::PollForMaster:
                if (to_us) send(FrameType::ReplyToPollForMaster, f.source);
                break;
            case FrameType::DataNotExpectingReply:
                ++stats_.data_in;
                if (indication_) indication_(f);
                break;
            case FrameType::DataExpectingReply:
                if (!to_us) break;  // a broadcast that expects a reply is unwanted
                ++stats_.data_in;
                requester_ = f.source;
                answer_from_seq_ = next_seq_;
                answer_deadline_ = now_ + config_.timing.answer_wait;
                state_ = State::AnswerDataRequest;
                // The upper layer answers within the indication (or not at all).
                if (indication_) indication_(f);
                return true;
            case FrameType::TestRequest:
                // The reply is this node's own: the same data, at once.
                if (to_us) send(FrameType::TestResponse, f.source, f.data);
                break;
            default:
                break;  // replies nobody waits for, unknown and proprietary types
        }
        return false;
    }
    if (silence() >= kTnoToken) {
        // LostToken
        ++stats_.lost_token;
        event_count_ = 0;
        state_ = State::NoToken;
        return true;
    }
    return false;
}

bool MasterNode::step_use_token() {
    if (queue_.empty()) {
        // NothingToSend
        frame_count_ = config_.max_info_frames;
        state_ = State::DoneWithToken;
        return true;
    }
    const Outgoing& o = slots_[queue_.front()];
    const bool wait = expects_reply(o.type, o.destination);
    send_queued(0);
    ++stats_.data_out;
    ++frame_count_;
    if (wait) {
        state_ = State::WaitForReply;  // SendAndWait
    } else {
        state_ = State::DoneWithToken;  // SendNoWait
    }
    return true;
}

bool MasterNode::step_wait_for_reply() {
    if (received_invalid_) {
        received_invalid_ = false;
        state_ = State::DoneWithToken;
        return true;
    }
    if (received_valid_) {
        received_valid_ = false;
        const Frame& f = received_;
        if (f.destination == config_.station) {
            if (f.type == FrameType::DataNotExpectingReply || f.type == FrameType::TestResponse) {
                // ReceivedReply
                if (f.type == FrameType::DataNotExpectingReply) {
                    ++stats_.data_in;
                    if (indication_) indication_(f);
                }
                state_ = State::DoneWithToken;
                return true;
            }
            if (f.type == FrameType::ReplyPostponed) {
                state_ = State::DoneWithToken;
                return true;
            }
        }
        // ReceivedUnexpectedFrame: perhaps two tokens; synchronise in IDLE
        // (dropping the token and this frame, as the standard says).
        ++stats_.unexpected_frames;
        state_ = State::Idle;
        return true;
    }
    if (silence() >= config_.timing.reply_timeout) {
        // ReplyTimeout: the request failed; pass the token.
        ++stats_.reply_timeouts;
        frame_count_ = config_.max_info_frames;
        state_ = State::DoneWithToken;
        return true;
    }
    return false;
}

bool MasterNode::step_done_with_token() {
    const uint8_t ts = config_.station;
    if (frame_count_ < config_.max_info_frames) {
        state_ = State::UseToken;  // SendAnotherFrame
        return true;
    }
    if (!sole_master_ && ns_ == ts) {
        // NextStationUnknown: look for a successor from TS+1.
        ps_ = next_address(ts);
        send(FrameType::PollForMaster, ps_);
        retry_count_ = 0;
        state_ = State::PollForMaster;
        return true;
    }
    if (token_count_ < kNpoll - 1) {
        if (sole_master_ && ns_ != next_address(ts)) {
            // SoleMaster: nobody to pass the token to.
            frame_count_ = 0;
            ++token_count_;
            state_ = State::UseToken;
            return true;
        }
        // SendToken
        ++token_count_;
        send(FrameType::Token, ns_);
        ++stats_.tokens_passed;
        retry_count_ = 0;
        event_count_ = 0;
        state_ = State::PassToken;
        return true;
    }
    if (next_address(ps_) == ns_) {
        if (sole_master_) {
            // SoleMasterRestartMaintenancePFM
            ps_ = next_address(ns_);
            send(FrameType::PollForMaster, ps_);
            ns_ = ts;
            retry_count_ = 0;
            token_count_ = 1;
            state_ = State::PollForMaster;
            return true;
        }
        // ResetMaintenancePFM: every address between TS and NS was polled.
        ps_ = ts;
        send(FrameType::Token, ns_);
        ++stats_.tokens_passed;
        retry_count_ = 0;
        token_count_ = 1;
        event_count_ = 0;
        state_ = State::PassToken;
        return true;
    }
    // SendMaintenancePFM: one address between TS and NS per token rotation.
    ps_ = next_address(ps_);
    send(FrameType::PollForMaster, ps_);
    retry_count_ = 0;
    state_ = State::PollForMaster;
    return true;
}

bool MasterNode::step_pass_token() {
    if (silence() < config_.timing.usage_timeout) {
        if (event_count_ > kNminOctets) {
            state_ = State::Idle;  // SawTokenUser
            return true;
        }
        return false;
    }
    if (retry_count_ < kNretryToken) {
        // RetrySendToken
        ++retry_count_;
        ++stats_.token_retries;
        send(FrameType::Token, ns_);
        event_count_ = 0;
        return false;
    }
    // FindNewSuccessor: NS has failed; poll from the address after it.
    ++stats_.successors_lost;
    ps_ = next_address(ns_);
    if (ps_ == config_.station) ps_ = next_address(ps_);  // never poll ourselves
    send(FrameType::PollForMaster, ps_);
    ns_ = config_.station;
    retry_count_ = 0;
    token_count_ = 0;
    state_ = State::PollForMaster;
    return true;
}

bool MasterNode::step_no_token() {
    const auto mine = kTnoToken + kTslot * config_.station;
    const auto next_slot = kTnoToken + kTslot * (config_.station + 1);
    const auto after_all = kTnoToken + kTslot * (config_.max_master + 1);
    const auto s = silence();
    if (s < mine || (s >= next_slot && s < after_all)) {
        // Before our slot a lower address may claim the token; after it (we
        // were late) a higher one may. Either way, a frame means someone did.
        if (event_count_ > kNminOctets) {
            state_ = State::Idle;  // SawFrame
            return true;
        }
        return false;
    }
    // GenerateToken: in our slot (or after every slot passed unclaimed).
    ++stats_.tokens_generated;
    ps_ = next_address(config_.station);
    send(FrameType::PollForMaster, ps_);
    ns_ = config_.station;
    retry_count_ = 0;
    token_count_ = 0;
    state_ = State::PollForMaster;
    return true;
}

bool MasterNode::step_poll_for_master() {
    const uint8_t ts = config_.station;
    if (received_valid_) {
        received_valid_ = false;
        const Frame& f = received_;
        if (f.destination == ts && f.type == FrameType::ReplyToPollForMaster) {
            // ReceivedReplyToPFM: a successor.
            ++stats_.polls_answered;
            sole_master_ = false;
            ns_ = f.source;
            event_count_ = 0;
            send(FrameType::Token, ns_);
            ++stats_.tokens_passed;
            ps_ = ts;
            token_count_ = 0;
            retry_count_ = 0;
            state_ = State::PassToken;
            return true;
        }
        ++stats_.unexpected_frames;
        state_ = State::Idle;  // ReceivedUnexpectedFrame
        return true;
    }
    if (silence() < config_.timing.usage_timeout && !received_invalid_) return false;
    received_invalid_ = false;
    if (sole_master_) {
        frame_count_ = 0;  // SoleMaster: no new master answered
        state_ = State::UseToken;
        return true;
    }
    if (ns_ != ts) {
        // DoneWithPFM: the maintenance poll found nobody; pass the token on.
        event_count_ = 0;
        send(FrameType::Token, ns_);
        ++stats_.tokens_passed;
        retry_count_ = 0;
        state_ = State::PassToken;
        return true;
    }
    if (next_address(ps_) != ts) {
        // SendNextPFM
        ps_ = next_address(ps_);
        send(FrameType::PollForMaster, ps_);
        retry_count_ = 0;
        return false;
    }
    // DeclareSoleMaster
    ++stats_.sole_master;
    sole_master_ = true;
    frame_count_ = 0;
    state_ = State::UseToken;
    return true;
}

bool MasterNode::step_answer_data_request() {
    // The reply is the first frame for the requester that the upper layer
    // queued since the request arrived (not one queued before it).
    const auto it = std::find_if(queue_.begin(), queue_.end(), [&](size_t slot) {
        const Outgoing& o = slots_[slot];
        return o.seq >= answer_from_seq_ && o.destination == requester_ &&
               o.type == FrameType::DataNotExpectingReply;
    });
    if (it != queue_.end()) {
        send_queued(static_cast<size_t>(it - queue_.begin()));
        ++stats_.replies;
        ++stats_.data_out;
        state_ = State::Idle;
        return true;
    }
    if (now_ >= answer_deadline_) {
        // DeferredReply: the answer (if any) waits for our token.
        send(FrameType::ReplyPostponed, requester_);
        ++stats_.replies_postponed;
        state_ = State::Idle;
        return true;
    }
    return false;
}

void MasterNode::send(FrameType type, uint8_t destination, std::span<const uint8_t> data) {
    if (data.size() > kMaxData) throw std::length_error("MS/TP frame data above 501 octets");
    if (type == FrameType::PollForMaster) ++stats_.polls_sent;
    const size_t size = frame_size(data.size());
    // T_turnaround: the driver stays off until 40 bit times after the last
    // octet heard. Frames decided back to back keep their order.
    const auto earliest = last_octet_ + turnaround_;
    const auto start = std::max({now_, earliest, tx_busy_until_});
    tx_busy_until_ = start + wire_time(size);
    // The line is busy until our last stop bit: timers run from there.
    silence_since_ = std::max(silence_since_, tx_busy_until_);
    ++stats_.frames_out;
    stats_.octets_out += size;
    if (earliest > now_ || holding()) {
        const size_t offset = held_octets_.size();
        held_octets_.resize(offset + size);
        encode_frame_into(std::span<uint8_t>(held_octets_).subspan(offset), type, destination,
                          config_.station, data);
        held_.push_back(Held{std::max(earliest, now_), offset, size});
        return;
    }
    const size_t n = encode_frame_into(frame_buffer_, type, destination, config_.station, data);
    put_on_line(std::span<const uint8_t>(frame_buffer_.data(), n));
}

void MasterNode::put_on_line(std::span<const uint8_t> octets) {
    if (config_.discard_echo && echo_size_ + octets.size() <= kMaxEcho) {
        for (uint8_t o : octets)
            echo_[(echo_head_ + echo_size_++) % kMaxEcho] = o;
    }
    if (transmit_) transmit_(octets);
}

void MasterNode::flush_held() {
    while (holding() && held_[held_next_].due <= now_) {
        const Held h = held_[held_next_++];
        put_on_line(std::span<const uint8_t>(held_octets_).subspan(h.offset, h.size));
    }
    if (!holding()) {
        // Everything sent: start again at the front, keeping the storage.
        held_.clear();
        held_octets_.clear();
        held_next_ = 0;
    } else if (held_next_ >= kHeldCompactAt) {
        const size_t sent = held_[held_next_].offset;
        held_octets_.erase(held_octets_.begin(),
                           held_octets_.begin() + static_cast<std::ptrdiff_t>(sent));
        held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(held_next_));
        held_next_ = 0;
        for (Held& h : held_)
            h.offset -= sent;
    }
}

}  // namespace openbcpm::mstp
