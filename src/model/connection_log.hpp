// The log of a stream face's connection incidents (refusals, evictions,
// forced closes): one line a minute at most, instead of one per connection.
#pragma once

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace openbcpm {

// One face's incident log. The first incident after a quiet minute is logged
// at once; the ones that follow within the minute are counted by kind and
// logged as one summary line when it ends. So a flood of refusals costs at most
// one line a minute.
class ConnectionLog {
  public:
    ConnectionLog(boost::asio::io_context& io, std::string face,
                  std::chrono::milliseconds window = std::chrono::minutes(1))
        : face_(std::move(face)), window_(window), timer_(io) {}
    ConnectionLog(const ConnectionLog&) = delete;
    ConnectionLog& operator=(const ConnectionLog&) = delete;
    ~ConnectionLog() { timer_.cancel(); }

    // `what` names the kind of incident ("refused: over the limit of 64").
    void note(const std::string& what) {
        if (!window_open_) {
            spdlog::warn("{}: {} (further incidents are summarised once a minute)", face_, what);
            open_window();
            return;
        }
        ++counts_[what];
    }

    // Logs what the current minute has counted so far (the face is stopping).
    void flush() {
        timer_.cancel();
        window_open_ = false;
        summarise();
    }

  private:
    void open_window() {
        window_open_ = true;
        timer_.expires_after(window_);
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;  // cancelled: `this` may be gone
            if (counts_.empty()) {
                window_open_ = false;  // a quiet minute: the next incident is logged at once
                return;
            }
            summarise();
            open_window();
        });
    }

    void summarise() {
        if (counts_.empty()) return;
        std::string line;
        for (const auto& [what, n] : counts_) {
            if (!line.empty()) line += "; ";
            line += std::to_string(n) + " x " + what;
        }
        spdlog::warn("{} in the last minute: {}", face_, line);
        counts_.clear();
    }

    std::string face_;
    std::chrono::milliseconds window_;
    boost::asio::steady_timer timer_;
    bool window_open_ = false;
    std::map<std::string, uint64_t> counts_;
};

}  // namespace openbcpm
