// The executable's command line: help, a refused config (exit 2 with file,
// line, key and reason), simulate --json, progress of long commands.
#include <gtest/gtest.h>
#include <pty.h>

#include <nlohmann/json.hpp>

#include "process.hpp"

using namespace openbcpm::test;

namespace {

// Runs a command with its stdin, stdout and stderr on a pseudo-terminal, as
// from an interactive shell: its exit status, everything it wrote, how long it took.
int run_on_terminal(const std::vector<std::string>& args, std::string* output, double* seconds) {
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const auto start = std::chrono::steady_clock::now();
    int terminal = -1;
    const pid_t pid = ::forkpty(&terminal, nullptr, nullptr, nullptr);
    if (pid < 0) return -1;
    if (pid == 0) {
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(terminal, buf, sizeof buf)) > 0)  // EIO once the command has gone
        output->append(buf, static_cast<size_t>(n));
    ::close(terminal);
    int st = 0;
    ::waitpid(pid, &st, 0);
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

}  // namespace

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

// A command that runs for more than a second shows how far it is on stderr
// when stderr is a terminal ("\rsimulate:  42% (168 of 400 s metered)", the
// line cleared at the end); into a file or a pipe it writes its result only.
TEST(Cli, LongCommandsShowProgressOnlyWhenStderrIsATerminal) {
    TempDir dir;
    struct Case {
        std::string what, unit;
        std::vector<std::string> args;  // without --seconds
        double seconds;
    };
    for (Case c : {Case{"simulate", "s metered)", {binary(), "simulate"}, 25.0},
                   Case{"record", "s recorded)", {binary(), "record", "-o", "/dev/null"}, 50.0}}) {
        // On a terminal. Progress starts after a second: the run is doubled until
        // it lasts long enough (a sanitizer build gets there at once, a Release
        // build after a few doublings, neither runs much longer than needed).
        std::string shown;
        double took = 0.0;
        for (int tries = 0; tries < 12; ++tries) {
            std::vector<std::string> args = c.args;
            args.insert(args.end(), {"--seconds", std::to_string(c.seconds)});
            shown.clear();
            ASSERT_EQ(run_on_terminal(args, &shown, &took), 0) << shown;
            if (took >= 1.6) break;
            c.seconds *= 2;
        }
        ASSERT_GE(took, 1.6) << c.what << " ended too soon to show progress";
        EXPECT_NE(shown.find("\r" + c.what + ": "), std::string::npos) << shown;
        EXPECT_NE(shown.find(c.unit), std::string::npos) << shown;
        EXPECT_NE(shown.find("\r\033[K"), std::string::npos) << "the line is cleared at the end";
        // Not a terminal (a file here): the same run writes no progress at all.
        std::vector<std::string> args = c.args;
        args.insert(args.end(), {"--seconds", std::to_string(c.seconds)});
        std::string out;
        const auto start = std::chrono::steady_clock::now();
        ASSERT_EQ(run(args, &out, dir.path), 0) << out;
        EXPECT_GE(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                  1.0)
            << "long enough that a terminal would have shown progress";
        EXPECT_EQ(out.find(c.what + ":"), std::string::npos) << out;
        EXPECT_EQ(out.find('\r'), std::string::npos) << out;
        EXPECT_EQ(out.find('\033'), std::string::npos) << out;
    }
}
