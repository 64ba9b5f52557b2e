#include "protocols/modbus/rtu_face.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cmath>

namespace openbcpm::modbus {

namespace asio = boost::asio;

std::chrono::microseconds frame_silence(int baud, Parity parity) {
    if (baud > 19200) return std::chrono::microseconds(1750);
    const int bits = 1 + 8 + (parity == Parity::None ? 0 : 1) + 1;  // start, data, parity, stop
    return std::chrono::microseconds(std::llround(3.5 * bits * 1e6 / baud));
}

RtuFace::RtuFace(asio::io_context& io, MeterModel& device)
    : device_(device), handler_(device), port_(io), silence_(io) {
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
    port_.async_read_some(
        asio::buffer(chunk_), [this](const boost::system::error_code& ec, size_t n) {
            if (ec || !running_) return;
            if (frame_.size() + n > 256) {
                // Longer than any RTU frame: the line is noise until the next silence.
                ++stats_.overruns;
                frame_.clear();
            } else {
                frame_.insert(frame_.end(), chunk_.begin(), chunk_.begin() + static_cast<long>(n));
            }
            // Each character restarts the silence timer; 3.5 characters of quiet end the frame.
            silence_.expires_after(t35_);
            silence_.async_wait([this](const boost::system::error_code& e) {
                if (!e && running_) on_silence();
            });
            read();
        });
}

void RtuFace::on_silence() {
    std::vector<uint8_t> frame;
    frame.swap(frame_);
    if (frame.empty()) return;
    ++stats_.frames;
    const auto rtu = decode_rtu(frame);
    if (!rtu) {
        ++stats_.crc_errors;  // a damaged frame is dropped, as the spec says
        return;
    }
    uint64_t ticket = 0;
    auto response = handler_.handle(rtu->address, rtu->pdu, Transport::Rtu, &ticket);
    if (!response) return;
    ++stats_.responses;
    if (ticket && !device_.applied(ticket)) {
        // A write is answered once the meter shows it (the master waits for
        // the answer before its next request).
        device_.when_applied(ticket, [this, alive = std::weak_ptr<bool>(alive_),
                                      adu = rtu_adu(rtu->address, *response)]() mutable {
            if (alive.lock() && running_) send(std::move(adu));
        });
        return;
    }
    send(rtu_adu(rtu->address, *response));
}

void RtuFace::send(std::vector<uint8_t> adu) {
    out_.push_back(std::move(adu));
    if (out_.size() == 1) write_front();
}

void RtuFace::write_front() {
    asio::async_write(port_, asio::buffer(out_.front()),
                      [this](const boost::system::error_code& ec, size_t) {
                          if (ec || !running_) {
                              out_.clear();
                              return;
                          }
                          out_.pop_front();
                          if (!out_.empty()) write_front();
                      });
}

}  // namespace openbcpm::modbus
