#include "device/kept_loads.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "core/device_model.hpp"
#include "storage/store.hpp"

namespace openbcpm {

namespace {
KeptLoad kept_from_json(const nlohmann::json& j) {
    if (!j.is_object()) throw std::runtime_error("an entry is not an object");
    const auto& p = j.at("panel");
    const auto& c = j.at("channel");
    const auto& a = j.at("amps");
    if (!p.is_number_integer() || !c.is_number_integer() || !a.is_number())
        throw std::runtime_error("panel, channel and amps must be numbers");
    KeptLoad k{p.get<int>(), c.get<int>(), a.get<double>(), std::nullopt};
    if (k.panel < 1 || k.panel > kMaxPanels || k.channel < 1 || k.channel > kChannelsPerPanel)
        throw std::runtime_error("panel or channel out of range");
    if (!(k.amps >= 0.0 && k.amps <= 10000.0)) throw std::runtime_error("amps out of range");
    if (auto it = j.find("pf"); it != j.end() && !it->is_null()) {
        if (!it->is_number()) throw std::runtime_error("pf must be a number");
        const double pf = it->get<double>();
        if (!(pf >= -1.0 && pf <= 1.0)) throw std::runtime_error("pf out of range");
        k.pf = pf;
    }
    return k;
}
}  // namespace

std::vector<KeptLoad> load_kept_loads(const std::filesystem::path& dir, std::string* damaged) {
    const std::filesystem::path path = dir / kKeptLoadsFile;
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::ostringstream text;
    text << in.rdbuf();
    std::vector<KeptLoad> loads;
    try {
        const nlohmann::json j = nlohmann::json::parse(text.str());
        if (!j.is_object() || !j.contains("loads") || !j["loads"].is_array())
            throw std::runtime_error("no \"loads\" array");
        for (const auto& e : j["loads"])
            loads.push_back(kept_from_json(e));
        return loads;
    } catch (const std::exception& e) {
        const std::filesystem::path aside = path.string() + ".damaged";
        std::error_code ec;
        std::filesystem::rename(path, aside, ec);
        spdlog::error("{}: damaged ({}); set aside as {}{}, no simulator loads kept", path.string(),
                      e.what(), aside.string(), ec ? " failed: " + ec.message() : "");
        if (damaged) *damaged = e.what();
        return {};
    }
}

void save_kept_loads(const std::filesystem::path& dir, const std::vector<KeptLoad>& loads) {
    const std::filesystem::path path = dir / kKeptLoadsFile;
    if (loads.empty()) {
        std::error_code ec;
        std::filesystem::remove(path, ec);
        if (ec) throw std::runtime_error(path.string() + ": " + ec.message());
        return;
    }
    nlohmann::json list = nlohmann::json::array();
    for (const KeptLoad& k : loads) {
        nlohmann::json e{{"panel", k.panel}, {"channel", k.channel}, {"amps", k.amps}};
        if (k.pf) e["pf"] = *k.pf;
        list.push_back(std::move(e));
    }
    write_private_file(path, nlohmann::json{{"loads", list}}.dump(1) + "\n");
}

}  // namespace openbcpm
