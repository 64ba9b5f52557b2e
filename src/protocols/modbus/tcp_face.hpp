// Modbus TCP: a listening socket on the shared event loop, many masters at once.
// No master can hold the face hostage: each connection's unsent answers are
// bounded (reading stops above the bound, and a master that does not read its
// answers in time is closed), and at the connection cap a newcomer takes the
// slot of the longest-idle connection, as gateways do.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <set>

#include "model/connection_log.hpp"
#include "model/face.hpp"
#include "protocols/modbus/handler.hpp"

namespace openbcpm::modbus {

// Answers queued on one connection beyond which the face stops reading it.
inline constexpr size_t kMaxUnsentBytes = 64 * 1024;
// How long a connection may stay stopped that way before it is closed.
inline constexpr std::chrono::seconds kDrainTimeout{10};
// The kernel's send buffer of a connection (Linux doubles it): an answer is at
// most 260 bytes, so this holds hundreds of them; without it the buffer grows
// to megabytes for a master that does not read, before kMaxUnsentBytes is
// ever reached.
inline constexpr int kSocketSendBuffer = 64 * 1024;

// Sockets and timers bound to the io_context's own executor rather than the
// type-erased any_io_executor: no dispatch through it on every completion.
using Socket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;
using Timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                boost::asio::wait_traits<std::chrono::steady_clock>,
                                                boost::asio::io_context::executor_type>;

class TcpFace final : public Face {
  public:
    TcpFace(boost::asio::io_context& io, MeterModel& device, const ModbusConfig& config);
    ~TcpFace() override;

    std::string name() const override;
    void start() override;
    void stop() override;
    uint16_t port() const { return port_; }
    size_t connections() const { return sessions_.size(); }
    const Handler& handler() const { return handler_; }

    class Session;

  private:
    void shut();  // stop(), callable from the destructor
    void accept();
    void admit(Socket socket);
    void closed(const std::shared_ptr<Session>& session);
    ConnectionCounters& counters() { return device_.connection_stats().modbus_tcp; }

    boost::asio::io_context& io_;
    MeterModel& device_;
    ModbusConfig config_;
    Handler handler_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer accept_retry_;
    std::optional<Socket> incoming_;  // the socket the pending accept fills
    ConnectionLog log_;
    std::set<std::shared_ptr<Session>> sessions_;
    // Answers given (and connections admitted) so far: a session's last
    // one orders the sessions by idleness without reading a clock per answer.
    uint64_t answer_count_ = 0;
    uint16_t port_ = 0;
    std::string address_;
    bool running_ = false;
    friend class Session;
};

}  // namespace openbcpm::modbus
