#include "protocols/mstp/face.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>

#include <array>
#include <boost/asio/write.hpp>
#include <cstddef>
#include <stdexcept>
#include <utility>

namespace openbcpm::mstp {

namespace asio = boost::asio;

MstpFace::MstpFace(asio::io_context& io, bacnet::VirtualRouter& router, MstpOptions options)
    : router_(router),
      options_(std::move(options)),
      port_(io),
      wake_(io),
      tick_(io),
      memory_(std::make_shared<OpMemory>()) {}

MstpFace::~MstpFace() {
    close();
}

void MstpFace::start() {
    if (running_) return;
    if (options_.device.empty()) throw std::runtime_error("MS/TP: no serial device configured");
    if (options_.mac > kMaxMasterAddress)
        throw std::runtime_error(fmt::format("MS/TP: MAC address {} is not 0..127", options_.mac));
    if (options_.baud == 0) throw std::runtime_error("MS/TP: baud rate 0");
    boost::system::error_code ec;
    port_.open(options_.device, ec);
    if (ec) {
        throw std::runtime_error(
            fmt::format("MS/TP: cannot open {}: {}", options_.device, ec.message()));
    }
    try {
        set_mstp_line(port_.native_handle(), options_.baud);
        if (options_.rs485_rts) set_rs485_rts(port_.native_handle());
    } catch (const std::system_error& e) {
        port_.close(ec);
        throw std::runtime_error(fmt::format("MS/TP: {}: {}", options_.device, e.what()));
    }
    pending_.clear();
    pending_frames_ = 0;
    writing_ = false;
    reading_ = false;
    NodeConfig c;
    c.station = options_.mac;
    c.max_master = options_.max_master;
    c.max_info_frames = options_.max_info_frames;
    c.baud = options_.baud;
    c.timing = options_.timing;
    c.max_queue = options_.max_queue;
    c.discard_echo = options_.discard_echo;
    link_ = std::make_unique<MstpLink>(c, [this](std::span<const uint8_t> o) { transmit(o); });
    router_.attach(*link_);
    running_ = true;
    const auto now = Clock::now();
    link_->node().start(now);
    read_next();
    schedule_tick();
    // The announcements wait in the queue for our first token.
    router_.start(now);
    rearm();
}

void MstpFace::stop() {
    close();
}

void MstpFace::close() noexcept {
    if (!running_) return;
    running_ = false;
    router_.detach();
    try {
        wake_.cancel();
        tick_.cancel();
    } catch (const boost::system::system_error&) {
        // A timer that cannot be cancelled fires into !running_ and stops.
    }
    boost::system::error_code ec;
    port_.cancel(ec);
    port_.close(ec);
    armed_at_ = Clock::time_point::max();
}

void MstpFace::set_max_master(uint8_t max_master) {
    options_.max_master = max_master;
    if (link_) link_->node().set_max_master(max_master);
}

void MstpFace::set_max_info_frames(uint8_t max_info_frames) {
    options_.max_info_frames = max_info_frames;
    if (link_) link_->node().set_max_info_frames(max_info_frames);
}

void MstpFace::read_next() {
    if (!running_ || reading_) return;
    reading_ = true;
    port_.async_read_some(
        asio::buffer(buffer_), with_memory(memory_, [this](boost::system::error_code ec, size_t n) {
            // An aborted read may outlive the face: touch nothing then.
            if (ec == asio::error::operation_aborted) return;
            reading_ = false;
            if (!running_) return;
            if (ec) {
                // The device went away (a pty whose other side closed, a USB
                // adapter unplugged): the tick tries again.
                ++read_errors_;
                return;
            }
            link_->node().receive(std::span<const uint8_t>(buffer_.data(), n), Clock::now());
            rearm();
            read_next();
        }));
}

void MstpFace::rearm() {
    if (!running_) return;
    const auto due = link_->node().next_deadline();
    if (due == armed_at_ || due == Clock::time_point::max()) return;
    armed_at_ = due;
    wake_.expires_at(due);
    wake_.async_wait(with_memory(memory_, [this](boost::system::error_code ec) {
        if (ec || !running_) return;
        armed_at_ = Clock::time_point::max();
        // Octets already in the driver arrived before this timeout: the
        // pending read delivers them first, and re-arms (after a stall of
        // the process both are ready at once, in no set order).
        if (octets_waiting()) return;
        link_->node().poll(Clock::now());
        rearm();
    }));
}

bool MstpFace::octets_waiting() {
    int n = 0;
    return reading_ && ::ioctl(port_.native_handle(), FIONREAD, &n) == 0 && n > 0;
}

void MstpFace::schedule_tick() {
    tick_.expires_after(options_.tick);
    tick_.async_wait(with_memory(memory_, [this](boost::system::error_code ec) {
        if (ec || !running_) return;
        const auto now = Clock::now();
        if (options_.on_tick) options_.on_tick(now);
        router_.tick(now);
        if (!reading_) read_next();
        rearm();
        schedule_tick();
    }));
}

void MstpFace::transmit(std::span<const uint8_t> octets) {
    pending_.insert(pending_.end(), octets.begin(), octets.end());
    ++pending_frames_;
    if (!writing_) write_next();
}

void MstpFace::write_next() {
    if (pending_.empty() || !running_) {
        writing_ = false;
        return;
    }
    writing_ = true;
    // The frames decided while the last write went out, in one write.
    std::swap(in_flight_, pending_);
    pending_.clear();
    in_flight_frames_ = std::exchange(pending_frames_, 0);
    asio::async_write(port_, asio::buffer(in_flight_),
                      with_memory(memory_, [this](boost::system::error_code ec, size_t) {
                          if (ec == asio::error::operation_aborted || !running_) return;
                          // The frames are lost, as on a noisy line.
                          if (ec) write_errors_ += in_flight_frames_;
                          write_next();
                      }));
}

MstpOptions mstp_options_from_settings(const GatewaySettings& g) {
    MstpOptions o;
    o.device = g.serial_device;
    o.baud = static_cast<uint32_t>(g.upstream_baud);
    o.mac = static_cast<uint8_t>(g.mstp_mac_addr);
    o.max_master = static_cast<uint8_t>(g.mstp_max_master);
    return o;
}

}  // namespace openbcpm::mstp
