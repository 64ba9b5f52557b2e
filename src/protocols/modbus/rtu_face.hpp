// Modbus RTU on a serial device: frames delimited by 3.5 characters of
// silence, CRC-16 checked, addresses 1..247, broadcasts to 0 unanswered.
// A warm face allocates nothing per answered read: the frame, the answer and
// the answers waiting for the line live in fixed buffers of the face, and its
// asynchronous operations in memory of its own (RtuOpMemory).
#pragma once

#include <array>
#include <boost/asio/basic_serial_port.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <span>

#include "core/handler_memory.hpp"
#include "model/face.hpp"
#include "protocols/modbus/handler.hpp"

namespace openbcpm::modbus {

struct RtuStats {
    uint64_t frames = 0;
    uint64_t crc_errors = 0;
    uint64_t overruns = 0;
    uint64_t responses = 0;
    uint64_t dropped = 0;  // answers that found the output queue full (kRtuQueue)
};

// The longest RTU frame: address, a PDU of at most 253 bytes, CRC.
inline constexpr size_t kMaxRtuFrame = 256;
// Answers waiting for the line. A master waits for each answer before its next
// request, so one is the rule; a master that does not wait (or a held write
// answered while a read's answer is on the line) finds a few more places, and
// beyond them its answers are dropped and counted, never queued without bound.
inline constexpr size_t kRtuQueue = 4;

// Memory for the face's asynchronous operations (core/handler_memory.hpp):
// four places, since a read, a silence wait and the cancelled one it
// replaced, and a write are in flight at most.
using RtuOpMemory = HandlerMemory<4, 256>;

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
    void on_read(const boost::system::error_code& ec, size_t n);
    void on_silence();
    void send(std::span<const uint8_t> adu);
    void write_front();

    struct Answer {
        std::array<uint8_t, kMaxRtuFrame> bytes{};
        size_t size = 0;
    };

    // Bound to the io_context's own executor (as the TCP face's are): its
    // completions run without a type-erased executor in between.
    using Port = boost::asio::basic_serial_port<boost::asio::io_context::executor_type>;
    using Timer =
        boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                          boost::asio::wait_traits<std::chrono::steady_clock>,
                                          boost::asio::io_context::executor_type>;

    MeterModel& device_;
    Handler handler_;
    // Shared with the operations: one the io_context destroys after the face
    // is gone still gives its memory back.
    std::shared_ptr<RtuOpMemory> ops_ = std::make_shared<RtuOpMemory>();
    Port port_;
    Timer silence_;
    std::array<uint8_t, 512> chunk_{};
    std::array<uint8_t, kMaxRtuFrame> frame_{};  // the frame received since the last silence
    size_t frame_size_ = 0;
    std::array<uint8_t, kMaxRtuFrame> answer_{};  // the handler writes here; CRC appended in place
    std::array<Answer, kRtuQueue> out_{};         // a ring: out_[head_] is on the line
    size_t head_ = 0;
    size_t queued_ = 0;
    std::chrono::microseconds t35_{1750};
    std::string device_name_;
    RtuStats stats_;
    bool running_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // held answers check it
};

// Sets any baud rate (76800 included, which termios has no constant for).
void set_serial_line(int fd, int baud, Parity parity);

}  // namespace openbcpm::modbus
