#include "protocols/modbus/tcp_face.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

namespace openbcpm::modbus {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class TcpFace::Session : public std::enable_shared_from_this<TcpFace::Session> {
  public:
    Session(TcpFace& face, Socket socket)
        : face_(face),
          socket_(std::move(socket)),
          idle_(socket_.get_executor()),
          drain_(socket_.get_executor()) {
        answered_now();  // a newcomer counts as just answered
    }

    void start() {
        boost::system::error_code ignored;  // a socket that refuses keeps the default
        socket_.set_option(asio::socket_base::send_buffer_size(kSocketSendBuffer), ignored);
        socket_.non_blocking(true, ignored);  // flush() sends without waiting
        if (face_.config_.idle_timeout_s > 0) arm_idle(idle_timeout());
        read();
    }

    // Which answer of the face the master got last (or its connection): the
    // longest-idle connection, the lowest, is the one to go when a newcomer
    // arrives at the cap.
    uint64_t last_answer() const { return last_answer_; }

    void close() {
        boost::system::error_code ec;
        idle_.cancel();
        drain_.cancel();
        socket_.shutdown(Socket::shutdown_both, ec);
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
            const auto quiet = Clock::now() - self->last_answer_time_;
            if (quiet < self->idle_timeout()) return self->arm_idle(self->idle_timeout() - quiet);
            ++self->face_.counters().timed_out;
            self->finish();
        });
    }

    // One receive per readiness (Asio reads at once only when the last read
    // filled the buffer), every complete request in it answered, the answers
    // sent with one send.
    void read() {
        if (reading_) return;
        reading_ = true;
        socket_.async_read_some(asio::buffer(in_.data() + have_, in_.size() - have_),
                                [self = shared_from_this()](const boost::system::error_code& ec,
                                                            size_t n) { self->on_read(ec, n); });
    }

    void on_read(const boost::system::error_code& ec, size_t n) {
        reading_ = false;
        if (ec || done_) return finish();
        have_ += n;
        serve();
    }

    // Answers the complete requests received while the unsent answers stay
    // under the bound; then reads on, or waits for the master to take them.
    void serve() {
        if (held_ || done_) return;  // an answer waits for the meter: the next ones wait behind it
        size_t used = 0;
        bool answered = false;
        while (unsent() < kMaxUnsentBytes) {
            size_t adu = 0;
            const auto status = tcp_frame(std::span(in_.data() + used, have_ - used), adu);
            if (status == FrameStatus::NeedMore) break;
            if (status == FrameStatus::Invalid) return finish();  // no way to find the next frame
            const auto frame = std::span<const uint8_t>(in_.data() + used, adu);
            used += adu;
            const MbapHeader h = decode_mbap(frame);
            if (h.protocol != 0) continue;  // not Modbus: dropped
            // The answer goes straight into the output buffer, after its MBAP header.
            const size_t at = next_.size();
            grow(next_, at + kMbapSize + kMaxPdu);
            next_.resize(at + kMbapSize + kMaxPdu);
            uint64_t ticket = 0;
            const size_t n = face_.handler_.respond(
                h.unit, frame.subspan(kMbapSize), Transport::Tcp, &ticket,
                std::span<uint8_t, kMaxPdu>(next_.data() + at + kMbapSize, kMaxPdu));
            if (n == 0) {
                next_.resize(at);
                continue;
            }
            put_mbap(next_.data() + at, h, n);
            next_.resize(at + kMbapSize + n);
            answered = true;
            if (ticket && !face_.device_.applied(ticket)) {
                // A write is answered once the meter shows it, so that the
                // master's next read (on any face) sees it; this connection's
                // later requests keep their order behind it.
                held_ = true;
                std::vector<uint8_t> adu_bytes(next_.begin() + static_cast<long>(at), next_.end());
                next_.resize(at);
                consume(used);
                answered_now();
                flush();
                face_.device_.when_applied(
                    ticket, [self = shared_from_this(), adu_bytes = std::move(adu_bytes)] {
                        if (self->done_) return;
                        self->held_ = false;
                        grow(self->next_, self->next_.size() + adu_bytes.size());
                        self->next_.insert(self->next_.end(), adu_bytes.begin(), adu_bytes.end());
                        self->serve();
                    });
                return;
            }
        }
        consume(used);
        if (answered) answered_now();
        if (!flush()) return;
        if (unsent() < kMaxUnsentBytes) return read();
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
            self->socket_.set_option(Socket::linger(true, 0), ignored);
            self->finish();
        });
    }

    // The clock is read only when an idle timeout needs it.
    void answered_now() {
        last_answer_ = ++face_.answer_count_;
        if (face_.config_.idle_timeout_s > 0) last_answer_time_ = Clock::now();
    }

    static void put_mbap(uint8_t* at, const MbapHeader& h, size_t pdu) {
        const auto length = static_cast<uint16_t>(pdu + 1);
        at[0] = static_cast<uint8_t>(h.transaction >> 8);
        at[1] = static_cast<uint8_t>(h.transaction & 0xFF);
        at[2] = static_cast<uint8_t>(h.protocol >> 8);
        at[3] = static_cast<uint8_t>(h.protocol & 0xFF);
        at[4] = static_cast<uint8_t>(length >> 8);
        at[5] = static_cast<uint8_t>(length & 0xFF);
        at[6] = h.unit;
    }

    // Room for `size` bytes, growing by doubling up to the most the bound
    // lets a buffer hold (kMaxUnsentBytes and one answer), never past it.
    static void grow(std::vector<uint8_t>& buffer, size_t size) {
        if (buffer.capacity() >= size) return;
        constexpr size_t kMost = kMaxUnsentBytes + kMbapSize + kMaxPdu;
        buffer.reserve(std::min(std::max(size, 2 * buffer.capacity()), kMost));
    }

    // Drops the requests answered from the input buffer.
    void consume(size_t used) {
        if (used == 0) return;
        have_ -= used;
        if (have_) std::memmove(in_.data(), in_.data() + used, have_);
    }

    size_t unsent() const { return out_.size() - sent_ + next_.size(); }

    // The answers gathered go out in one send, at once when the socket takes
    // them (the usual case: no wait, no completion to run), else by an
    // asynchronous write of what is left. False when the connection failed.
    bool flush() {
        if (writing_ || next_.empty()) return true;
        std::swap(out_, next_);
        next_.clear();
        sent_ = 0;
        boost::system::error_code ec;
        sent_ = socket_.write_some(asio::buffer(out_), ec);
        if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
            finish();
            return false;
        }
        if (sent_ == out_.size()) {
            out_.clear();
            sent_ = 0;
            return true;
        }
        writing_ = true;
        asio::async_write(socket_, asio::buffer(out_.data() + sent_, out_.size() - sent_),
                          [self = shared_from_this()](const boost::system::error_code& e,
                                                      size_t n) { self->on_written(e, n); });
        return true;
    }

    void on_written(const boost::system::error_code& ec, size_t /*n: all of it*/) {
        writing_ = false;
        if (ec || done_) return finish();
        out_.clear();
        sent_ = 0;
        if (!flush()) return;
        if (paused_ && unsent() <= kMaxUnsentBytes / 2) {
            paused_ = false;
            drain_.cancel();
            serve();
        }
    }

    TcpFace& face_;
    Socket socket_;
    Timer idle_;
    Timer drain_;
    uint64_t last_answer_ = 0;
    Clock::time_point last_answer_time_;  // kept only with an idle timeout
    // Received bytes not yet answered: room for a few full requests at least
    // (an ADU is at most 260 bytes), filled by one receive.
    std::array<uint8_t, 4096> in_{};
    size_t have_ = 0;
    // Answers: out_ is being sent (sent_ bytes of it gone), next_ gathers the
    // following ones. Both keep their capacity: no allocation once warm.
    std::vector<uint8_t> out_;
    std::vector<uint8_t> next_;
    size_t sent_ = 0;
    bool reading_ = false;
    bool writing_ = false;
    bool paused_ = false;
    bool held_ = false;  // an answer waits for Device::when_applied
    bool done_ = false;
};

TcpFace::TcpFace(asio::io_context& io, MeterModel& device, const ModbusConfig& config)
    : io_(io),
      device_(device),
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
    incoming_.emplace(io_.get_executor());
    acceptor_.async_accept(*incoming_, [this](const boost::system::error_code& ec) {
        if (!running_) return;
        if (!ec) {
            admit(std::move(*incoming_));
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

void TcpFace::admit(Socket socket) {
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
