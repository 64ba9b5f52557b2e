#include "protocols/modbus/tcp_face.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <deque>

namespace openbcpm::modbus {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class TcpFace::Session : public std::enable_shared_from_this<TcpFace::Session> {
  public:
    Session(TcpFace& face, tcp::socket socket)
        : face_(face),
          socket_(std::move(socket)),
          idle_(socket_.get_executor()),
          drain_(socket_.get_executor()),
          last_answer_(Clock::now()) {}

    void start() {
        boost::system::error_code ignored;  // a socket that refuses keeps the default
        socket_.set_option(asio::socket_base::send_buffer_size(kSocketSendBuffer), ignored);
        if (face_.config_.idle_timeout_s > 0) arm_idle(idle_timeout());
        read();
    }

    // When the master last got an answer (or connected): the longest-idle
    // connection is the one to go when a newcomer arrives at the cap.
    Clock::time_point last_answer() const { return last_answer_; }

    void close() {
        boost::system::error_code ec;
        idle_.cancel();
        drain_.cancel();
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        socket_.close(ec);
    }

    void finish() {
        if (done_) return;
        done_ = true;
        close();
        face_.closed(shared_from_this());
    }

  private:
    Clock::duration idle_timeout() const {
        return std::chrono::seconds(face_.config_.idle_timeout_s);
    }

    // Only answered requests keep a connection alive: traffic the meter does
    // not answer (other protocols, broadcasts) does not renew it.
    void arm_idle(Clock::duration after) {
        idle_.expires_after(after);
        idle_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec || self->done_) return;
            const auto quiet = Clock::now() - self->last_answer_;
            if (quiet < self->idle_timeout()) return self->arm_idle(self->idle_timeout() - quiet);
            ++self->face_.counters().timed_out;
            self->finish();
        });
    }

    void read() {
        socket_.async_read_some(asio::buffer(chunk_),
                                [self = shared_from_this()](const boost::system::error_code& ec,
                                                            size_t n) { self->on_read(ec, n); });
    }

    void on_read(const boost::system::error_code& ec, size_t n) {
        if (ec || done_) return finish();
        pending_.insert(pending_.end(), chunk_.begin(), chunk_.begin() + static_cast<long>(n));
        serve();
    }

    // Answers the complete requests received while the unsent answers stay
    // under the bound; then reads on, or waits for the master to take them.
    void serve() {
        if (held_) return;  // an answer waits for the meter: the next ones wait behind it
        size_t used = 0;
        while (unsent_ < kMaxUnsentBytes) {
            size_t adu = 0;
            const auto status = tcp_frame(std::span(pending_).subspan(used), adu);
            if (status == FrameStatus::NeedMore) break;
            if (status == FrameStatus::Invalid) return finish();  // no way to find the next frame
            const auto frame = std::span<const uint8_t>(pending_).subspan(used, adu);
            used += adu;
            const MbapHeader h = decode_mbap(frame);
            if (h.protocol != 0) continue;  // not Modbus: dropped
            uint64_t ticket = 0;
            auto response =
                face_.handler_.handle(h.unit, frame.subspan(kMbapSize), Transport::Tcp, &ticket);
            if (!response) continue;
            last_answer_ = Clock::now();
            if (ticket && !face_.device_.applied(ticket)) {
                // A write is answered once the meter shows it, so that the
                // master's next read (on any face) sees it; this connection's
                // later requests keep their order behind it.
                held_ = true;
                pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(used));
                face_.device_.when_applied(
                    ticket, [self = shared_from_this(), adu = tcp_adu(h, *response)]() mutable {
                        if (self->done_) return;
                        self->held_ = false;
                        self->queue(std::move(adu));
                        self->serve();
                    });
                return;
            }
            queue(tcp_adu(h, *response));
        }
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(used));
        if (unsent_ < kMaxUnsentBytes) return read();
        // The master sends faster than it reads: no more reading (its requests
        // wait in the kernel, then in its own socket) until it catches up.
        paused_ = true;
        drain_.expires_after(kDrainTimeout);
        drain_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec || self->done_ || !self->paused_) return;
            ++self->face_.counters().stalled;
            self->face_.log_.note(
                fmt::format("closed a connection whose master did not read its answers for {} s",
                            kDrainTimeout.count()));
            // Reset, so that the kernel drops what it still holds for this master at once.
            boost::system::error_code ignored;
            self->socket_.set_option(tcp::socket::linger(true, 0), ignored);
            self->finish();
        });
    }

    void queue(std::vector<uint8_t> adu) {
        unsent_ += adu.size();
        out_.push_back(std::move(adu));
        if (!writing_) write();
    }

    // Everything queued goes out in one gathered write.
    void write() {
        writing_ = true;
        in_flight_.clear();
        while (!out_.empty()) {
            in_flight_.push_back(std::move(out_.front()));
            out_.pop_front();
        }
        buffers_.clear();
        for (const auto& adu : in_flight_)
            buffers_.emplace_back(asio::buffer(adu));
        asio::async_write(socket_, buffers_,
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      size_t n) { self->on_written(ec, n); });
    }

    void on_written(const boost::system::error_code& ec, size_t n) {
        writing_ = false;
        if (ec || done_) return finish();
        unsent_ -= n;
        in_flight_.clear();
        if (!out_.empty()) write();
        if (paused_ && unsent_ <= kMaxUnsentBytes / 2) {
            paused_ = false;
            drain_.cancel();
            serve();
        }
    }

    TcpFace& face_;
    tcp::socket socket_;
    asio::steady_timer idle_;
    asio::steady_timer drain_;
    Clock::time_point last_answer_;
    std::array<uint8_t, 1024> chunk_{};
    std::vector<uint8_t> pending_;
    std::deque<std::vector<uint8_t>> out_;
    std::vector<std::vector<uint8_t>> in_flight_;
    std::vector<asio::const_buffer> buffers_;
    size_t unsent_ = 0;  // bytes in out_ and in_flight_
    bool writing_ = false;
    bool paused_ = false;
    bool held_ = false;  // an answer waits for Device::when_applied
    bool done_ = false;
};

TcpFace::TcpFace(asio::io_context& io, MeterModel& device, const ModbusConfig& config)
    : device_(device),
      config_(config),
      handler_(device),
      acceptor_(io),
      accept_retry_(io),
      log_(io, "Modbus TCP") {
    device_.set_loop_poster([&io](std::function<void()> f) { asio::post(io, std::move(f)); });
}

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
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
    running_ = true;
    accept();
}

void TcpFace::stop() {
    shut();
}

void TcpFace::shut() {
    const bool was_running = running_;
    running_ = false;
    boost::system::error_code ec;
    acceptor_.close(ec);
    accept_retry_.cancel();
    // Sessions remove themselves from the set as they finish.
    auto sessions = sessions_;
    for (const auto& s : sessions)
        s->close();
    sessions_.clear();
    counters().open = 0;
    if (was_running) log_.flush();
}

void TcpFace::accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
        if (!running_) return;
        if (!ec) {
            admit(std::move(socket));
            return accept();
        }
        if (ec != asio::error::no_descriptors && ec != asio::error::no_buffer_space &&
            ec != asio::error::no_memory) {
            return accept();  // the peer gave up before we took it: nothing to count
        }
        // Out of descriptors or memory: the connection waits in the backlog.
        // Accepting again at once would spin; a moment later some may be free.
        ++counters().refused;
        log_.note("cannot accept a connection: " + ec.message());
        accept_retry_.expires_after(std::chrono::milliseconds(100));
        accept_retry_.async_wait([this](const boost::system::error_code& e) {
            if (!e && running_) accept();
        });
    });
}

void TcpFace::admit(tcp::socket socket) {
    ++counters().accepted;
    if (sessions_.size() >= static_cast<size_t>(config_.max_connections)) {
        // At the cap the newcomer is served and the longest-idle master goes:
        // idle connections cannot lock new masters out.
        const auto oldest = *std::min_element(
            sessions_.begin(), sessions_.end(),
            [](const auto& a, const auto& b) { return a->last_answer() < b->last_answer(); });
        ++counters().evicted;
        log_.note(fmt::format("connection limit ({}) reached: closed the longest-idle connection",
                              config_.max_connections));
        oldest->finish();
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto s = std::make_shared<Session>(*this, std::move(socket));
    sessions_.insert(s);
    counters().open = sessions_.size();
    s->start();
}

void TcpFace::closed(const std::shared_ptr<Session>& session) {
    sessions_.erase(session);
    counters().open = sessions_.size();
}

}  // namespace openbcpm::modbus
