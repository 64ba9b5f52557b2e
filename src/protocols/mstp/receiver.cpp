#include "protocols/mstp/receiver.hpp"

namespace openbcpm::mstp {

FrameReceiver::FrameReceiver(std::optional<uint8_t> station, size_t max_data)
    : station_(station), max_data_(max_data) {
    frame_.data.reserve(max_data_);
}

FrameReceiver::Event FrameReceiver::feed(uint8_t octet) {
    ++stats_.octets;
    switch (state_) {
        case State::Idle:
            // Anything but the first preamble octet is line noise or a pad.
            if (octet == kPreamble1) state_ = State::Preamble;
            return Event::None;
        case State::Preamble:
            if (octet == kPreamble2) {
                state_ = State::Header;
                index_ = 0;
                header_crc_ = 0xFF;
            } else if (octet != kPreamble1) {
                state_ = State::Idle;  // a repeated 0x55 keeps hunting for 0xFF
            }
            return Event::None;
        case State::Header:
            header_crc_ = header_crc_step(header_crc_, octet);
            switch (index_++) {
                case 0:
                    frame_.type = static_cast<FrameType>(octet);
                    return Event::None;
                case 1:
                    frame_.destination = octet;
                    return Event::None;
                case 2:
                    frame_.source = octet;
                    return Event::None;
                case 3:
                    length_ = size_t{octet} << 8;
                    return Event::None;
                case 4:
                    length_ |= octet;
                    return Event::None;
                default:
                    break;
            }
            // The header CRC octet.
            frame_.data.clear();
            if (header_crc_ != kHeaderCrcResidue) {
                ++stats_.header_crc_errors;
                state_ = State::Idle;
                return Event::InvalidFrame;
            }
            if (!wanted(frame_.destination)) {
                ++stats_.not_for_us;
                state_ = length_ ? State::SkipData : State::Idle;
                skip_ = length_ ? length_ + 2 : 0;
                return Event::NotForUs;
            }
            if (length_ == 0) {
                ++stats_.valid;
                state_ = State::Idle;
                return Event::ValidFrame;
            }
            if (length_ > max_data_) {
                // Skipping its data keeps 0x55 0xFF inside it from posing as a frame.
                ++stats_.too_long;
                state_ = State::SkipData;
                skip_ = length_ + 2;
                return Event::InvalidFrame;
            }
            state_ = State::Data;
            index_ = 0;
            data_crc_ = 0xFFFF;
            return Event::None;
        case State::Data:
            data_crc_ = data_crc_step(data_crc_, octet);
            if (index_ < length_) frame_.data.push_back(octet);
            if (++index_ < length_ + 2) return Event::None;
            state_ = State::Idle;
            if (data_crc_ != kDataCrcResidue) {
                ++stats_.data_crc_errors;
                frame_.data.clear();
                return Event::InvalidFrame;
            }
            ++stats_.valid;
            return Event::ValidFrame;
        case State::SkipData:
            if (--skip_ == 0) state_ = State::Idle;
            return Event::None;
    }
    return Event::None;
}

FrameReceiver::Event FrameReceiver::abandon() {
    const bool in_frame_body = state_ == State::Header || state_ == State::Data;
    state_ = State::Idle;
    frame_.data.clear();
    if (!in_frame_body) return Event::None;
    ++stats_.aborted;
    return Event::InvalidFrame;
}

FrameReceiver::Event FrameReceiver::timeout() {
    return abandon();
}

FrameReceiver::Event FrameReceiver::error() {
    return abandon();
}

StreamDecode decode_stream(std::span<const uint8_t> octets) {
    StreamDecode out;
    FrameReceiver rx(std::nullopt);
    for (uint8_t o : octets) {
        switch (rx.feed(o)) {
            case FrameReceiver::Event::ValidFrame:
                out.frames.push_back(rx.frame());
                break;
            case FrameReceiver::Event::InvalidFrame:
                ++out.invalid;
                break;
            default:
                break;
        }
    }
    return out;
}

}  // namespace openbcpm::mstp
