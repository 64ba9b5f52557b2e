// The web face's trends: the recorder (src/history) fed on the event loop,
// and GET /api/trends (routes_trends.cpp). docs/trends.md.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "history/trends.hpp"
#include "model/meter_model.hpp"

namespace openbcpm::web {

// Polls the meter's newest snapshot every 50 ms (each window is taken once,
// by its sequence) and writes ended minutes, one transaction per poll that
// ended any. Lives from the web face's start to its stop.
class TrendFeed : public std::enable_shared_from_this<TrendFeed> {
  public:
    static constexpr std::chrono::milliseconds kPoll{50};
    TrendFeed(boost::asio::io_context& io, MeterModel& device, history::TrendOptions options);
    void start();
    // Ends the minute being built, writes it, and stops polling.
    void stop();
    history::TrendRecorder& recorder() { return recorder_; }

  private:
    void schedule();
    void poll();
    MeterModel& device_;
    boost::asio::steady_timer timer_;
    history::TrendRecorder recorder_;
    bool stopped_ = false;
};

// The recorder of a meter: <state-dir>/trends.sqlite, memory only without a state directory.
std::shared_ptr<TrendFeed> make_trend_feed(boost::asio::io_context& io, MeterModel& device);

}  // namespace openbcpm::web
