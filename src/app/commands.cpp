#include "app/commands.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <iostream>
#include <optional>
#include <tuple>
#include <utility>

#include "app/faces.hpp"
#include "app/fleet.hpp"
#include "device/device.hpp"
#include "model/snapshot_json.hpp"
#include "sources/replay.hpp"
#include "sources/simulator.hpp"

namespace openbcpm {

namespace {

// Progress of a long command on stderr, only when stderr is a terminal and the
// command has run for a second: "\rsimulate: 42% (1512 of 3600 s)".
class Progress {
  public:
    Progress(std::string what, double total, std::string unit)
        : what_(std::move(what)),
          total_(total),
          unit_(std::move(unit)),
          tty_(::isatty(STDERR_FILENO) == 1),
          start_(std::chrono::steady_clock::now()) {}
    ~Progress() {
        if (shown_) std::fprintf(stderr, "\r\033[K");
    }
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    void update(double done) {
        if (!tty_ || total_ <= 0.0) return;
        const auto now = std::chrono::steady_clock::now();
        if (now - start_ < std::chrono::seconds(1) || now - last_ < std::chrono::milliseconds(200))
            return;
        last_ = now;
        shown_ = true;
        std::fprintf(stderr, "\r%s: %3.0f%% (%.0f of %.0f %s)\033[K", what_.c_str(),
                     100.0 * std::min(done / total_, 1.0), done, total_, unit_.c_str());
        std::fflush(stderr);
    }

  private:
    std::string what_;
    double total_;
    std::string unit_;
    bool tty_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point start_, last_{};
};

}  // namespace

// The event loop, with a safety net: every handler that writes storage turns a
// failure into its face's error, but should a StoreError still escape one, the
// meter logs it and goes on serving rather than ending.
void run_loop(boost::asio::io_context& io) {
    for (;;) {
        try {
            io.run();
            return;
        } catch (const StoreError& e) {
            spdlog::error("storage error escaped a handler (the meter goes on): {}", e.what());
        }
    }
}

Config load_config(const CommonOptions& common) {
    return common.config_file.empty() ? default_config() : load_config_file(common.config_file);
}

int run_command(const CommonOptions& common) {
    const Config cfg = load_config(common);
    if (cfg.fleet || !common.shard.empty()) {
        int shard = 0, shards = 1;
        if (!common.shard.empty()) {
            if (!cfg.fleet) {
                std::fprintf(stderr,
                             "openbcpm: --shard runs part of a site: the configuration needs a "
                             "[fleet] section\n");
                return 2;
            }
            try {
                std::tie(shard, shards) = parse_shard(common.shard);
            } catch (const std::invalid_argument& e) {
                std::fprintf(stderr, "openbcpm: --shard %s: %s\n", common.shard.c_str(), e.what());
                return 2;
            }
            if (shard >= cfg.fleet->count) {
                std::fprintf(stderr, "openbcpm: --shard %s: no meter of the %d is in it\n",
                             common.shard.c_str(), cfg.fleet->count);
                return 2;
            }
        }
        return run_fleet(cfg, common.state_dir, shard, shards);
    }
    boost::asio::io_context io;
    bool stopping = false;
    bool restart = false;
    RestartKind restart_kind = RestartKind::Warm;
    // The RTC carried across a warm restart: its value and when it was read.
    std::optional<std::pair<double, std::chrono::steady_clock::time_point>> rtc_kept;
    std::unique_ptr<Device> device;
    std::unique_ptr<Faces> faces;

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        spdlog::info("signal {}: stopping", sig);
        stopping = true;
        io.stop();
    });

    // The event loop moves events to storage and listeners and checkpoints energy.
    boost::asio::steady_timer poll_timer(io);
    std::function<void()> schedule_poll = [&] {
        poll_timer.expires_after(std::chrono::milliseconds(50));
        poll_timer.async_wait([&](const boost::system::error_code& ec) {
            if (ec) return;
            if (device) device->poll();
            schedule_poll();
        });
    };

    while (!stopping) {
        device = std::make_unique<Device>(cfg, std::filesystem::path(common.state_dir));
        device->set_restart_handler([&](RestartKind kind) {
            // Let the requesting handler finish its reply first.
            boost::asio::post(io, [&, kind] {
                restart = true;
                restart_kind = kind;
                io.stop();
            });
        });
        faces = std::make_unique<Faces>(io, *device);
        const Settings& s = device->settings();
        spdlog::info("openbcpm: {} ({} panel{}, {} branch channels), serial {:08X}",
                     s.model.model_name(), s.model.panels, s.model.panels > 1 ? "s" : "",
                     s.model.branch_channels, s.identity.serial_number);
        spdlog::info("source: {} at {}x real time; state in {}; power-up #{}", cfg.source.kind,
                     device->speed(), common.state_dir, device->power_up_counter(1));
        device->start();
        if (rtc_kept) {
            // A warm restart keeps the clock: the RTC read at the stop, plus
            // the time the restart took (at the simulation's speed).
            const std::chrono::duration<double> gap =
                std::chrono::steady_clock::now() - rtc_kept->second;
            const auto rtc =
                static_cast<int64_t>(std::llround(rtc_kept->first + gap.count() * device->speed()));
            device->set_rtc(rtc, RtcSource::Other);
            spdlog::info("RTC kept across the restart");
            rtc_kept.reset();
        }
        faces->start();
        schedule_poll();
        io.restart();
        run_loop(io);
        faces->stop();
        poll_timer.cancel();
        // Let closed sockets and cancelled operations finish before the next round.
        io.restart();
        io.poll();
        faces.reset();
        device->stop();
        if (restart && restart_kind == RestartKind::Warm) {
            const MeterSnapshot& snap = device->snapshot();
            if (snap.rtc_set) {
                rtc_kept.emplace(static_cast<double>(snap.rtc), std::chrono::steady_clock::now());
            }
        }
        device.reset();
        if (!restart) break;
        restart = false;
        spdlog::info("system restart ({})", restart_kind == RestartKind::Warm
                                                ? "warm: the RTC runs on"
                                                : "cold: the RTC starts afresh");
    }
    spdlog::info("stopped; energy checkpointed");
    return 0;
}

int simulate_command(const CommonOptions& common, const SimulateOptions& options) {
    const Config cfg = load_config(common);
    std::optional<std::filesystem::path> state;
    if (!options.state_dir.empty()) state = options.state_dir;
    Device device(cfg, state);
    {
        Progress progress("simulate", options.seconds, "s metered");
        device.run_inline(options.seconds, [&](double done) { progress.update(done); });
    }
    const MeterSnapshot& snap = device.snapshot();
    if (options.json) {
        std::cout << snapshot_json(snap, device.settings()).dump(2) << "\n";
        return 0;
    }
    const Settings& s = device.settings();
    std::printf("%s after %.1f s: V A-N %.2f B-N %.2f C-N %.2f  f %.3f Hz\n",
                s.model.model_name().c_str(), snap.time, snap.voltage.ln[0], snap.voltage.ln[1],
                snap.voltage.ln[2], snap.voltage.frequency);
    for (int p = 1; p <= s.model.panels; ++p) {
        const PanelReadings& pr = snap.panel[static_cast<size_t>(p - 1)];
        std::printf("panel %d (%s)\n  ch      A      kW     kVA     PF    angle        kWh\n", p,
                    s.panel(p).location.c_str());
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            const ChannelReadings& r = pr.channel[static_cast<size_t>(c - 1)];
            if (!r.present) continue;
            std::printf("  %2d %7.3f %7.3f %7.3f %6.3f %8.2f %10.4f\n", c, r.current, r.kw, r.kva,
                        r.pf, r.angle, r.kwh);
        }
    }
    return 0;
}

int record_command(const CommonOptions& common, const RecordOptions& options) {
    const Config cfg = load_config(common);
    std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> ct{};
    for (int p = 1; p <= kMaxPanels; ++p)
        ct[static_cast<size_t>(p - 1)] = cfg.settings.panel(p).ct_size;
    PanelSimulator sim(cfg.simulation, cfg.settings.model, ct);
    RecordingHeader h;
    h.panels = cfg.settings.model.panels;
    h.nominal_frequency = cfg.simulation.frequency;
    RecordingWriter writer(options.out, h);
    auto block = std::make_unique<SampleBlock>();
    const auto blocks =
        static_cast<uint64_t>(std::ceil(options.seconds * kSampleRate / kBlockSamples));
    Progress progress("record", options.seconds, "s recorded");
    for (uint64_t b = 0; b < blocks; ++b) {
        sim.read(*block);
        writer.write(*block);
        progress.update(static_cast<double>((b + 1) * uint64_t{kBlockSamples}) / kSampleRate);
    }
    writer.finish();
    const uint64_t samples = blocks * uint64_t{kBlockSamples};
    std::printf("recorded %.1f s (%llu samples per input) to %s\n",
                static_cast<double>(samples) / kSampleRate,
                static_cast<unsigned long long>(samples), options.out.c_str());
    return 0;
}

int events_command(const EventsOptions& options) {
    if (!std::filesystem::exists(std::filesystem::path(options.state_dir) / "openbcpm.db")) {
        std::fprintf(stderr, "openbcpm: no meter state in %s\n", options.state_dir.c_str());
        return 1;
    }
    Store store(options.state_dir, Store::OnDamage::Refuse);  // a reader changes nothing
    auto events = store.load_events(options.limit);
    std::reverse(events.begin(), events.end());
    for (const StoredEvent& e : events) {
        if (options.json) {
            nlohmann::json j = event_json(e.record);
            j["id"] = e.id;
            j["recorded"] = e.wall_time;
            std::cout << j.dump() << "\n";
            continue;
        }
        char when[32];
        const std::time_t t = e.wall_time;
        std::tm tm{};
        gmtime_r(&t, &tm);
        std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        const EventRecord& r = e.record;
        std::string where;
        if (r.channel > kVoltageEventChannelBase) {
            static const char* pairs[] = {"A-B", "B-C", "C-A"};
            where = std::string("voltage ") + pairs[(r.channel - kVoltageEventChannelBase - 1) % 3];
        } else {
            where = "channel " + std::to_string(r.channel);
        }
        std::printf("%6lld %s t=%10.1fs panel %d %-12s %-24s %-9s value %.3f threshold %.3f\n",
                    static_cast<long long>(e.id), when, r.time, r.panel, where.c_str(),
                    event_bit_name(r.channel, r.bit).c_str(),
                    std::string(event_kind_name(r.kind)).c_str(), r.value, r.threshold);
    }
    if (events.empty()) std::printf("no events recorded\n");
    return 0;
}

int factory_reset_command(const std::string& state_dir, bool all) {
    // --all works on a damaged database too: it is put aside and a new one made.
    // Without --all the rest must survive, so a damaged database is restored
    // from its backup first (or refused: exit 3).
    Store store(state_dir, all ? Store::OnDamage::Discard : Store::OnDamage::Restore);
    store.clear_settings();
    if (all) {
        store.clear_all_but_settings();
        store.remove_backups();  // nothing of the old state may come back
    }
    if (!store.recovery().damage.empty()) std::printf("%s\n", store.recovery().note().c_str());
    std::printf("%s: factory settings restored%s\n", state_dir.c_str(),
                all ? "; energy, maxima, counters, events and users cleared" : "");
    return 0;
}

}  // namespace openbcpm
