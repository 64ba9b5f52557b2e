// The executable's command line: help, a refused config (exit 2 with file,
// line, key and reason), simulate --json.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "process.hpp"

using namespace openbcpm::test;

TEST(Cli, HelpListsTheCommands) {
    TempDir dir;
    std::string out;
    EXPECT_EQ(run({binary(), "--help"}, &out, dir.path), 0);
    for (const char* cmd : {"run", "simulate", "record", "config", "events", "factory-reset"}) {
        EXPECT_NE(out.find(cmd), std::string::npos) << cmd;
    }
}

TEST(Cli, ABadConfigIsRefusedWithFileLineKeyReasonAndStatusTwo) {
    TempDir dir;
    const auto cfg = dir.path / "bad.toml";
    std::ofstream(cfg) << "[device]\nchannels = 84\n\n[panel.1]\nconfiguration = \"sideways\"\n";
    std::string out;
    EXPECT_EQ(
        run({binary(), "run", "--config", cfg.string(), "--state-dir", (dir.path / "s").string()},
            &out, dir.path),
        2);
    EXPECT_NE(
        out.find(
            cfg.string() +
            ":5: panel.1.configuration: must be top-feed, bottom-feed, sequential or odd-even"),
        std::string::npos)
        << out;
    EXPECT_FALSE(std::filesystem::exists(dir.path / "s"));  // nothing was touched
    std::ofstream(cfg) << "[simulation\n";
    EXPECT_EQ(
        run({binary(), "simulate", "--config", cfg.string(), "--seconds", "1"}, &out, dir.path), 2);
    EXPECT_NE(out.find(":1:"), std::string::npos) << out;
}

TEST(Cli, SimulateJsonHasTheContractFields) {
    TempDir dir;
    const auto cfg = dir.path / "c.toml";
    std::ofstream(cfg) << R"(
[device]
channels = 84
[[simulation.load]]
panel = 1
channel = 5
amps = 12.5
pf = 0.85
)";
    std::string out;
    ASSERT_EQ(run({binary(), "simulate", "--config", cfg.string(), "--seconds", "30", "--json"},
                  &out, dir.path),
              0);
    const auto j = nlohmann::json::parse(out);
    ASSERT_EQ(j["panels"].size(), 2u);
    const auto& p1 = j["panels"][0];
    EXPECT_EQ(p1["panel"], 1);
    for (const char* k : {"an", "bn", "cn", "ab", "bc", "ca", "frequency"})
        EXPECT_TRUE(p1["voltage"].contains(k)) << k;
    EXPECT_NEAR(p1["voltage"]["an"].get<double>(), 120.0, 0.5);
    EXPECT_NEAR(p1["voltage"]["frequency"].get<double>(), 60.0, 0.01);
    const auto& ch5 = p1["channels"][4];
    EXPECT_EQ(ch5["channel"], 5);
    for (const char* k : {"current", "angle", "kw", "kva", "pf", "kwh", "current_demand",
                          "kw_demand", "max_current", "max_current_demand", "max_kw_demand"}) {
        EXPECT_TRUE(ch5.contains(k)) << k;
    }
    EXPECT_NEAR(ch5["current"].get<double>(), 12.5, 0.05);
    EXPECT_NEAR(ch5["pf"].get<double>(), 0.85, 0.005);
    EXPECT_NEAR(ch5["kw"].get<double>(), 120.0 * 12.5 * 0.85 / 1000.0, 0.01);
    EXPECT_NEAR(ch5["kwh"].get<double>(), 1.275 * 30.0 / 3600.0, 0.0003);
    // Channel 5 is on phase C: 120 degrees, 31.8 degrees lagging.
    EXPECT_NEAR(ch5["angle"].get<double>(), 120.0 - 31.79, 0.2);
}
