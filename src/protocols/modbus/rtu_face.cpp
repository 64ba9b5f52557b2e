#include "protocols/modbus/rtu_face.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

namespace openbcpm::modbus {

namespace asio = boost::asio;

std::chrono::microseconds frame_silence(int baud, Parity parity) {
    if (baud > 19200) return std::chrono::microseconds(1750);
    const int bits = 1 + 8 + (parity == Parity::None ? 0 : 1) + 1;  // start, data, parity, stop
    return std::chrono::microseconds(std::llround(3.5 * bits * 1e6 / baud));
}

RtuFace::RtuFace(asio::io_context& io, MeterModel& device)
    : device_(device), handler_(device), port_(io.get_executor()), silence_(io.get_executor()) {
    device_.set_loop_poster([&io](std::function<void()> f) { asio::post(io, std::move(f)); });
}

RtuFace::~RtuFace() {
    // Not the virtual stop(); and nothing may escape a destructor: closing
    // what is left is best effort.
    try {
        shut();
    } catch (...) {
    }
}

std::string RtuFace::name() const {
    const GatewaySettings& g = device_.settings().gateway;
    return "Modbus RTU on " + device_name_ + " (" + std::to_string(g.upstream_baud) +
           " baud, parity " + std::string(to_string(g.modbus_parity)) + ", addresses " +
           std::to_string(g.modbus_address) +
           (device_.settings().model.panels == 2 ? " and " + std::to_string(g.modbus_address + 1)
                                                 : "") +
           ")";
}

void RtuFace::start() {
    const GatewaySettings& g = device_.settings().gateway;
    device_name_ = g.serial_device;
    port_.open(device_name_);
    set_serial_line(port_.native_handle(), g.upstream_baud, g.modbus_parity);
    t35_ = frame_silence(g.upstream_baud, g.modbus_parity);
    running_ = true;
    read();
}

void RtuFace::stop() {
    shut();
}

void RtuFace::shut() {
    running_ = false;
    boost::system::error_code ec;
    silence_.cancel();
    port_.close(ec);
}

void RtuFace::read() {
    port_.async_read_some(asio::buffer(chunk_),
                          with_memory(ops_, [this](const boost::system::error_code& ec, size_t n) {
                              on_read(ec, n);
                          }));
}

void RtuFace::on_read(const boost::system::error_code& ec, size_t n) {
    if (ec || !running_) return;
    if (frame_size_ + n > frame_.size()) {
        // Longer than any RTU frame: the line is noise until the next silence.
        ++stats_.overruns;
        frame_size_ = 0;
    } else {
        std::memcpy(frame_.data() + frame_size_, chunk_.data(), n);
        frame_size_ += n;
    }
    // Each character restarts the silence timer; 3.5 characters of quiet end the frame.
    silence_.expires_after(t35_);
    silence_.async_wait(with_memory(ops_, [this](const boost::system::error_code& e) {
        if (!e && running_) on_silence();
    }));
    read();
}

void RtuFace::on_silence() {
    const size_t size = std::exchange(frame_size_, 0);
    if (size == 0) return;
    ++stats_.frames;
    // The PDU is answered from frame_ itself: no read completes before this returns.
    const auto rtu = decode_rtu(std::span<const uint8_t>(frame_.data(), size));
    if (!rtu) {
        ++stats_.crc_errors;  // a damaged frame is dropped, as the spec says
        return;
    }
    uint64_t ticket = 0;
    uint8_t* const adu = answer_.data();
    const size_t n = handler_.respond(rtu->address, rtu->pdu, Transport::Rtu, &ticket,
                                      std::span<uint8_t, kMaxPdu>(adu + 1, kMaxPdu));
    if (n == 0) return;
    ++stats_.responses;
    adu[0] = rtu->address;
    const uint16_t crc = crc16(std::span<const uint8_t>(adu, n + 1));
    adu[n + 1] = static_cast<uint8_t>(crc & 0xFF);  // CRC low byte first
    adu[n + 2] = static_cast<uint8_t>(crc >> 8);
    const std::span<const uint8_t> bytes(adu, n + 3);
    if (ticket && !device_.applied(ticket)) {
        // A write is answered once the meter shows it (the master waits for
        // the answer before its next request). Only this held answer is
        // copied to the heap: writes may allocate, reads do not.
        device_.when_applied(ticket, [this, alive = std::weak_ptr<bool>(alive_),
                                      held = std::vector<uint8_t>(bytes.begin(), bytes.end())] {
            if (alive.lock() && running_) send(held);
        });
        return;
    }
    send(bytes);
}

// Queues a copy of the answer in the ring; the line takes one at a time.
void RtuFace::send(std::span<const uint8_t> adu) {
    if (queued_ == out_.size()) {
        ++stats_.dropped;
        return;
    }
    Answer& slot = out_[(head_ + queued_) % out_.size()];
    std::copy(adu.begin(), adu.end(), slot.bytes.begin());
    slot.size = adu.size();
    if (++queued_ == 1) write_front();
}

void RtuFace::write_front() {
    const Answer& front = out_[head_];
    asio::async_write(port_, asio::buffer(front.bytes.data(), front.size),
                      with_memory(ops_, [this](const boost::system::error_code& ec, size_t) {
                          if (ec || !running_) {
                              queued_ = 0;
                              return;
                          }
                          head_ = (head_ + 1) % out_.size();
                          if (--queued_ > 0) write_front();
                      }));
}

}  // namespace openbcpm::modbus
