// Modbus TCP: a listening socket on the shared event loop, many masters at once,
// a connection limit and an idle timeout.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <set>

#include "app/faces.hpp"
#include "protocols/modbus/handler.hpp"

namespace openbcpm::modbus {

class TcpFace final : public Face {
  public:
    TcpFace(boost::asio::io_context& io, Device& device, const ModbusConfig& config);
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
    void closed(const std::shared_ptr<Session>& session);

    Device& device_;
    ModbusConfig config_;
    Handler handler_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::set<std::shared_ptr<Session>> sessions_;
    uint16_t port_ = 0;
    std::string address_;
    bool running_ = false;
    friend class Session;
};

}  // namespace openbcpm::modbus
