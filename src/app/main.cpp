// openbcpm: a software BCPME branch circuit power meter.
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include "app/commands.hpp"
#include "app/site_command.hpp"
#ifdef OPENBCPM_FACE_POINTS
#include "points/export.hpp"
#endif
#ifdef OPENBCPM_FACE_BACNET
#include "protocols/bacnet/ede.hpp"  // export ede
#endif
#ifdef OPENBCPM_FACE_SNMP
#include "protocols/snmp/meter_mib.hpp"  // export mib
#endif
#include "config/config.hpp"
#include "storage/store.hpp"

using namespace openbcpm;

namespace {

// Every connection of every face is a descriptor: the soft limit (often 1024)
// goes up to the hard one so that the faces' own caps, not EMFILE, decide.
void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
        spdlog::warn("cannot raise the open file limit: {}", std::strerror(errno));
}

int run_main(int argc, char** argv) {
    CLI::App app{
        "openbcpm - a software BCPME panelboard monitoring system (branch circuit power meter)"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "openbcpm 0.1.0");

    CommonOptions common;
    auto add_config = [&](CLI::App* sub) {
        // Not CLI11's ExistingFile check (exit 105): a file that cannot be read
        // is a refused configuration, exit 2 with its path and the reason.
        sub->add_option("-c,--config", common.config_file,
                        "TOML configuration file (default: the embedded panel)");
    };
    auto add_state = [&](CLI::App* sub, bool required) {
        auto* o = sub->add_option("-s,--state-dir", common.state_dir,
                                  "Directory of the non-volatile store");
        if (required) o->required();
    };

    CLI::App* run = app.add_subcommand("run", "Run the meter until stopped (SIGINT/SIGTERM)");
    add_config(run);
    add_state(run, false);
    run->add_option("--shard", common.shard,
                    "Run shard K of N of a [fleet] site: the meters k with k mod N = K");
    common.state_dir = "openbcpm-state";

    SimulateOptions sim;
    CLI::App* simulate =
        app.add_subcommand("simulate", "Meter N simulated seconds as fast as possible, then print");
    add_config(simulate);
    simulate->add_option("--seconds", sim.seconds, "Simulated seconds to run")
        ->required()
        ->check(CLI::Range(0.0, 1e7));
    simulate->add_flag("--json", sim.json, "Print the meter's state as JSON");
    simulate->add_option("--state-dir", sim.state_dir, "Use (and update) this non-volatile store");

    RecordOptions rec;
    CLI::App* record =
        app.add_subcommand("record", "Record the simulator's samples to a replay file");
    add_config(record);
    record->add_option("--seconds", rec.seconds, "Simulated seconds to record")
        ->required()
        ->check(CLI::Range(0.1, 86400.0));
    record->add_option("-o,--out", rec.out, "Output file (.obr)")->required();

    bool print_default = false;
    CLI::App* config =
        app.add_subcommand("config", "Print the embedded default configuration or check a file");
    config->add_flag("--default", print_default, "Print the embedded default configuration");
    std::string check_file;
    config->add_option("--check", check_file, "Validate a configuration file");

    EventsOptions ev;
    CLI::App* events = app.add_subcommand("events", "Print the event history of a state directory");
    events->add_option("-s,--state-dir", ev.state_dir, "Directory of the non-volatile store")
        ->required();
    events->add_option("-n,--limit", ev.limit, "Most recent events to print")
        ->check(CLI::Range(1, 1000000));
    events->add_flag("--json", ev.json, "Print JSON lines");

    SiteOptions site;
    CLI::App* site_cmd = app.add_subcommand(
        "site", "Print the meters of a site's state directory (DIR/meters/NNNN/), read-only");
    site_cmd->add_option("-s,--state-dir", site.state_dir, "The site's state directory")
        ->required();
    site_cmd->add_option("-c,--config", site.config_file,
                         "The site's configuration: serial numbers and models");
    site_cmd
        ->add_option("--interval", site.interval,
                     "Seconds between two reads of each store (running or not, kW); 0: one read")
        ->check(CLI::Range(0.0, 60.0));
    site_cmd->add_flag("--json", site.json, "Print JSON");

    bool reset_all = false;
    std::string reset_dir;
    CLI::App* factory =
        app.add_subcommand("factory-reset", "Restore factory settings in a state directory");
    factory->add_option("-s,--state-dir", reset_dir, "Directory of the non-volatile store")
        ->required();
    factory->add_flag("--all", reset_all, "Also clear energy, maxima, counters, events and users");

#ifdef OPENBCPM_FACE_POINTS
    std::string export_what, export_format = "csv", export_out;
    CLI::App* exp = app.add_subcommand("export", "Export a view of the point catalogue");
    exp->add_option("what", export_what, "pointmap")
        ->required()
        ->check(CLI::IsMember({"pointmap"
#ifdef OPENBCPM_FACE_BACNET
                               ,
                               "ede"
#endif
#ifdef OPENBCPM_FACE_SNMP
                               ,
                               "mib"
#endif
        }));
    exp->add_option("--format", export_format, "pointmap format: csv | json")
        ->check(CLI::IsMember({"csv", "json"}));
    exp->add_option("-o,--out", export_out, "Output file (default: standard output)");
#endif
#ifdef OPENBCPM_FACE_BACNET
    // --- BACnet: `export ede [-o DIR] [-c CONFIG] [-s STATE_DIR]` writes the EDE files ---
    std::string ede_config, ede_state;
    exp->add_option("-c,--config", ede_config,
                    "ede: the meter's configuration (default: embedded)");
    exp->add_option("-s,--state-dir", ede_state, "ede: the meter's state directory");
    exp->callback([&] {
        if (export_what != "ede") return;
        const std::filesystem::path dir = export_out.empty() ? "." : export_out;
        for (const auto& file : bacnet::export_ede(dir, ede_config, ede_state))
            std::cout << file.string() << "\n";
        throw CLI::Success();  // done: app.exit() returns 0
    });
    // --- end BACnet ---
#endif

    try {
        // `export ede` runs in its callback, inside parse: its refusals land below too.
        try {
            app.parse(argc, argv);
        } catch (const CLI::ParseError& e) {
            return app.exit(e);
        }
        if (*run) {
            raise_descriptor_limit();
            return run_command(common);
        }
        if (*simulate) return simulate_command(common, sim);
        if (*record) return record_command(common, rec);
        if (*config) {
            if (!check_file.empty()) {
                load_config_file(check_file);
                std::cout << check_file << ": ok\n";
                return 0;
            }
            if (print_default || check_file.empty()) std::cout << default_config_text();
            return 0;
        }
        if (*events) return events_command(ev);
        if (*site_cmd) return site_command(site);
        if (*factory) return factory_reset_command(reset_dir, reset_all);
#ifdef OPENBCPM_FACE_SNMP
        // --- SNMP: `export mib [-o FILE]` writes the product MIB module (SMIv2) ---
        if (*exp && export_what == "mib") {
            const std::string text = snmp::meter::MeterMib::instance().module_text();
            if (export_out.empty()) {
                std::cout << text;
            } else {
                std::ofstream out(export_out);
                out << text;
                if (!out) throw std::runtime_error("cannot write " + export_out);
            }
            return 0;
        }
        // --- end SNMP ---
#endif
#ifdef OPENBCPM_FACE_POINTS
        if (*exp) {
            const std::string text = export_format == "json"
                                         ? points::pointmap_json().dump(1) + "\n"
                                         : points::pointmap_csv();
            if (export_out.empty()) {
                std::cout << text;
            } else {
                std::ofstream(export_out) << text;
            }
            return 0;
        }
#endif
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "openbcpm: configuration refused: %s\n", e.what());
        return 2;
    } catch (const StoreDamaged& e) {
        // Damaged state is never taken silently, and nothing good was there to restore.
        const std::string dir = e.file().parent_path().string();
        std::fprintf(stderr,
                     "openbcpm: %s\n"
                     "openbcpm: the meter will not start on damaged state, and no good backup is "
                     "beside it.\n"
                     "openbcpm: to start afresh (settings, energy, maxima, counters, events and "
                     "users back to factory; the damaged file is kept as %s.damaged):\n"
                     "    openbcpm factory-reset --all --state-dir %s\n",
                     e.what(), e.file().string().c_str(), dir.c_str());
        return 3;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "openbcpm: %s\n", e.what());
        return 1;
    }
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    try {
        return run_main(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "openbcpm: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "openbcpm: unexpected error\n");
    }
    return 1;
}
