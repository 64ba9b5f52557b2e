// The connection incident log: the first incident at once, then one summary
// line per window, however many incidents there are.
#include "model/connection_log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

using namespace openbcpm;

namespace {

class CapturedLog {
  public:
    CapturedLog()
        : previous_(spdlog::default_logger()),
          logger_(std::make_shared<spdlog::logger>(
              "captured", std::make_shared<spdlog::sinks::ostream_sink_st>(out_))) {
        logger_->set_pattern("%v");
        spdlog::set_default_logger(logger_);
    }
    ~CapturedLog() { spdlog::set_default_logger(previous_); }
    std::vector<std::string> lines() const {
        std::vector<std::string> out;
        std::istringstream in(out_.str());
        for (std::string line; std::getline(in, line);)
            out.push_back(line);
        return out;
    }

  private:
    std::ostringstream out_;
    std::shared_ptr<spdlog::logger> previous_;
    std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

TEST(ConnectionLog, FirstIncidentAtOnceThenOneSummaryPerWindow) {
    CapturedLog captured;
    boost::asio::io_context io;
    ConnectionLog log(io, "Modbus TCP", std::chrono::milliseconds(200));
    log.note("evicted");
    ASSERT_EQ(captured.lines().size(), 1u);
    EXPECT_EQ(captured.lines()[0],
              "Modbus TCP: evicted (further incidents are summarised once a minute)");
    for (int i = 0; i < 500; ++i)
        log.note("evicted");
    log.note("stalled");
    log.note("stalled");
    EXPECT_EQ(captured.lines().size(), 1u);  // nothing more until the window ends
    io.run_for(std::chrono::milliseconds(300));
    ASSERT_EQ(captured.lines().size(), 2u);
    EXPECT_EQ(captured.lines()[1], "Modbus TCP in the last minute: 500 x evicted; 2 x stalled");
    // A quiet window closes it: the next incident is logged at once again.
    io.restart();
    io.run_for(std::chrono::milliseconds(300));
    EXPECT_EQ(captured.lines().size(), 2u);
    log.note("refused");
    ASSERT_EQ(captured.lines().size(), 3u);
    EXPECT_EQ(captured.lines()[2].rfind("Modbus TCP: refused", 0), 0u);
    // Stopping says what the unfinished window counted.
    log.note("refused");
    log.flush();
    ASSERT_EQ(captured.lines().size(), 4u);
    EXPECT_EQ(captured.lines()[3], "Modbus TCP in the last minute: 1 x refused");
}
