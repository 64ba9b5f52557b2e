// snmp_load: a small SNMPv2c load generator for the benchmark.
//   get   - GetRequest of one name, again and again
//   bulk  - GetBulkRequest (non-repeaters 0, max-repetitions R) from one name
//   walk  - the whole subtree under a name by GetNext (R = 0) or GetBulk (R > 0)
// get and bulk keep `window` requests in flight for `seconds` and report
// responses per second and latency; walk reports instances, seconds and
// instances per second. Lost datagrams are sent again after 200 ms.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <map>

#include "protocols/snmp/message.hpp"

namespace {

using namespace openbcpm::snmp;
using boost::asio::ip::udp;
using Clock = std::chrono::steady_clock;

struct Options {
    std::string host = "127.0.0.1";
    uint16_t port = 161;
    std::string community = "public";
    std::string op = "get";
    std::string oid = "1.3.6.1.2.1.1.1.0";
    int repetitions = 10;
    double seconds = 3.0;
    int window = 8;
    std::string label;
};

class Load {
  public:
    explicit Load(const Options& o)
        : o_(o),
          socket_(io_, udp::v4()),
          timer_(io_),
          target_(boost::asio::ip::make_address(o.host), o.port) {
        socket_.set_option(boost::asio::socket_base::receive_buffer_size(1 << 22));
    }

    int run() {
        const auto root = Oid::parse(o_.oid);
        if (!root) {
            std::fprintf(stderr, "bad OID %s\n", o_.oid.c_str());
            return 2;
        }
        root_ = *root;
        walk_at_ = root_;
        start_ = Clock::now();
        receive();
        tick();
        const int window = o_.op == "walk" ? 1 : o_.window;
        for (int i = 0; i < window; ++i)
            send_next();
        io_.run();
        const double elapsed = std::chrono::duration<double>(end_ - start_).count();
        if (o_.op == "walk") {
            std::printf(
                "%-28s walk  %8zu instances in %8.3f s = %9.0f instances/s (%zu requests, %zu "
                "resent)\n",
                o_.label.c_str(), walked_, elapsed, static_cast<double>(walked_) / elapsed,
                completed_, resent_);
            return walk_error_ ? 1 : 0;
        }
        std::sort(latencies_.begin(), latencies_.end());
        const auto pct = [&](double p) {
            if (latencies_.empty()) return 0.0;
            return latencies_[std::min(latencies_.size() - 1,
                                       static_cast<size_t>(p * latencies_.size()))];
        };
        std::printf(
            "%-28s %-5s %9.0f responses/s  %7.1f bindings/response  p50 %6.0f us  p99 %6.0f us "
            "(%zu resent)\n",
            o_.label.c_str(), o_.op.c_str(), static_cast<double>(completed_) / elapsed,
            completed_ ? static_cast<double>(bindings_) / static_cast<double>(completed_) : 0.0,
            pct(0.5), pct(0.99), resent_);
        return errors_ ? 1 : 0;
    }

  private:
    struct Pending {
        std::vector<uint8_t> bytes;
        Clock::time_point first_sent;
        Clock::time_point last_sent;
    };

    std::vector<uint8_t> request(int32_t id) {
        Message m;
        m.community = o_.community;
        m.pdu.request_id = id;
        const bool bulk = o_.op == "bulk" || (o_.op == "walk" && o_.repetitions > 0);
        m.pdu.type = o_.op == "get" ? PduType::GetRequest
                     : bulk         ? PduType::GetBulkRequest
                                    : PduType::GetNextRequest;
        if (bulk) m.pdu.error_index = o_.repetitions;  // max-repetitions
        m.pdu.varbinds.push_back({o_.op == "walk" ? walk_at_ : root_, Null{}});
        return encode_message(m);
    }

    void send_next() {
        if (finished_) return;
        if (o_.op != "walk" && Clock::now() - start_ >= std::chrono::duration<double>(o_.seconds)) {
            if (pending_.empty()) finish();
            return;
        }
        const int32_t id = next_id_++;
        Pending p{request(id), Clock::now(), Clock::now()};
        socket_.send_to(boost::asio::buffer(p.bytes), target_);
        pending_.emplace(id, std::move(p));
    }

    void receive() {
        socket_.async_receive_from(boost::asio::buffer(buffer_), from_,
                                   [this](const boost::system::error_code& ec, size_t n) {
                                       if (ec) return;
                                       on_response(std::span<const uint8_t>(buffer_.data(), n));
                                       if (!finished_) receive();
                                   });
    }

    void on_response(std::span<const uint8_t> datagram) {
        const Decoded d = decode_message(datagram);
        if (d.status != DecodeStatus::Ok) return;
        const auto it = pending_.find(d.message.pdu.request_id);
        if (it == pending_.end()) return;  // a late answer to a resent request
        latencies_.push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - it->second.first_sent)
                .count());
        pending_.erase(it);
        ++completed_;
        const Pdu& pdu = d.message.pdu;
        bindings_ += pdu.varbinds.size();
        if (pdu.error_status != 0) ++errors_;
        if (o_.op == "walk") {
            for (const VarBind& vb : pdu.varbinds) {
                if (std::holds_alternative<EndOfMibView>(vb.value) || !vb.name.starts_with(root_)) {
                    finish();
                    return;
                }
                if (vb.name <= walk_at_) {
                    walk_error_ = true;  // not increasing
                    finish();
                    return;
                }
                walk_at_ = vb.name;
                ++walked_;
            }
            if (pdu.error_status != 0 || pdu.varbinds.empty()) {
                walk_error_ = true;
                finish();
                return;
            }
        }
        send_next();
    }

    void tick() {
        timer_.expires_after(std::chrono::milliseconds(50));
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec || finished_) return;
            const auto now = Clock::now();
            for (auto& [id, p] : pending_) {
                // An agent silent for 5 s (or a wrong port) ends a walk as an
                // error, as snmpwalk's timeout would, instead of asking forever.
                if (o_.op == "walk" && now - p.first_sent > std::chrono::seconds(5)) {
                    std::fprintf(stderr, "no answer in 5 s from %s:%u\n",
                                 target_.address().to_string().c_str(), target_.port());
                    walk_error_ = true;
                    finish();
                    return;
                }
                if (now - p.last_sent > std::chrono::milliseconds(200)) {
                    socket_.send_to(boost::asio::buffer(p.bytes), target_);
                    p.last_sent = now;
                    ++resent_;
                }
            }
            if (o_.op != "walk" && now - start_ > std::chrono::duration<double>(o_.seconds + 2.0)) {
                finish();  // whatever is still missing is lost
                return;
            }
            send_next_if_idle();
            tick();
        });
    }

    void send_next_if_idle() {
        if (o_.op != "walk" && pending_.empty()) send_next();
    }

    void finish() {
        if (finished_) return;
        finished_ = true;
        end_ = Clock::now();
        timer_.cancel();
        socket_.cancel();
    }

    Options o_;
    boost::asio::io_context io_;
    udp::socket socket_;
    boost::asio::steady_timer timer_;
    udp::endpoint target_, from_;
    std::array<uint8_t, 65536> buffer_{};
    std::map<int32_t, Pending> pending_;
    Oid root_, walk_at_;
    int32_t next_id_ = 1;
    Clock::time_point start_, end_;
    bool finished_ = false, walk_error_ = false;
    size_t completed_ = 0, bindings_ = 0, resent_ = 0, walked_ = 0, errors_ = 0;
    std::vector<double> latencies_;
};

int run(int argc, char** argv) {
    Options o;
    CLI::App app{"SNMPv2c load generator"};
    app.add_option("--host", o.host);
    app.add_option("--port", o.port)->required();
    app.add_option("--community", o.community);
    app.add_option("--op", o.op)->check(CLI::IsMember({"get", "bulk", "walk"}));
    app.add_option("--oid", o.oid, "the name to get, or the root to bulk/walk from");
    app.add_option("--repetitions", o.repetitions,
                   "max-repetitions of bulk and walk (walk: 0 = GetNext)");
    app.add_option("--seconds", o.seconds);
    app.add_option("--window", o.window, "requests in flight");
    app.add_option("--label", o.label);
    CLI11_PARSE(app, argc, argv);
    if (o.label.empty()) o.label = o.host + ":" + std::to_string(o.port);
    return Load(o).run();
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "snmp_load: %s\n", e.what());
        return 1;
    }
}
