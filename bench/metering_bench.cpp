// Metering throughput: how many full 92-channel meters one core meters in real
// time. The samples are generated once, outside the timed loop, so this times
// the metering hot path alone (windows, demand, maxima, energy, groups, events).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "config/config.hpp"
#include "metering/meter.hpp"
#include "sources/simulator.hpp"

using namespace openbcpm;

namespace {

constexpr int kBlocks = 50;                                                  // 5 s of samples
constexpr double kInputs = kVoltageInputs + kMaxPanels * kChannelsPerPanel;  // 95 sampled inputs

const std::vector<SampleBlock>& recorded_blocks() {
    static const std::vector<SampleBlock> blocks = [] {
        const Config cfg = default_config();
        std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> ct{};
        for (int p = 1; p <= kMaxPanels; ++p)
            ct[static_cast<size_t>(p - 1)] = cfg.settings.panel(p).ct_size;
        PanelSimulator sim(cfg.simulation, cfg.settings.model, ct);
        std::vector<SampleBlock> out(kBlocks);
        for (auto& b : out)
            sim.read(b);
        return out;
    }();
    return blocks;
}

void BM_MeterFull84ChannelPanel(benchmark::State& state) {
    const Config cfg = default_config();
    const auto& blocks = recorded_blocks();
    Meter meter(cfg.settings.model, metering_config(cfg.settings), 60.0);
    uint64_t windows = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        for (const SampleBlock& b : blocks) {
            meter.process(b, [&](const MeterSnapshot& s) { benchmark::DoNotOptimize(s.sequence); });
        }
        windows = meter.snapshot().sequence;
        meter.events().drain();
    }
    const double seconds_per_iteration = kBlocks * static_cast<double>(kBlockSamples) / kSampleRate;
    // Metered seconds per wall second = meters this core keeps in real time.
    state.counters["meters_per_core"] =
        benchmark::Counter(seconds_per_iteration * static_cast<double>(state.iterations()),
                           benchmark::Counter::kIsRate);
    state.counters["samples_per_s"] = benchmark::Counter(
        seconds_per_iteration * kSampleRate * kInputs * static_cast<double>(state.iterations()),
        benchmark::Counter::kIsRate);
    state.counters["windows"] = static_cast<double>(windows);
}
BENCHMARK(BM_MeterFull84ChannelPanel)->Unit(benchmark::kMillisecond);

void BM_SimulatorFull84ChannelPanel(benchmark::State& state) {
    const Config cfg = default_config();
    std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> ct{};
    for (int p = 1; p <= kMaxPanels; ++p)
        ct[static_cast<size_t>(p - 1)] = cfg.settings.panel(p).ct_size;
    PanelSimulator sim(cfg.simulation, cfg.settings.model, ct);
    auto block = std::make_unique<SampleBlock>();
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        sim.read(*block);
        benchmark::DoNotOptimize(block->current[0][0][0]);
    }
    state.counters["panels_per_core"] = benchmark::Counter(
        static_cast<double>(kBlockSamples) / kSampleRate * static_cast<double>(state.iterations()),
        benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimulatorFull84ChannelPanel)->Unit(benchmark::kMicrosecond);

}  // namespace
