// `openbcpm site --state-dir DIR [-c CONFIG] [--interval S] [--json]`: the
// table of a site's meters from its state directory (DIR/meters/NNNN/, one
// store per meter), read-only, while the site runs or not.
//
// Each store is opened read-only (Store::OnDamage::ReadOnly: a WAL reader
// that writes, removes and repairs nothing) twice, `interval` seconds apart:
// a meter whose checkpoint time moved on is running, and its mains kW is the
// energy it metered in between over the metered time. Address and BACnet
// device offset come from the stored settings; serial number and model are
// not stored, so they come from the site's configuration (-c) when given.
#include "app/site_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "model/site.hpp"
#include "storage/store.hpp"

namespace openbcpm {

namespace fs = std::filesystem;

namespace {

// What one read of a meter's store gave.
struct StoreRead {
    std::string error;  // "" when read
    bool damaged = false;
    std::string address;
    std::optional<int64_t> device_id_offset;
    int latched = 0;
    double kwh = 0.0;
    std::optional<double> time;  // checkpoint time
};

StoreRead read_store(const fs::path& dir, const ModelInfo& model) {
    StoreRead r;
    try {
        Store store(dir, Store::OnDamage::ReadOnly);
        const auto settings = store.load_settings();
        if (auto it = settings.find("gateway.ip_address"); it != settings.end()) {
            if (const auto* s = std::get_if<std::string>(&it->second.value)) r.address = *s;
        }
        if (auto it = settings.find("gateway.device_id_offset"); it != settings.end()) {
            if (const auto* v = std::get_if<int64_t>(&it->second.value)) r.device_id_offset = *v;
        }
        MeterSnapshot snap{};
        store.load_meter_state(snap);
        r.latched = site_latched_events(model, snap);
        // The mains' energy: aux 1..3, the mains by phase, of each panel.
        for (int p = 1; p <= model.panels; ++p) {
            for (int ch = kFirstAuxChannel; ch < kFirstAuxChannel + 3; ++ch)
                r.kwh +=
                    snap.panel[static_cast<size_t>(p - 1)].channel[static_cast<size_t>(ch - 1)].kwh;
        }
        r.time = store.load_checkpoint_time();
    } catch (const StoreDamaged& e) {
        r.damaged = true;
        r.error = e.reason();
    } catch (const std::exception& e) {
        r.error = e.what();
    }
    return r;
}

struct Row {
    int index = 0;
    fs::path dir;
    std::optional<Config> config;  // meter k of the site's configuration
    StoreRead first, second;
    std::string state;
    std::optional<double> kw;
};

// "0000".."9999": a meter's directory name.
std::optional<int> meter_index(const std::string& name) {
    if (name.size() != 4) return std::nullopt;
    int k = 0;
    for (char c : name) {
        if (c < '0' || c > '9') return std::nullopt;
        k = k * 10 + (c - '0');
    }
    return k;
}

}  // namespace

int site_command(const SiteOptions& options) {
    const fs::path dir = options.state_dir;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        std::fprintf(stderr, "openbcpm: no such directory: %s\n", dir.c_str());
        return 1;
    }
    std::vector<Row> rows;
    const fs::path meters = dir / "meters";
    if (fs::is_directory(meters, ec)) {
        for (const auto& entry : fs::directory_iterator(meters, ec)) {
            const auto k = meter_index(entry.path().filename().string());
            if (!k || !entry.is_directory(ec)) continue;
            Row row;
            row.index = *k;
            row.dir = entry.path();
            rows.push_back(std::move(row));
        }
    }
    if (rows.empty()) {
        std::fprintf(stderr,
                     "openbcpm: %s is not a fleet state directory: it has no meters/NNNN/ "
                     "directories (a site's meters keep their state there)%s\n",
                     dir.c_str(),
                     fs::exists(dir / Store::kFileName, ec)
                         ? "; it is one meter's state directory (openbcpm events reads it)"
                         : "");
        return 1;
    }
    std::sort(rows.begin(), rows.end(),
              [](const Row& a, const Row& b) { return a.index < b.index; });

    std::optional<Config> site;
    if (!options.config_file.empty()) site = load_config_file(options.config_file);  // exit 2
    for (Row& row : rows) {
        if (!site) continue;
        if (!site->fleet) {
            if (row.index == 0) row.config = *site;
        } else if (row.index < site->fleet->count) {
            row.config = fleet_meter(*site, row.index);
        }
    }
    const ModelInfo default_model = default_config().settings.model;
    auto model_of = [&](const Row& row) {
        return row.config ? row.config->settings.model : default_model;
    };

    for (Row& row : rows) {
        if (!fs::exists(row.dir / Store::kFileName, ec)) continue;
        row.first = read_store(row.dir, model_of(row));
    }
    const bool two_reads = options.interval > 0.0;
    if (two_reads) {
        std::this_thread::sleep_for(std::chrono::duration<double>(options.interval));
        for (Row& row : rows) {
            if (!fs::exists(row.dir / Store::kFileName, ec) || !row.first.error.empty()) continue;
            row.second = read_store(row.dir, model_of(row));
        }
    }

    bool damaged = false;
    for (Row& row : rows) {
        const StoreRead& last =
            two_reads && row.second.error.empty() && row.second.time ? row.second : row.first;
        if (!fs::exists(row.dir / Store::kFileName, ec)) {
            row.state = "no store (never started)";
        } else if (row.first.damaged || row.second.damaged) {
            damaged = true;
            row.state = "damaged: " + (row.first.damaged ? row.first.error : row.second.error);
        } else if (!row.first.error.empty() || !row.second.error.empty()) {
            row.state =
                "unreadable: " + (row.first.error.empty() ? row.second.error : row.first.error);
        } else if (!two_reads) {
            row.state = "-";
        } else if (row.first.time && row.second.time && *row.second.time > *row.first.time) {
            row.state = "running";
            row.kw =
                (row.second.kwh - row.first.kwh) * 3600.0 / (*row.second.time - *row.first.time);
        } else {
            row.state = "stopped";
        }
        if (&last != &row.first) row.first = last;  // the newest read is the one shown
    }

    const bool have_config = site.has_value();
    if (options.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const Row& row : rows) {
            const StoreRead& r = row.first;
            nlohmann::json j = {{"meter", row.index}, {"state", row.state}};
            const bool read = r.error.empty() && fs::exists(row.dir / Store::kFileName, ec);
            j["address"] = !r.address.empty() ? nlohmann::json(r.address)
                           : row.config ? nlohmann::json(row.config->settings.gateway.ip_address)
                                        : nlohmann::json(nullptr);
            j["serial_number"] = row.config
                                     ? nlohmann::json(fmt::format(
                                           "{:08X}", row.config->settings.identity.serial_number))
                                     : nlohmann::json(nullptr);
            j["model"] = row.config ? nlohmann::json(row.config->settings.model.model_name())
                                    : nlohmann::json(nullptr);
            j["device_id_offset"] =
                r.device_id_offset ? nlohmann::json(*r.device_id_offset) : nlohmann::json(nullptr);
            j["latched_events"] = read ? nlohmann::json(r.latched) : nlohmann::json(nullptr);
            j["kw"] = row.kw ? nlohmann::json(*row.kw) : nlohmann::json(nullptr);
            j["kwh"] = read ? nlohmann::json(r.kwh) : nlohmann::json(nullptr);
            out.push_back(std::move(j));
        }
        std::cout << out.dump(1) << "\n";
        return damaged ? 3 : 0;
    }
    std::printf("%-5s  %-15s  %-8s  %-8s  %-10s  %7s  %10s  %12s  %s\n", "METER", "ADDRESS",
                "SERIAL", "MODEL", "BACNET", "LATCHED", "KW", "KWH", "STATE");
    for (const Row& row : rows) {
        const StoreRead& r = row.first;
        const bool read = r.error.empty() && fs::exists(row.dir / Store::kFileName, ec);
        const std::string address = !r.address.empty() ? r.address
                                    : row.config       ? row.config->settings.gateway.ip_address
                                                       : "-";
        const std::string serial =
            row.config ? fmt::format("{:08X}", row.config->settings.identity.serial_number) : "-";
        const std::string model = row.config ? row.config->settings.model.model_name() : "-";
        const std::string bacnet = r.device_id_offset ? std::to_string(*r.device_id_offset) : "-";
        const std::string latched = read ? std::to_string(r.latched) : "-";
        const std::string kw = row.kw ? fmt::format("{:.3f}", *row.kw) : "-";
        const std::string kwh = read ? fmt::format("{:.3f}", r.kwh) : "-";
        std::printf("%04d   %-15s  %-8s  %-8s  %-10s  %7s  %10s  %12s  %s\n", row.index,
                    address.c_str(), serial.c_str(), model.c_str(), bacnet.c_str(), latched.c_str(),
                    kw.c_str(), kwh.c_str(), row.state.c_str());
    }
    if (!have_config)
        std::printf(
            "(serial numbers and models are not stored: give the site's configuration "
            "with -c to list them)\n");
    return damaged ? 3 : 0;
}

}  // namespace openbcpm
