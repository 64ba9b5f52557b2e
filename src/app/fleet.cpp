#include "app/fleet.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <thread>
#include <utility>
#include <vector>

#include "app/commands.hpp"
#include "app/faces.hpp"
#include "device/acquisition_pool.hpp"
#include "device/device.hpp"
#include "model/site.hpp"

namespace openbcpm {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

// Meters built ahead of their loop's start of them, and threads building them.
constexpr std::ptrdiff_t kAhead = 16;
constexpr size_t kMaxPreparers = 2;

std::filesystem::path fleet_meter_state_dir(const std::filesystem::path& state_dir, int k) {
    char name[16];
    std::snprintf(name, sizeof name, "%04d", k);
    return state_dir / "meters" / name;
}

namespace {

// The loop the calling thread runs (visit()'s `done` goes back to it).
thread_local asio::io_context* t_loop = nullptr;

void run_fleet_loop(asio::io_context& io) {
    t_loop = &io;
    run_loop(io);
}

class Fleet final : public Site {
  public:
    Fleet(const Config& tmpl, std::filesystem::path state_dir, int shard, int shards)
        : template_(tmpl),
          state_dir_(std::move(state_dir)),
          shape_{tmpl.fleet->count, shard, shards},
          pool_(tmpl.fleet->acquisition_threads) {
        const int loops = tmpl.fleet->event_loops;
        for (int i = 0; i < loops; ++i)
            loops_.push_back(std::make_unique<asio::io_context>());
        int n = 0;
        for (int k : shard_meters(shape_.count, shard, shards)) {
            auto m = std::make_unique<Meter>();
            m->index = k;
            m->config = fleet_meter(template_, k);
            m->state = fleet_meter_state_dir(state_dir_, k);
            m->io = loops_[static_cast<size_t>(n++ % loops)].get();
            m->status.index = k;
            meters_.push_back(std::move(m));
        }
        if (loops > 1) {
            // BACnet/IP shares one UDP socket per port among the meters of an
            // event loop; a second loop could not bind the port again.
            for (const auto& m : meters_) {
                const int mode = m->config.settings.gateway.protocol_mode;
                if (m->config.faces.bacnet_ip.value_or(mode == 2))
                    throw ConfigError(template_.origin, template_.fleet->line, "fleet.event_loops",
                                      "meter " + std::to_string(m->index) +
                                          " serves BACnet/IP, which needs event_loops = 1 (one "
                                          "UDP socket per port for every meter)");
            }
        }
    }

    int run() {
        asio::io_context& main = *loops_.front();
        std::atomic<bool> stopping{false};
        std::vector<std::unique_ptr<asio::steady_timer>> timers;
        asio::signal_set signals(main, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            spdlog::info("signal {}: stopping {} meters", sig, meters_.size());
            stopping = true;
            for (auto& io : loops_)
                io->stop();
        });
        spdlog::info(
            "fleet: {} of {} meters (shard {}/{}), {} acquisition thread{}, {} event "
            "loop{}; state in {}",
            meters_.size(), shape_.count, shape_.shard, shape_.shards, pool_.threads(),
            pool_.threads() > 1 ? "s" : "", loops_.size(), loops_.size() > 1 ? "s" : "",
            (state_dir_ / "meters").string());
        // Start-up: preparer threads build each meter (its Device with its
        // store, its faces with their tables, certificates, accounts) in index
        // order, off the loops, and hand it to its loop, which only binds and
        // starts it; at most kAhead meters wait built. A signal during a long
        // start is heard at once: the preparers stop at the next meter.
        const auto t0 = steady::now();
        std::atomic<int> running{0};
        std::atomic<size_t> left{meters_.size()};
        int code = 0;
        std::counting_semaphore<kAhead> ahead(kAhead);
        auto stop_loops = [this] {
            for (auto& l : loops_)
                l->stop();
        };
        auto settled = [&] {
            if (--left > 0) return;
            if (running.load() == 0 && !meters_.empty()) {
                spdlog::error("fleet: no meter could start");
                code = 1;
                stopping = true;
                stop_loops();
                return;
            }
            spdlog::info("fleet: {} meters running, started in {:.1f} s", running.load(),
                         std::chrono::duration<double>(steady::now() - t0).count());
        };
        const size_t preparers =
            std::clamp<size_t>(std::thread::hardware_concurrency(), 2, kMaxPreparers + 1) - 1;
        std::vector<std::thread> preparing;
        for (size_t j = 0; j < std::min(preparers, meters_.size()); ++j) {
            preparing.emplace_back([&, j, preparers] {
                for (size_t i = j; i < meters_.size(); i += preparers) {
                    while (!ahead.try_acquire_for(std::chrono::milliseconds(100))) {
                        if (stopping.load()) return;
                    }
                    if (stopping.load()) return;
                    Meter* m = meters_[i].get();
                    const bool ok = prepare_meter(*m);
                    asio::post(*m->io, [&, m, ok] {
                        ahead.release();
                        if (stopping.load()) return;  // stop_all() closes what was built
                        if (ok && start_meter(*m, false)) ++running;
                        settled();
                    });
                }
            });
        }
        for (auto& io : loops_) {
            timers.push_back(std::make_unique<asio::steady_timer>(*io));
            schedule_poll(*io, *timers.back());
        }
        std::vector<std::thread> threads;
        for (size_t i = 1; i < loops_.size(); ++i)
            threads.emplace_back([io = loops_[i].get()] { run_fleet_loop(*io); });
        run_fleet_loop(main);
        stopping = true;
        for (auto& io : loops_)
            io->stop();
        for (auto& t : threads)
            t.join();
        for (auto& t : preparing)
            t.join();
        timers.clear();
        stop_all();
        spdlog::info("fleet: stopped; energy checkpointed for every meter");
        return code;
    }

    // --- Site ---
    SiteShape shape() const override { return shape_; }

    std::vector<SiteMeter> meters() const override {
        std::lock_guard lock(status_mutex_);
        std::vector<SiteMeter> out;
        out.reserve(meters_.size());
        for (const auto& m : meters_)
            out.push_back(m->status);
        return out;
    }

    void visit(std::function<void(const SiteMeter&, MeterModel&)> fn,
               std::function<void()> done) override {
        asio::io_context* caller = t_loop ? t_loop : loops_.front().get();
        if (loops_.size() == 1) {
            for (auto& m : meters_) {
                if (m->live) fn(status_of(*m), *m->device);
            }
            done();
            return;
        }
        auto left = std::make_shared<std::atomic<size_t>>(meters_.size() + 1);
        auto shared_fn = std::make_shared<decltype(fn)>(std::move(fn));
        auto shared_done = std::make_shared<decltype(done)>(std::move(done));
        auto finish = [left, caller, shared_done] {
            if (left->fetch_sub(1) == 1) asio::post(*caller, [shared_done] { (*shared_done)(); });
        };
        for (auto& m : meters_) {
            asio::post(*m->io, [this, meter = m.get(), shared_fn, finish] {
                if (meter->live) (*shared_fn)(status_of(*meter), *meter->device);
                finish();
            });
        }
        finish();
    }

  private:
    struct Meter {
        int index = 0;
        Config config;
        std::filesystem::path state;
        asio::io_context* io = nullptr;
        std::unique_ptr<Device> device;
        std::unique_ptr<Faces> faces;
        bool live = false;  // started, on its loop (device and faces may be built before)
        std::unique_ptr<asio::steady_timer> restart_timer;
        std::optional<std::pair<double, steady::time_point>> rtc_kept;
        steady::time_point status_at{};
        SiteMeter status;  // under status_mutex_
    };

    SiteMeter status_of(const Meter& m) const {
        std::lock_guard lock(status_mutex_);
        return m.status;
    }

    // Builds the meter: its Device (store opened, state loaded) and its faces,
    // not yet started. On a preparer thread at the fleet's start (nothing else
    // touches the meter before its loop starts it), on its loop for a restart.
    // False when it cannot start: it is logged, listed as not running, and
    // the others go on.
    bool prepare_meter(Meter& m) {
        try {
            m.device = std::make_unique<Device>(m.config, m.state);
            m.device->set_site(this);
            m.device->set_restart_handler([this, meter = &m](RestartKind kind) {
                // Let the requesting handler finish its reply first.
                asio::post(*meter->io, [this, meter, kind] { restart_meter(*meter, kind); });
            });
            m.faces = std::make_unique<Faces>(*m.io, *m.device);
            return true;
        } catch (const StoreDamaged& e) {
            spdlog::error(
                "meter {}: {}; it does not start on damaged state (to start it afresh: openbcpm "
                "factory-reset --all --state-dir {})",
                m.index, e.what(), m.state.string());
        } catch (const std::exception& e) {
            spdlog::error("meter {}: cannot start: {}", m.index, e.what());
        }
        m.faces.reset();
        m.device.reset();
        return false;
    }

    // On the meter's loop: prepares it (unless `prepared` already) and starts it.
    bool start_meter(Meter& m, bool prepare = true) {
        if (prepare && !prepare_meter(m)) return false;
        try {
            const Settings& s = m.device->settings();
            spdlog::info("meter {}: {} serial {:08X} at {}, state in {}", m.index,
                         s.model.model_name(), s.identity.serial_number, s.gateway.ip_address,
                         m.state.string());
            m.device->start(&pool_);
            if (m.rtc_kept) {
                const std::chrono::duration<double> gap = steady::now() - m.rtc_kept->second;
                m.device->set_rtc(static_cast<int64_t>(std::llround(
                                      m.rtc_kept->first + gap.count() * m.device->speed())),
                                  RtcSource::Other);
                m.rtc_kept.reset();
            }
            m.faces->start();
            m.live = true;
            refresh_status(m, true);
            return true;
        } catch (const std::exception& e) {
            spdlog::error("meter {}: cannot start: {}", m.index, e.what());
        }
        stop_meter(m, false);
        return false;
    }

    void stop_meter(Meter& m, bool keep_rtc) {
        m.live = false;
        if (m.faces) m.faces->stop();
        m.faces.reset();
        if (m.device) {
            m.device->stop();
            if (keep_rtc) {
                const MeterSnapshot& snap = m.device->snapshot();
                if (snap.rtc_set) m.rtc_kept.emplace(static_cast<double>(snap.rtc), steady::now());
            }
        }
        m.device.reset();
        std::lock_guard lock(status_mutex_);
        m.status.running = false;
    }

    // System Restart of one meter: its faces close, its Device stops (final
    // checkpoint) and starts again on its stored settings; the others go on.
    void restart_meter(Meter& m, RestartKind kind) {
        if (!m.live || m.restart_timer) return;
        spdlog::info(
            "meter {}: system restart ({})", m.index,
            kind == RestartKind::Warm ? "warm: the RTC runs on" : "cold: the RTC starts afresh");
        m.faces->stop();
        // The faces' cancelled operations complete on the loop before they go.
        m.restart_timer = std::make_unique<asio::steady_timer>(*m.io);
        m.restart_timer->expires_after(std::chrono::milliseconds(200));
        m.restart_timer->async_wait([this, meter = &m, kind](const boost::system::error_code&) {
            stop_meter(*meter, kind == RestartKind::Warm);
            start_meter(*meter);
            asio::post(*meter->io, [meter] { meter->restart_timer.reset(); });
        });
    }

    void refresh_status(Meter& m, bool now) {
        const auto t = steady::now();
        if (!now && t - m.status_at < std::chrono::seconds(1)) return;
        m.status_at = t;
        SiteMeter s;
        s.index = m.index;
        fill_site_meter_status(s, m.device->settings(), m.device->snapshot());
        s.running = true;
        std::lock_guard lock(status_mutex_);
        m.status = s;
    }

    // Every 50 ms on each loop: events to storage and listeners, checkpoints, the site status.
    void schedule_poll(asio::io_context& io, asio::steady_timer& timer) {
        timer.expires_after(std::chrono::milliseconds(50));
        timer.async_wait([this, &io, &timer](const boost::system::error_code& ec) {
            if (ec) return;
            for (auto& m : meters_) {
                if (m->io != &io || !m->live || m->restart_timer) continue;
                m->device->poll();
                refresh_status(*m, false);
            }
            schedule_poll(io, timer);
        });
    }

    // After the loops stopped: the faces close, each Device stops with its final checkpoint.
    void stop_all() {
        for (auto& m : meters_) {
            if (m->faces) m->faces->stop();
        }
        for (auto& io : loops_) {
            io->restart();
            io->poll();
        }
        for (auto& m : meters_) {
            m->restart_timer.reset();
            stop_meter(*m, false);
        }
    }

    Config template_;
    std::filesystem::path state_dir_;
    SiteShape shape_;
    AcquisitionPool pool_;
    std::vector<std::unique_ptr<asio::io_context>> loops_;
    std::vector<std::unique_ptr<Meter>> meters_;
    mutable std::mutex status_mutex_;
};

}  // namespace

int run_fleet(const Config& fleet_template, const std::filesystem::path& state_dir, int shard,
              int shards) {
    Fleet fleet(fleet_template, state_dir, shard, shards);
    return fleet.run();
}

}  // namespace openbcpm
