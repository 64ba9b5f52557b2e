// A simulated RS-485 bus in virtual time for the master node tests: every
// transmission occupies the wire for its octets' time at the baud rate and
// reaches every other live node when its last stop bit is out. Overlapping
// transmissions are collisions and arrive garbled.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include "protocols/mstp/master_node.hpp"

namespace openbcpm::mstp::testing {

class SimBus {
  public:
    struct Transmission {
        size_t member = 0;
        Clock::time_point start{}, end{};
        std::vector<uint8_t> octets;
        bool garbled = false;
        std::optional<Frame> frame() const {
            const auto r = decode_frame(octets);
            if (const auto* f = std::get_if<Frame>(&r)) return *f;
            return std::nullopt;
        }
    };
    struct Member {
        std::unique_ptr<MasterNode> node;
        bool alive = true;
        bool hears_itself = false;  // an adapter that echoes
        std::vector<Frame> indications;
        // The upper layer: called with each data frame indicated.
        std::function<void(MasterNode&, const Frame&)> on_data;
        Clock::time_point tx_free{};
    };

    explicit SimBus(uint32_t baud = 38400) : baud_(baud) {}

    size_t add(NodeConfig c) {
        c.baud = baud_;
        const size_t i = members_.size();
        members_.push_back(std::make_unique<Member>());
        Member& m = *members_.back();
        m.node = std::make_unique<MasterNode>(
            c, [this, i](std::span<const uint8_t> o) { transmit(i, o); },
            [this, i](const Frame& f) {
                Member& mm = *members_[i];
                mm.indications.push_back(f);
                if (mm.on_data) mm.on_data(*mm.node, f);
            });
        m.node->start(now_);
        return i;
    }

    Member& member(size_t i) { return *members_.at(i); }
    MasterNode& node(size_t i) { return *members_.at(i)->node; }
    Clock::time_point now() const { return now_; }
    const std::vector<Transmission>& wire() const { return wire_; }
    size_t collisions() const { return collisions_; }
    microseconds turnaround() const { return members_.front()->node->turnaround(); }

    void kill(size_t i) { members_.at(i)->alive = false; }
    void revive(size_t i) {
        members_.at(i)->alive = true;
        members_.at(i)->node->start(now_);
    }

    void run_for(microseconds d) {
        run_until(now_ + d, [] { return false; });
    }
    // Runs until `stop` holds (checked after every event) or the time is up;
    // true when stopped by the predicate.
    bool run_until(Clock::time_point until, const std::function<bool()>& stop) {
        size_t same_time = 0;
        Clock::time_point last{};
        while (true) {
            Clock::time_point t = until;
            if (!pending_.empty()) t = std::min(t, pending_.front().at);
            for (auto& m : members_) {
                if (m->alive) t = std::min(t, m->node->next_deadline());
            }
            now_ = std::max(now_, t);
            same_time = now_ == last ? same_time + 1 : 0;
            last = now_;
            if (same_time > 100000) throw std::runtime_error("simulation does not advance");
            while (!pending_.empty() && pending_.front().at <= now_) {
                const Delivery d = pending_.front();
                pending_.erase(pending_.begin());
                auto octets = wire_[d.transmission].octets;
                if (wire_[d.transmission].garbled) {
                    for (auto& o : octets)
                        o = static_cast<uint8_t>(o ^ 0x5A);
                }
                for (size_t j = 0; j < members_.size(); ++j) {
                    Member& m = *members_[j];
                    if (!m.alive || (j == d.from && !m.hears_itself)) continue;
                    m.node->receive(octets, now_);
                }
                if (stop()) return true;
            }
            for (auto& m : members_) {
                if (m->alive && m->node->next_deadline() <= now_) m->node->poll(now_);
            }
            if (stop()) return true;
            if (now_ >= until) return false;
        }
    }

    // Frames on the wire from `from` on, optionally only one type.
    std::vector<std::pair<size_t, Frame>> frames(size_t from_index = 0) const {
        std::vector<std::pair<size_t, Frame>> out;
        for (size_t i = from_index; i < wire_.size(); ++i) {
            if (auto f = wire_[i].frame()) out.emplace_back(i, *f);
        }
        return out;
    }

  private:
    struct Delivery {
        Clock::time_point at;
        size_t from;
        size_t transmission;
    };

    void transmit(size_t i, std::span<const uint8_t> octets) {
        Member& m = *members_[i];
        Transmission t;
        t.member = i;
        t.start = std::max(now_, m.tx_free);
        t.end = t.start + m.node->wire_time(octets.size());
        m.tx_free = t.end;
        t.octets.assign(octets.begin(), octets.end());
        // Only recent transmissions can overlap this one.
        for (size_t k = wire_.size(); k-- > 0 && k + 16 >= wire_.size();) {
            Transmission& other = wire_[k];
            if (other.member != i && other.start < t.end && t.start < other.end) {
                other.garbled = t.garbled = true;
                ++collisions_;
            }
        }
        wire_.push_back(std::move(t));
        const Delivery d{wire_.back().end, i, wire_.size() - 1};
        const auto pos =
            std::upper_bound(pending_.begin(), pending_.end(), d,
                             [](const Delivery& a, const Delivery& b) { return a.at < b.at; });
        pending_.insert(pos, d);
    }

    uint32_t baud_;
    Clock::time_point now_ = Clock::time_point{} + std::chrono::hours(1);
    std::vector<std::unique_ptr<Member>> members_;
    std::vector<Transmission> wire_;
    std::vector<Delivery> pending_;
    size_t collisions_ = 0;
};

}  // namespace openbcpm::mstp::testing
