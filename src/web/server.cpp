// The network side of the web face: accept, tell TLS from plain HTTP, read
// requests, write replies, and carry the WebSocket measurement stream.
#include "web/server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <fstream>
#include <iostream>

#include "model/snapshot_json.hpp"
#include "web/hashing_pool.hpp"
#include "web/routes_trends.hpp"

namespace openbcpm::web {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

// The names the self-signed certificate is made for: the meter's address first.
std::vector<std::string> certificate_hosts(const std::string& address) {
    std::vector<std::string> hosts{address};
    for (const char* h : {"localhost", "127.0.0.1"}) {
        if (address != h) hosts.emplace_back(h);
    }
    return hosts;
}

template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

// --- WebSocket: the measurement stream ---
template <class Stream>
class StreamSession : public StreamClient,
                      public std::enable_shared_from_this<StreamSession<Stream>> {
  public:
    StreamSession(Stream&& stream, std::shared_ptr<WebServer> server,
                  std::shared_ptr<ConnectionSlot> slot)
        : ws_(std::move(stream)),
          server_(std::move(server)),
          slot_(std::move(slot)),
          drain_(ws_.get_executor()) {}

    void run(Request request) {
        beast::get_lowest_layer(ws_).expires_never();
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& r) { r.set(http::field::server, "openbcpm"); }));
        ws_.read_message_max(4096);  // clients only ever send small control messages
        auto self = this->shared_from_this();
        ws_.async_accept(request, [self](error_code ec) {
            if (ec || self->server_->stopped()) return;
            self->server_->add_stream_client(self);
            self->read();
        });
    }

    void send(std::shared_ptr<const std::string> message, bool snapshot) override {
        if (closed_) return;
        if (snapshot) {
            std::erase_if(queue_, [](const Message& m) { return m.snapshot; });
        } else {
            events_queued_ += message->size();
        }
        queue_.push_back({std::move(message), snapshot});
        if (events_queued_ > kMaxUnsentBytes) {
            // So far behind that even the events pile up: the client loses the
            // connection, not our memory.
            return stalled();
        }
        if (!writing_) write();
    }

    void close() override {
        if (closed_) return;
        closed_ = true;
        drain_.cancel();
        error_code ec;
        beast::get_lowest_layer(ws_).socket().close(ec);
    }

  private:
    struct Message {
        std::shared_ptr<const std::string> text;
        bool snapshot = false;
    };

    void read() {
        auto self = this->shared_from_this();
        ws_.async_read(in_, [self](error_code ec, size_t) {
            if (ec) return self->close();
            self->in_.consume(self->in_.size());  // nothing to do with what clients say
            if (!self->server_->stopped()) self->read();
        });
    }

    void write() {
        writing_ = true;
        sending_ = std::move(queue_.front());
        queue_.pop_front();
        if (!sending_.snapshot) events_queued_ -= sending_.text->size();
        // A client that does not take a message in time is gone or hostile.
        drain_.expires_after(kDrainTimeout);
        auto self = this->shared_from_this();
        drain_.async_wait([self](error_code ec) {
            if (!ec && self->writing_) self->stalled();
        });
        ws_.text(true);
        ws_.async_write(boost::asio::buffer(*sending_.text), [self](error_code ec, size_t) {
            self->writing_ = false;
            self->drain_.cancel();
            self->sending_ = {};
            if (ec) return self->close();
            if (!self->queue_.empty() && !self->closed_) self->write();
        });
    }

    void stalled() {
        if (closed_) return;
        server_->incident(&ConnectionCounters::stalled,
                          fmt::format("closed a stream client that did not read for {} s",
                                      kDrainTimeout.count()));
        // Reset, so that the kernel drops the messages it still holds for the client at once.
        error_code ignored;
        beast::get_lowest_layer(ws_).socket().set_option(tcp::socket::linger(true, 0), ignored);
        close();
    }

    websocket::stream<Stream> ws_;
    std::shared_ptr<WebServer> server_;
    std::shared_ptr<ConnectionSlot> slot_;
    boost::asio::steady_timer drain_;
    beast::flat_buffer in_;
    std::deque<Message> queue_;  // at most one snapshot, and events
    Message sending_;
    size_t events_queued_ = 0;  // bytes of the events in queue_
    bool writing_ = false;
    bool closed_ = false;
};

// --- HTTP over a plain or TLS stream ---
template <class Stream>
class HttpSession : public Closable, public std::enable_shared_from_this<HttpSession<Stream>> {
  public:
    HttpSession(Stream&& stream, beast::flat_buffer buffer, std::shared_ptr<WebServer> server,
                Connection connection, std::shared_ptr<ssl::context> context,
                std::shared_ptr<ConnectionSlot> slot)
        : stream_(std::move(stream)),
          buffer_(std::move(buffer)),
          server_(std::move(server)),
          connection_(std::move(connection)),
          context_(std::move(context)),
          slot_(std::move(slot)) {}

    void run() {
        if constexpr (kIsTls<Stream>) {
            beast::get_lowest_layer(stream_).expires_after(kHeadTimeout);
            auto self = this->shared_from_this();
            stream_.async_handshake(
                ssl::stream_base::server, buffer_.data(), [self](error_code ec, size_t used) {
                    if (ec == beast::error::timeout) return self->slow("TLS handshake");
                    if (ec)
                        return;  // failed handshakes (untrusted certificate, scanners) are normal
                    self->buffer_.consume(used);
                    self->read();
                });
        } else {
            read();
        }
    }

    void close() override {
        error_code ec;
        beast::get_lowest_layer(stream_).socket().close(ec);
    }

  private:
    // The head has a deadline of its own, however slowly it trickles in (an idle
    // keep-alive connection ends the same way, without a word); the body another.
    void read() {
        if (server_->stopped()) return;
        parser_.emplace();
        parser_->body_limit(kMaxBodyBytes);
        parser_->header_limit(16 * 1024);
        beast::get_lowest_layer(stream_).expires_after(kHeadTimeout);
        auto self = this->shared_from_this();
        http::async_read_header(stream_, buffer_, *parser_, [self](error_code ec, size_t) {
            if (ec == beast::error::timeout) {
                if (self->buffer_.size() > 0 || self->parser_->got_some())
                    self->slow("request head");
                return;
            }
            if (ec) return self->on_read(ec);
            beast::get_lowest_layer(self->stream_).expires_after(kBodyTimeout);
            http::async_read(self->stream_, self->buffer_, *self->parser_,
                             [self](error_code e, size_t) { self->on_read(e); });
        });
    }

    void slow(const char* what) {
        server_->incident(&ConnectionCounters::timed_out,
                          fmt::format("closed a connection whose {} did not arrive within {} s",
                                      what, kHeadTimeout.count()));
    }

    void on_read(error_code ec) {
        if (ec == http::error::end_of_stream) return shutdown();
        if (ec == http::error::body_limit || ec == http::error::header_limit) {
            Response r{http::status::payload_too_large, 11};
            r.set(http::field::content_type, "application/json");
            r.body() = R"({"error":"the request is too large"})";
            r.keep_alive(false);
            r.prepare_payload();
            return write(Reply{std::move(r), {}, {}});
        }
        if (ec) return;
        if (server_->stopped()) return;
        Request request = parser_->release();
        if (websocket::is_upgrade(request)) {
            if (auto refusal = server_->authorize_stream(request, connection_)) {
                refusal->keep_alive(false);
                return write(Reply{std::move(*refusal), {}, {}});
            }
            beast::get_lowest_layer(stream_).expires_never();
            // The kernel's share of a stream client's backlog is bounded too
            // (it would grow to megabytes): a client that stops reading stalls
            // after a few messages, and the drain deadline ends it.
            error_code ignored;
            beast::get_lowest_layer(stream_).socket().set_option(
                boost::asio::socket_base::send_buffer_size(static_cast<int>(kMaxUnsentBytes)),
                ignored);
            auto stream =
                std::make_shared<StreamSession<Stream>>(std::move(stream_), server_, slot_);
            server_->track(stream);  // stop() closes it even before the handshake completes
            stream->run(std::move(request));
            return;
        }
        answer(std::make_shared<Request>(std::move(request)), nullptr);
    }

    void answer(const std::shared_ptr<Request>& request, const PasswordVerdict* verdict) {
        Reply reply = server_->handle(*request, connection_, verdict);
        if (reply.wait_for_credentials) {
            server_->when_credentials_ready(
                [self = this->shared_from_this(), request] { self->answer(request, nullptr); });
            return;
        }
        if (reply.password_work && !verdict) {
            auto self = this->shared_from_this();
            server_->hash_off_loop(
                std::move(*reply.password_work),
                [self, request](const PasswordVerdict& v) { self->answer(request, &v); });
            return;
        }
        if (reply.body_later) {
            auto held = std::make_shared<Reply>(std::move(reply));
            auto later = std::move(held->body_later);
            const bool head = request->method() == http::verb::head;
            later([self = this->shared_from_this(), held, head](std::string body) {
                if (head) {
                    held->response.content_length(body.size());
                } else {
                    held->response.body() = std::move(body);
                    held->response.prepare_payload();
                }
                self->write(std::move(*held));
            });
            return;
        }
        if (reply.ticket) {
            // A write is answered once the meter shows it.
            auto held = std::make_shared<Reply>(std::move(reply));
            server_->when_applied(held->ticket, [self = this->shared_from_this(), held] {
                self->write(std::move(*held));
            });
            return;
        }
        write(std::move(reply));
    }

    // One reply at a time, and nothing read meanwhile: what a connection holds
    // is one request and one reply.
    void write(Reply reply) {
        reply_ = std::make_shared<Reply>(std::move(reply));
        auto self = this->shared_from_this();
        beast::get_lowest_layer(stream_).expires_after(kDrainTimeout);
        http::async_write(stream_, reply_->response, [self](error_code ec, size_t) {
            auto done = std::move(self->reply_);
            if (done->after_write) done->after_write();
            if (ec == beast::error::timeout) {
                self->server_->incident(
                    &ConnectionCounters::stalled,
                    fmt::format("closed a connection that did not take its reply within {} s",
                                kDrainTimeout.count()));
            }
            if (ec) return;
            if (!done->response.keep_alive()) return self->shutdown();
            self->read();
        });
    }

    void shutdown() {
        if constexpr (kIsTls<Stream>) {
            beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
            auto self = this->shared_from_this();
            stream_.async_shutdown([self](error_code) {});
        } else {
            error_code ec;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        }
    }

    Stream stream_;
    beast::flat_buffer buffer_;
    std::shared_ptr<WebServer> server_;
    Connection connection_;
    std::shared_ptr<ssl::context> context_;  // outlives the TLS stream that uses it
    std::shared_ptr<ConnectionSlot> slot_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::shared_ptr<Reply> reply_;
};

// Reads the first bytes of a connection and hands it to the right session.
class Detector : public Closable, public std::enable_shared_from_this<Detector> {
  public:
    Detector(tcp::socket socket, std::shared_ptr<WebServer> server,
             std::shared_ptr<ConnectionSlot> slot)
        : stream_(std::move(socket)), server_(std::move(server)), slot_(std::move(slot)) {}

    void run() {
        error_code ec;
        const auto peer = stream_.socket().remote_endpoint(ec);
        connection_.client = ec ? std::string("?") : peer.address().to_string();
        const auto local = stream_.socket().local_endpoint(ec);
        connection_.local_address = ec ? std::string() : local.address().to_string();
        // Part of the head's deadline; a connection that never says a word
        // (a browser's preconnect) just ends.
        stream_.expires_after(kHeadTimeout);
        auto self = shared_from_this();
        beast::async_detect_ssl(stream_, buffer_,
                                [self](error_code e, bool tls) { self->on_detect(e, tls); });
    }

    void close() override {
        error_code ec;
        stream_.socket().close(ec);
    }

  private:
    void on_detect(error_code ec, bool tls) {
        if (ec || server_->stopped()) return;
        connection_.tls = tls;
        if (tls) {
            auto context = server_->tls_context();
            auto s = std::make_shared<HttpSession<TlsStream>>(
                TlsStream(std::move(stream_), *context), std::move(buffer_), server_, connection_,
                context, std::move(slot_));
            server_->track(s);
            s->run();
        } else {
            auto s = std::make_shared<HttpSession<beast::tcp_stream>>(
                std::move(stream_), std::move(buffer_), server_, connection_, nullptr,
                std::move(slot_));
            server_->track(s);
            s->run();
        }
    }

    beast::tcp_stream stream_;
    std::shared_ptr<WebServer> server_;
    std::shared_ptr<ConnectionSlot> slot_;
    beast::flat_buffer buffer_;
    Connection connection_;
};

}  // namespace

WebServer::WebServer(boost::asio::io_context& io, MeterModel& device, WebOptions options)
    : io_(io),
      device_(device),
      options_(std::move(options)),
      protocol_mode_(device.settings().gateway.protocol_mode),
      security_(device.store(),
                device.state_dir().empty() ? std::filesystem::path() : device.state_dir() / "web",
                certificate_hosts(device.settings().gateway.ip_address)),
      // A meter of a fleet makes its admin's credentials after it started.
      users_(device.store(), device.site() != nullptr),
      sessions_(device.store(), options_.sessions),
      throttle_(options_.lockout),
      audit_(device.store()),
      acceptor_(io),
      accept_retry_(io),
      stream_timer_(io),
      log_(io, "web") {
    device.set_loop_poster([&io](std::function<void()> f) { boost::asio::post(io, std::move(f)); });
    if (device.store()) metrics_token_hash_ = device.store()->load_text("web.metrics_token");
    if (const auto& pw = users_.initial_password()) {
        // The meter's barcode label: shown once, and kept where the operator can find it.
        const auto dir = device.state_dir();
        std::cout << "\nopenbcpm web: the initial password of user \"admin\" is: " << *pw << "\n";
        if (!dir.empty()) {
            const auto file = dir / "initial-admin-password";
            try {
                write_private_file(file, *pw + "\n");  // 0600 from its creation
                std::cout << "openbcpm web: (also written to " << file.string() << ")\n";
            } catch (const std::exception& e) {
                spdlog::error("web: {}", e.what());
            }
        }
        std::cout << std::endl;
    } else if (const User* admin = users_.find("admin"); admin && !admin->initial) {
        remove_initial_password();  // changed before this start
    }
    if (security_.restrict_plain_http(options_.allow_plain_http)) {
        spdlog::warn(
            "web: the security mode was plain HTTP, which needs [web] allow_plain_http = true; "
            "starting in protected HTTP (http-protected) instead: the password never crosses the "
            "network in clear");
    } else if (security_.mode() == SecurityMode::Http) {
        spdlog::warn(
            "web: plain HTTP ([web] allow_plain_http = true): passwords cross the network "
            "in clear");
    }
    if (const User* admin = users_.find("admin"); admin && !admin->scram_keys.valid()) {
        spdlog::warn(
            "web: user \"admin\" has no challenge-login keys yet (its password was set "
            "before protected HTTP existed): log in once over https:// on the same port, "
            "or change the password, to make them");
    }
    // Events go to the stream for as long as this server lives.
    events_ = device_.subscribe([this](const EventRecord& r) { on_event(r); });
}

void WebServer::remove_initial_password() {
    const auto dir = device_.state_dir();
    if (dir.empty()) return;
    std::error_code ec;
    if (std::filesystem::remove(dir / "initial-admin-password", ec))
        spdlog::info("web: the admin password was changed; initial-admin-password removed");
}

WebServer::~WebServer() = default;

void WebServer::start() {
    const std::string address = options_.address.value_or(device_.settings().gateway.ip_address);
    const uint16_t port =
        options_.port.value_or(static_cast<uint16_t>(device_.settings().gateway.web_port));
    const tcp::endpoint endpoint(boost::asio::ip::make_address(address), port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(boost::asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
    stopped_ = false;
    if (const auto& pw = users_.pending_initial()) {
        // A meter of a fleet: its admin's Argon2id hash and challenge-login
        // keys are made by the hashing workers once no login waits (a login
        // to this meter meanwhile waits for them: when_credentials_ready()).
        HashingPool::shared().submit_startup(
            this, [self = shared_from_this(), pw = *pw, &io = io_]() mutable {
                std::string hash = hash_password(pw);
                scram::Credentials keys = scram::generate(pw);
                // The server is released on the loop, never here.
                boost::asio::post(io, [self = std::move(self), hash = std::move(hash),
                                       keys = std::move(keys)]() mutable {
                    if (self->stopped()) return;
                    self->users_.complete_initial(std::move(hash), std::move(keys));
                    auto waiting = std::move(self->credential_waiters_);
                    self->credential_waiters_.clear();
                    for (auto& f : waiting)
                        f();
                });
            });
    }
    trends_ = make_trend_feed(io_, device_);
    trends_->start();
    spdlog::info("web: listening on {}:{} (security {})", address, port_,
                 to_string(security_.mode()));
    do_accept();
}

void WebServer::stop() {
    if (stopped_) return;
    stopped_ = true;
    events_.reset();
    error_code ec;
    acceptor_.close(ec);
    accept_retry_.cancel();
    stream_timer_.cancel();
    if (trends_) trends_->stop();  // the minute being built is written
    log_.flush();
    counters().open = 0;
    for (auto& w : connections_) {
        if (auto c = w.lock()) c->close();
    }
    for (auto& w : stream_clients_) {
        if (auto c = w.lock()) c->close();
    }
    connections_.clear();
    stream_clients_.clear();
    sessions_.save();  // last-seen times
    credential_waiters_.clear();
    // The hash in progress ends (its verdict finds the server stopped);
    // queued ones are dropped with their connections, closed above.
    HashingPool::shared().cancel(this);
}

void WebServer::hash_off_loop(PasswordWork work, std::function<void(PasswordVerdict)> done) {
    if (stopped_) return;
    auto finish = std::make_shared<std::function<void(PasswordVerdict)>>(
        [self = shared_from_this(), done = std::move(done)](PasswordVerdict v) {
            if (!self->stopped()) done(std::move(v));
        });
    const bool queued =
        HashingPool::shared().submit(this, [work = std::move(work), finish, &io = io_]() mutable {
            PasswordVerdict v = run_password_work(work);
            // The server (inside `finish`) is released on the loop, never here.
            boost::asio::post(io, [finish = std::move(finish), v = std::move(v)]() mutable {
                (*finish)(std::move(v));
            });
        });
    if (!queued) {
        PasswordVerdict busy;
        busy.busy = true;
        (*finish)(busy);
    }
}

void WebServer::when_credentials_ready(std::function<void()> done) {
    if (stopped_) return;
    if (!users_.pending_initial()) return done();
    credential_waiters_.push_back(std::move(done));
    HashingPool::shared().hurry(this);
}

void WebServer::when_applied(uint64_t ticket, std::function<void()> done) {
    if (device_.applied(ticket)) return done();
    device_.when_applied(ticket, [self = shared_from_this(), done = std::move(done)] {
        if (!self->stopped()) done();
    });
}

void WebServer::track(const std::shared_ptr<Closable>& c) {
    // Forget the finished ones now and then.
    if (connections_.size() > 2 * options_.max_connections) {
        std::erase_if(connections_, [](const std::weak_ptr<Closable>& w) { return w.expired(); });
    }
    connections_.push_back(c);
}

ConnectionSlot::~ConnectionSlot() {
    server_->release(address_);
}

std::shared_ptr<ConnectionSlot> WebServer::admit(const std::string& address) {
    size_t& mine = per_address_[address];
    const char* cap = nullptr;
    if (open_ >= options_.max_connections) {
        cap = "the connection limit";
    } else if (mine >= options_.max_connections_per_address) {
        // One address (a script, a slowloris) cannot take the slots every other client needs.
        cap = "the limit per client address";
    }
    if (cap) {
        if (mine == 0) per_address_.erase(address);
        incident(&ConnectionCounters::refused,
                 fmt::format("refused connections over {} ({} and {} per address)", cap,
                             options_.max_connections, options_.max_connections_per_address));
        return nullptr;
    }
    ++mine;
    ++open_;
    counters().open = open_;
    return std::make_shared<ConnectionSlot>(shared_from_this(), address);
}

void WebServer::release(const std::string& address) {
    auto it = per_address_.find(address);
    if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
    --open_;
    if (!stopped_) counters().open = open_;
}

void WebServer::incident(uint64_t ConnectionCounters::*counter, const std::string& what) {
    if (stopped_) return;
    ++(counters().*counter);
    log_.note(what);
}

void WebServer::do_accept() {
    auto self = shared_from_this();
    acceptor_.async_accept(io_, [self](error_code ec, tcp::socket socket) {
        if (self->stopped_) return;
        if (ec) {
            if (ec == boost::asio::error::no_descriptors ||
                ec == boost::asio::error::no_buffer_space || ec == boost::asio::error::no_memory) {
                // The connection waits in the backlog; accepting again at once would spin.
                self->incident(&ConnectionCounters::refused,
                               "cannot accept a connection: " + ec.message());
                self->accept_retry_.expires_after(std::chrono::milliseconds(100));
                self->accept_retry_.async_wait([self](error_code e) {
                    if (!e && !self->stopped_) self->do_accept();
                });
                return;
            }
            return self->do_accept();  // the peer gave up before we took it
        }
        error_code peer_ec;
        const auto peer = socket.remote_endpoint(peer_ec);
        auto slot = peer_ec ? nullptr : self->admit(peer.address().to_string());
        if (!slot) {
            error_code ignored;
            socket.close(ignored);
        } else {
            ++self->counters().accepted;
            auto d = std::make_shared<Detector>(std::move(socket), self, std::move(slot));
            self->track(d);
            d->run();
        }
        self->do_accept();
    });
}

void WebServer::add_stream_client(const std::shared_ptr<StreamClient>& client) {
    std::erase_if(stream_clients_,
                  [](const std::weak_ptr<StreamClient>& w) { return w.expired(); });
    stream_clients_.push_back(client);
    // The first measurement goes out at once, then on the period.
    client->send(
        std::make_shared<const std::string>(nlohmann::json{
            {"type", "snapshot"}, {"data", snapshot_json(device_.snapshot(), device_.settings())}}
                                                .dump()),
        true);
    if (!stream_timer_running_) schedule_stream();
}

std::vector<std::shared_ptr<StreamClient>> WebServer::live_stream_clients() {
    std::vector<std::shared_ptr<StreamClient>> out;
    for (auto& w : stream_clients_) {
        if (auto c = w.lock()) out.push_back(std::move(c));
    }
    std::erase_if(stream_clients_,
                  [](const std::weak_ptr<StreamClient>& w) { return w.expired(); });
    return out;
}

void WebServer::broadcast(const std::shared_ptr<const std::string>& message) {
    for (auto& c : live_stream_clients())
        c->send(message, false);
}

void WebServer::schedule_stream() {
    stream_timer_running_ = true;
    stream_timer_.expires_after(options_.stream_interval);
    auto self = shared_from_this();
    stream_timer_.async_wait([self](error_code ec) {
        self->stream_timer_running_ = false;
        if (ec || self->stopped_) return;
        auto clients = self->live_stream_clients();
        if (clients.empty()) return;  // the next client starts the timer again
        auto message = std::make_shared<const std::string>(nlohmann::json{
            {"type", "snapshot"},
            {"data", snapshot_json(self->device_.snapshot(),
                                   self->device_.settings())}}.dump());
        for (auto& c : clients)
            c->send(message, true);
        self->schedule_stream();
    });
}

void WebServer::on_event(const EventRecord& record) {
    if (stopped_ || stream_clients_.empty()) return;
    broadcast(std::make_shared<const std::string>(
        nlohmann::json{{"type", "event"}, {"data", event_json(record)}}.dump()));
}

}  // namespace openbcpm::web
