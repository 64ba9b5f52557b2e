#include "sources/replay.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "metering/meter.hpp"
#include "sources/simulator.hpp"

using namespace openbcpm;

namespace {
std::string temp_file(const char* name) {
    return "/tmp/openbcpm-" + std::to_string(getpid()) + "-" + name;
}

std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> ct_sizes() {
    std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> ct{};
    for (auto& p : ct)
        p.fill(100);
    return ct;
}
}  // namespace

// A recording of the simulator, replayed, meters exactly what the simulator did.
TEST(Replay, MetersTheSameAsTheSimulatorItRecorded) {
    const std::string path = temp_file("rec.obr");
    SimulationConfig sc;
    LoadSpec l;
    l.channel = 5;
    l.amps = 12.5;
    l.pf = 0.85;
    l.harmonics = {{3, 0.05, 0.0}};
    sc.loads = {l};
    Settings settings;
    const ModelInfo model = settings.model;
    auto block = std::make_unique<SampleBlock>();
    MeterSnapshot direct;
    {
        PanelSimulator sim(sc, model, ct_sizes());
        RecordingHeader h;
        RecordingWriter writer(path, h);
        Meter meter(model, metering_config(settings), 60.0);
        for (int b = 0; b < 30; ++b) {
            sim.read(*block);
            writer.write(*block);
            meter.process(*block, [&](const MeterSnapshot& s) { direct = s; });
        }
        writer.finish();
    }
    ReplaySource replay(path, false);
    EXPECT_EQ(replay.header().frames, 30u * kBlockSamples);
    EXPECT_EQ(replay.info().kind, "replay");
    Meter meter(model, metering_config(settings), 60.0);
    MeterSnapshot replayed;
    int blocks = 0;
    while (replay.read(*block)) {
        ++blocks;
        meter.process(*block, [&](const MeterSnapshot& s) { replayed = s; });
    }
    EXPECT_EQ(blocks, 30);
    EXPECT_EQ(replayed.sequence, direct.sequence);
    EXPECT_DOUBLE_EQ(replayed.panel[0].channel[4].current, direct.panel[0].channel[4].current);
    EXPECT_DOUBLE_EQ(replayed.panel[0].channel[4].kwh, direct.panel[0].channel[4].kwh);
    EXPECT_NEAR(replayed.panel[0].channel[4].current, 12.5, 0.02);
    std::remove(path.c_str());
}

TEST(Replay, LoopsWhenAskedToAndKeepsTimeGoing) {
    const std::string path = temp_file("loop.obr");
    {
        PanelSimulator sim(SimulationConfig{}, Settings{}.model, ct_sizes());
        RecordingWriter writer(path, RecordingHeader{});
        auto block = std::make_unique<SampleBlock>();
        sim.read(*block);
        writer.write(*block);
    }
    ReplaySource replay(path, true);
    auto block = std::make_unique<SampleBlock>();
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(replay.read(*block));
    EXPECT_DOUBLE_EQ(block->start_time, 2.0 * kBlockSamples / kSampleRate);
    std::remove(path.c_str());
}

TEST(Replay, RefusesMalformedFiles) {
    const std::string path = temp_file("bad.obr");
    auto write = [&](const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; };
    write("not a recording");
    EXPECT_THROW(ReplaySource(path, false), RecordingError);
    write(std::string("OBCPMR01") + std::string("\x05\x00\x00\x00", 4) + "{bad}");
    EXPECT_THROW(ReplaySource(path, false), RecordingError);
    write(std::string("OBCPMR01") + std::string("\xff\xff\xff\x7f", 4));
    EXPECT_THROW(ReplaySource(path, false), RecordingError);
    EXPECT_THROW(ReplaySource("/nonexistent/x.obr", false), RecordingError);
    EXPECT_THROW(
        parse_recording_header(R"({"sample_rate": 8000, "panels": 2, "channels_per_panel": 46,
        "voltage_inputs": 3, "nominal_frequency": 60, "frames": 0})"),
        RecordingError);
    std::remove(path.c_str());
}
