// Modbus RTU on a serial device: frames delimited by 3.5 characters of
// silence, CRC-16 checked, addresses 1..247, broadcasts to 0 unanswered.
#pragma once

#include <array>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>

#include "model/face.hpp"
#include "protocols/modbus/handler.hpp"

namespace openbcpm::modbus {

struct RtuStats {
    uint64_t frames = 0;
    uint64_t crc_errors = 0;
    uint64_t overruns = 0;
    uint64_t responses = 0;
};

// The inter-frame silence (t3.5) for a line, as the Modbus serial line spec
// gives it: 3.5 character times, fixed at 1.75 ms above 19200 baud.
std::chrono::microseconds frame_silence(int baud, Parity parity);

class RtuFace final : public Face {
  public:
    RtuFace(boost::asio::io_context& io, MeterModel& device);
    ~RtuFace() override;

    std::string name() const override;
    void start() override;
    void stop() override;
    const RtuStats& stats() const { return stats_; }

  private:
    void shut();  // stop(), callable from the destructor
    void read();
    void on_silence();
    void send(std::vector<uint8_t> adu);
    void write_front();

    MeterModel& device_;
    Handler handler_;
    boost::asio::serial_port port_;
    boost::asio::steady_timer silence_;
    std::array<uint8_t, 512> chunk_{};
    std::vector<uint8_t> frame_;
    std::deque<std::vector<uint8_t>> out_;
    std::chrono::microseconds t35_{1750};
    std::string device_name_;
    RtuStats stats_;
    bool running_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // held answers check it
};

// Sets any baud rate (76800 included, which termios has no constant for).
void set_serial_line(int fd, int baud, Parity parity);

}  // namespace openbcpm::modbus
