// The metering and simulation hot paths allocate nothing: counted by replacing
// the global allocation functions in this test executable.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>

#include "../counting_new.hpp"
#include "config/config.hpp"
#include "metering/meter.hpp"
#include "sources/simulator.hpp"

using namespace openbcpm;

TEST(HotPath, MeteringAllocatesNothing) {
    const Config cfg = default_config();
    std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> ct{};
    for (int p = 1; p <= kMaxPanels; ++p)
        ct[static_cast<size_t>(p - 1)] = cfg.settings.panel(p).ct_size;
    PanelSimulator sim(cfg.simulation, cfg.settings.model, ct);
    Meter meter(cfg.settings.model, metering_config(cfg.settings), 60.0);
    std::vector<SampleBlock> blocks(40);
    for (auto& b : blocks)
        sim.read(b);
    uint64_t windows = 0;
    counting = true;
    for (const SampleBlock& b : blocks) {
        meter.process(b, [&](const MeterSnapshot&) { ++windows; });
        meter.events().drain();
    }
    meter.apply(ResetCommand{1, ResetOp::NewSubinterval});
    meter.apply(ResetCommand{0, ResetOp::ClearMaxima});
    counting = false;
    EXPECT_GT(windows, 15u);
    EXPECT_EQ(allocations.load(), 0);
}

// So does the simulator, blocks and run-time controls alike.
TEST(HotPath, SimulatingAllocatesNothing) {
    const Config cfg = default_config();
    std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> ct{};
    for (int p = 1; p <= kMaxPanels; ++p)
        ct[static_cast<size_t>(p - 1)] = cfg.settings.panel(p).ct_size;
    PanelSimulator sim(cfg.simulation, cfg.settings.model, ct);
    auto block = std::make_unique<SampleBlock>();
    allocations = 0;
    counting = true;
    for (int b = 0; b < 40; ++b) {
        sim.read(*block);
        if (b == 10) sim.set_load(1, 40, 7.5, 0.9);  // a new shape
        if (b == 20) sim.trip(1, 40);
        if (b == 25) sim.restore(1, 40);
        if (b == 30) sim.voltage_event(0b001, 0.8, 0.5);
    }
    counting = false;
    EXPECT_EQ(allocations.load(), 0);
    EXPECT_GT(sim.load_amps(1, 40), 7.0);
}
