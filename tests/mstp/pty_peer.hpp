// The other end of a serial line in the face tests: the master side of a
// pseudo-terminal whose slave the face opens, read frame by frame.
#pragma once

#include <poll.h>
#include <pty.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocols/mstp/frame.hpp"
#include "protocols/mstp/master_node.hpp"
#include "protocols/mstp/receiver.hpp"

namespace openbcpm::mstp::testing {

// The other end of the line: a pty master, read and written by the test.
class PtyPeer {
  public:
    PtyPeer() {
        char name[256] = {};
        if (openpty(&master_, &slave_, name, nullptr, nullptr) != 0)
            throw std::runtime_error("openpty");
        name_ = name;
    }
    ~PtyPeer() {
        close(master_);
        close(slave_);
    }
    const std::string& name() const { return name_; }
    void send(const std::vector<uint8_t>& octets) {
        if (write(master_, octets.data(), octets.size()) != static_cast<ssize_t>(octets.size()))
            throw std::runtime_error("pty write");
    }
    // The next frame the meter sends, or nullopt after `timeout`.
    std::optional<Frame> next(std::chrono::milliseconds timeout) {
        const auto until = Clock::now() + timeout;
        while (true) {
            if (!frames_.empty()) {
                Frame f = frames_.front();
                frames_.erase(frames_.begin());
                return f;
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{master_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            uint8_t buf[512];
            const ssize_t n = read(master_, buf, sizeof buf);
            for (ssize_t i = 0; i < n; ++i) {
                if (rx_.feed(buf[i]) == FrameReceiver::Event::ValidFrame)
                    frames_.push_back(rx_.frame());
            }
        }
    }
    std::optional<Frame> next_of(FrameType type, std::chrono::milliseconds timeout) {
        const auto until = Clock::now() + timeout;
        while (Clock::now() < until) {
            auto f =
                next(std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()));
            if (f && f->type == type) return f;
        }
        return std::nullopt;
    }

  private:
    int master_ = -1, slave_ = -1;
    std::string name_;
    FrameReceiver rx_{std::nullopt};
    std::vector<Frame> frames_;
};

}  // namespace openbcpm::mstp::testing
