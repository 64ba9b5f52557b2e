// The network side of the web face: accept, tell TLS from plain HTTP, read
// requests, write replies, and carry the WebSocket measurement stream.
#include "web/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <fstream>
#include <iostream>

#include "app/snapshot_json.hpp"

namespace openbcpm::web {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

constexpr auto kHandshakeTimeout = std::chrono::seconds(15);
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr size_t kMaxQueuedMessages = 16;

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
    StreamSession(Stream&& stream, std::shared_ptr<WebServer> server)
        : ws_(std::move(stream)), server_(std::move(server)) {}

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

    void send(std::shared_ptr<const std::string> message) override {
        if (closed_) return;
        if (queue_.size() >= kMaxQueuedMessages) {
            // A client that cannot keep up loses the connection, not our memory.
            close();
            return;
        }
        queue_.push_back(std::move(message));
        if (queue_.size() == 1) write();
    }

    void close() override {
        if (closed_) return;
        closed_ = true;
        error_code ec;
        beast::get_lowest_layer(ws_).socket().close(ec);
    }

  private:
    void read() {
        auto self = this->shared_from_this();
        ws_.async_read(in_, [self](error_code ec, size_t) {
            if (ec) {
                self->closed_ = true;
                return;
            }
            self->in_.consume(self->in_.size());  // nothing to do with what clients say
            if (!self->server_->stopped()) self->read();
        });
    }

    void write() {
        auto self = this->shared_from_this();
        ws_.text(true);
        ws_.async_write(boost::asio::buffer(*queue_.front()), [self](error_code ec, size_t) {
            if (ec) {
                self->closed_ = true;
                return;
            }
            self->queue_.pop_front();
            if (!self->queue_.empty() && !self->closed_) self->write();
        });
    }

    websocket::stream<Stream> ws_;
    std::shared_ptr<WebServer> server_;
    beast::flat_buffer in_;
    std::deque<std::shared_ptr<const std::string>> queue_;
    bool closed_ = false;
};

// --- HTTP over a plain or TLS stream ---
template <class Stream>
class HttpSession : public Closable, public std::enable_shared_from_this<HttpSession<Stream>> {
  public:
    HttpSession(Stream&& stream, beast::flat_buffer buffer, std::shared_ptr<WebServer> server,
                Connection connection, std::shared_ptr<ssl::context> context)
        : stream_(std::move(stream)),
          buffer_(std::move(buffer)),
          server_(std::move(server)),
          connection_(std::move(connection)),
          context_(std::move(context)) {}

    void run() {
        if constexpr (kIsTls<Stream>) {
            beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
            auto self = this->shared_from_this();
            stream_.async_handshake(
                ssl::stream_base::server, buffer_.data(), [self](error_code ec, size_t used) {
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
    void read() {
        if (server_->stopped()) return;
        parser_.emplace();
        parser_->body_limit(kMaxBodyBytes);
        parser_->header_limit(16 * 1024);
        beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
        auto self = this->shared_from_this();
        http::async_read(stream_, buffer_, *parser_,
                         [self](error_code ec, size_t) { self->on_read(ec); });
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
            auto stream = std::make_shared<StreamSession<Stream>>(std::move(stream_), server_);
            server_->track(stream);  // stop() closes it even before the handshake completes
            stream->run(std::move(request));
            return;
        }
        answer(std::make_shared<Request>(std::move(request)), nullptr);
    }

    void answer(const std::shared_ptr<Request>& request, const PasswordVerdict* verdict) {
        Reply reply = server_->handle(*request, connection_, verdict);
        if (reply.password_work && !verdict) {
            auto self = this->shared_from_this();
            server_->hash_off_loop(
                std::move(*reply.password_work),
                [self, request](const PasswordVerdict& v) { self->answer(request, &v); });
            return;
        }
        write(std::move(reply));
    }

    void write(Reply reply) {
        reply_ = std::make_shared<Reply>(std::move(reply));
        auto self = this->shared_from_this();
        beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
        http::async_write(stream_, reply_->response, [self](error_code ec, size_t) {
            auto done = std::move(self->reply_);
            if (done->after_write) done->after_write();
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
    std::optional<http::request_parser<http::string_body>> parser_;
    std::shared_ptr<Reply> reply_;
};

// Reads the first bytes of a connection and hands it to the right session.
class Detector : public Closable, public std::enable_shared_from_this<Detector> {
  public:
    Detector(tcp::socket socket, std::shared_ptr<WebServer> server)
        : stream_(std::move(socket)), server_(std::move(server)) {}

    void run() {
        error_code ec;
        const auto peer = stream_.socket().remote_endpoint(ec);
        connection_.client = ec ? std::string("?") : peer.address().to_string();
        stream_.expires_after(kHandshakeTimeout);
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
                context);
            server_->track(s);
            s->run();
        } else {
            auto s = std::make_shared<HttpSession<beast::tcp_stream>>(
                std::move(stream_), std::move(buffer_), server_, connection_, nullptr);
            server_->track(s);
            s->run();
        }
    }

    beast::tcp_stream stream_;
    std::shared_ptr<WebServer> server_;
    beast::flat_buffer buffer_;
    Connection connection_;
};

}  // namespace

WebServer::WebServer(boost::asio::io_context& io, Device& device, WebOptions options)
    : io_(io),
      device_(device),
      options_(std::move(options)),
      protocol_mode_(device.settings().gateway.protocol_mode),
      security_(device.store(),
                device.state_dir().empty() ? std::filesystem::path() : device.state_dir() / "web",
                certificate_hosts(device.settings().gateway.ip_address)),
      users_(device.store()),
      sessions_(device.store(), options_.sessions),
      throttle_(options_.lockout),
      audit_(device.store()),
      acceptor_(io),
      stream_timer_(io) {
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
            std::filesystem::permissions(
                file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                std::filesystem::perm_options::replace);
            std::cout << "openbcpm web: (also written to " << file.string() << ")\n";
        }
        std::cout << std::endl;
    } else if (const User* admin = users_.find("admin"); admin && !admin->initial) {
        remove_initial_password();  // changed before this start
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
    hashing_.emplace(1);
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
    stream_timer_.cancel();
    for (auto& w : connections_) {
        if (auto c = w.lock()) c->close();
    }
    for (auto& w : stream_clients_) {
        if (auto c = w.lock()) c->close();
    }
    connections_.clear();
    stream_clients_.clear();
    sessions_.save();  // last-seen times
    if (hashing_) {
        // The hash in progress ends (its verdict finds the server stopped);
        // queued ones are dropped with their connections, closed above.
        hashing_->stop();
        hashing_->join();
        hashing_.reset();
    }
}

void WebServer::hash_off_loop(PasswordWork work, std::function<void(PasswordVerdict)> done) {
    if (!hashing_) return;
    auto finish = [self = shared_from_this(), done = std::move(done)](PasswordVerdict v) {
        if (!self->stopped()) done(std::move(v));
    };
    boost::asio::post(
        *hashing_, [work = std::move(work), finish = std::move(finish), &io = io_]() mutable {
            PasswordVerdict v = run_password_work(work);
            // The server (inside `finish`) is released on the loop, never here.
            boost::asio::post(io, [finish = std::move(finish), v = std::move(v)]() mutable {
                finish(std::move(v));
            });
        });
}

void WebServer::track(const std::shared_ptr<Closable>& c) {
    // Forget the finished ones now and then.
    if (connections_.size() > 64) {
        std::erase_if(connections_, [](const std::weak_ptr<Closable>& w) { return w.expired(); });
    }
    connections_.push_back(c);
}

bool WebServer::accepting_more() const {
    size_t live = 0;
    for (const auto& w : connections_)
        live += w.expired() ? 0 : 1;
    return live < options_.max_connections;
}

void WebServer::do_accept() {
    auto self = shared_from_this();
    acceptor_.async_accept(io_, [self](error_code ec, tcp::socket socket) {
        if (ec || self->stopped_) return;
        if (!self->accepting_more()) {
            error_code ignored;
            socket.close(ignored);
        } else {
            auto d = std::make_shared<Detector>(std::move(socket), self);
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
    client->send(std::make_shared<const std::string>(nlohmann::json{
        {"type", "snapshot"}, {"data", snapshot_json(device_.snapshot(), device_.settings())}}
                                                         .dump()));
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
        c->send(message);
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
            c->send(message);
        self->schedule_stream();
    });
}

void WebServer::on_event(const EventRecord& record) {
    if (stopped_ || stream_clients_.empty()) return;
    broadcast(std::make_shared<const std::string>(
        nlohmann::json{{"type", "event"}, {"data", event_json(record)}}.dump()));
}

}  // namespace openbcpm::web
