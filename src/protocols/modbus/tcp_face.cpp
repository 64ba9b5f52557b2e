#include "protocols/modbus/tcp_face.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/write.hpp>
#include <deque>

namespace openbcpm::modbus {

namespace asio = boost::asio;
using asio::ip::tcp;

class TcpFace::Session : public std::enable_shared_from_this<TcpFace::Session> {
  public:
    Session(TcpFace& face, tcp::socket socket)
        : face_(face), socket_(std::move(socket)), idle_(socket_.get_executor()) {}

    void start() {
        touch();
        read();
    }

    void close() {
        boost::system::error_code ec;
        idle_.cancel();
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        socket_.close(ec);
    }

  private:
    void touch() {
        if (face_.config_.idle_timeout_s <= 0) return;
        idle_.expires_after(std::chrono::seconds(face_.config_.idle_timeout_s));
        idle_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) self->finish();
        });
    }

    void read() {
        socket_.async_read_some(asio::buffer(chunk_),
                                [self = shared_from_this()](const boost::system::error_code& ec,
                                                            size_t n) { self->on_read(ec, n); });
    }

    void on_read(const boost::system::error_code& ec, size_t n) {
        if (ec) return finish();
        touch();
        pending_.insert(pending_.end(), chunk_.begin(), chunk_.begin() + static_cast<long>(n));
        size_t used = 0;
        while (true) {
            size_t adu = 0;
            const auto status = tcp_frame(std::span(pending_).subspan(used), adu);
            if (status == FrameStatus::NeedMore) break;
            if (status == FrameStatus::Invalid) return finish();  // no way to find the next frame
            const auto frame = std::span<const uint8_t>(pending_).subspan(used, adu);
            used += adu;
            const MbapHeader h = decode_mbap(frame);
            if (h.protocol != 0) continue;  // not Modbus: dropped
            auto response = face_.handler_.handle(h.unit, frame.subspan(kMbapSize), Transport::Tcp);
            if (response) queue(tcp_adu(h, *response));
        }
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(used));
        read();
    }

    void queue(std::vector<uint8_t> adu) {
        out_.push_back(std::move(adu));
        if (out_.size() == 1) write();
    }

    void write() {
        asio::async_write(socket_, asio::buffer(out_.front()),
                          [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                              if (ec) return self->finish();
                              self->out_.pop_front();
                              if (!self->out_.empty()) self->write();
                          });
    }

    void finish() {
        if (done_) return;
        done_ = true;
        close();
        face_.closed(shared_from_this());
    }

    TcpFace& face_;
    tcp::socket socket_;
    asio::steady_timer idle_;
    std::array<uint8_t, 1024> chunk_{};
    std::vector<uint8_t> pending_;
    std::deque<std::vector<uint8_t>> out_;
    bool done_ = false;
};

TcpFace::TcpFace(asio::io_context& io, Device& device, const ModbusConfig& config)
    : device_(device), config_(config), handler_(device), acceptor_(io) {}

TcpFace::~TcpFace() {
    // Not the virtual stop(); and nothing may escape a destructor: closing
    // what is left is best effort.
    try {
        shut();
    } catch (...) {
    }
}

std::string TcpFace::name() const {
    return "Modbus TCP on " + address_ + ":" + std::to_string(port_);
}

void TcpFace::start() {
    const GatewaySettings& g = device_.settings().gateway;
    address_ = g.ip_address;
    const tcp::endpoint ep(asio::ip::make_address(g.ip_address),
                           static_cast<uint16_t>(g.modbus_tcp_port));
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    running_ = true;
    accept();
}

void TcpFace::stop() {
    shut();
}

void TcpFace::shut() {
    running_ = false;
    boost::system::error_code ec;
    acceptor_.close(ec);
    // Sessions remove themselves from the set as they finish.
    auto sessions = sessions_;
    for (const auto& s : sessions)
        s->close();
    sessions_.clear();
}

void TcpFace::accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
        if (!running_) return;
        if (!ec) {
            if (sessions_.size() >= static_cast<size_t>(config_.max_connections)) {
                // Over the limit: the new master is turned away at once.
                boost::system::error_code ignored;
                socket.close(ignored);
                spdlog::warn("Modbus TCP: connection limit ({}) reached", config_.max_connections);
            } else {
                boost::system::error_code ignored;
                socket.set_option(tcp::no_delay(true), ignored);
                auto s = std::make_shared<Session>(*this, std::move(socket));
                sessions_.insert(s);
                s->start();
            }
        }
        accept();
    });
}

void TcpFace::closed(const std::shared_ptr<Session>& session) {
    sessions_.erase(session);
}

}  // namespace openbcpm::modbus
