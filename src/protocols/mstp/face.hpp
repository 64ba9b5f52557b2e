// The BACnet MS/TP face: the RS-485 serial port (boost::asio::serial_port on
// the shared io_context, 8N1 at any baud), the master node on it, and the
// VirtualRouter attached through MstpLink. Protocol mode 1.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/handler_memory.hpp"
#include "core/settings.hpp"
#include "model/face.hpp"
#include "protocols/bacnet/router.hpp"
#include "protocols/mstp/mstp_link.hpp"

namespace openbcpm::mstp {

struct MstpOptions {
    std::string device;           // GatewaySettings::serial_device
    uint32_t baud = 19200;        // GatewaySettings::upstream_baud
    uint8_t mac = 1;              // GatewaySettings::mstp_mac_addr (TS)
    uint8_t max_master = 127;     // GatewaySettings::mstp_max_master
    uint8_t max_info_frames = 1;  // keep equal to RouterConfig::max_info_frames
    Timing timing;
    // Let the kernel drive the transceiver from RTS (TIOCSRS485) for UARTs
    // without automatic direction control; start() fails if refused.
    bool rs485_rts = false;
    // The adapter echoes what it sends: drop those octets.
    bool discard_echo = false;
    size_t max_queue = 64;
    std::chrono::milliseconds tick{100};
    // Called on every tick before the router's timers (e.g. to run
    // PointDatabase::evaluate with the meter's clock).
    std::function<void(Clock::time_point)> on_tick;
};

class MstpFace final : public Face {
  public:
    MstpFace(boost::asio::io_context& io, bacnet::VirtualRouter& router, MstpOptions options);
    ~MstpFace() override;
    std::string name() const override { return "bacnet-mstp"; }
    // Opens and sets up the serial port (throws std::runtime_error), attaches
    // the router, starts the node and announces the router and its devices.
    void start() override;
    void stop() override;

    // The router's Max_Master was written (RouterHooks::max_master_changed).
    void set_max_master(uint8_t max_master);
    void set_max_info_frames(uint8_t max_info_frames);

    bool running() const { return running_; }
    MstpLink* link() { return link_.get(); }
    const MstpOptions& options() const { return options_; }
    // Frames lost to failed writes.
    uint64_t write_errors() const { return write_errors_; }
    uint64_t read_errors() const { return read_errors_; }

  private:
    void close() noexcept;
    void read_next();
    void rearm();
    bool octets_waiting();
    void schedule_tick();
    void transmit(std::span<const uint8_t> octets);
    void write_next();
    // Memory for the face's asynchronous operations (core/handler_memory.hpp):
    // the read, the write, the tick, the wake timer and the wait it
    // cancelled, with room to spare; once warm the face allocates nothing
    // per frame (issue 16).
    using OpMemory = HandlerMemory<8, 512>;

    bacnet::VirtualRouter& router_;
    MstpOptions options_;
    boost::asio::serial_port port_;
    boost::asio::steady_timer wake_;
    boost::asio::steady_timer tick_;
    std::shared_ptr<OpMemory> memory_;
    Clock::time_point armed_at_ = Clock::time_point::max();
    std::unique_ptr<MstpLink> link_;
    std::array<uint8_t, 512> buffer_{};
    // Octets to write: frames wait in pending_ while in_flight_ is being
    // written, then the two swap; both keep their storage (no allocation
    // per frame once warm).
    std::vector<uint8_t> pending_, in_flight_;
    uint64_t pending_frames_ = 0, in_flight_frames_ = 0;
    bool writing_ = false;
    bool reading_ = false;
    bool running_ = false;
    uint64_t write_errors_ = 0, read_errors_ = 0;
};

// Options from the gateway settings (MS/TP is always 8N1).
MstpOptions mstp_options_from_settings(const GatewaySettings& g);

// 8 data bits, no parity, 1 stop bit, raw, at any baud (termios2 BOTHER).
// Throws std::system_error.
void set_mstp_line(int fd, uint32_t baud);
// The kernel's RS-485 mode: RTS drives the transceiver, on while sending.
void set_rs485_rts(int fd);

}  // namespace openbcpm::mstp
