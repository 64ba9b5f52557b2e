// The simulator's parts and its timing rules: the harmonic basis (phasor
// rotation) against direct cos/sin over an hour, the noise generator's
// statistics, shared load shapes against per-channel generation, and where in
// the sample stream scenario events take effect.
#include "sources/simulator.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <numbers>
#include <vector>

#include "sources/harmonic_basis.hpp"
#include "sources/noise.hpp"

using namespace openbcpm;

namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kDeg = std::numbers::pi / 180.0;
constexpr double kFloor = 0.005;  // the CT's noise floor, A RMS (docs/simulator.md)

std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> ct_sizes() {
    std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> ct{};
    for (auto& p : ct)
        p.fill(100);
    return ct;
}

// No voltage harmonics, no relative noise: what is left on a current input is
// its load and the CT's 5 mA floor.
SimulationConfig quiet_supply() {
    SimulationConfig c;
    c.voltage_noise = 0.0;
    c.current_noise = 0.0;
    return c;
}

LoadSpec load(int channel, double amps, double pf = 1.0) {
    LoadSpec l;
    l.channel = channel;
    l.amps = amps;
    l.pf = pf;
    return l;
}

ScenarioEvent event(double at, ScenarioAction action, int channel = 0) {
    ScenarioEvent e;
    e.at = at;
    e.action = action;
    e.channel = channel;
    return e;
}

// Every block of `blocks` of a simulator (copies: a block is 96 KB).
std::vector<SampleBlock> run(const SimulationConfig& sc, int blocks) {
    PanelSimulator sim(sc, ModelInfo{}, ct_sizes());
    std::vector<SampleBlock> out(static_cast<size_t>(blocks));
    for (auto& b : out)
        sim.read(b);
    return out;
}

const std::array<float, kBlockSamples>& current(const SampleBlock& b, int channel, int panel = 1) {
    return b.current[static_cast<size_t>(panel - 1)][static_cast<size_t>(channel - 1)];
}

double rms(const std::array<float, kBlockSamples>& x) {
    double s = 0.0;
    for (float v : x)
        s += static_cast<double>(v) * static_cast<double>(v);
    return std::sqrt(s / static_cast<double>(x.size()));
}

// Phase of the fundamental at sample n since the start, at a constant frequency.
double phase_at(double frequency, uint64_t n) {
    const long double turns =
        static_cast<long double>(frequency) * static_cast<long double>(n) / kSampleRate;
    return static_cast<double>((turns - std::floor(turns)) * 2.0L *
                               std::numbers::pi_v<long double>);
}

}  // namespace

// The basis is rotated sample by sample from an exact start each block: after
// an hour (36 000 blocks) it still matches cos and sin of the exact phase.
TEST(HarmonicBasis, RotationDoesNotDriftOverAnHour) {
    HarmonicBasis basis;
    for (int h : {1, 3, 25})
        basis.use(h);
    const double f = 59.97;
    double worst = 0.0, worst_norm = 0.0;
    const uint64_t blocks = 36000;
    for (uint64_t b = 0; b < blocks; ++b) {
        basis.next_block(f, kBlockSamples);
        if (b % 3000 != 2999) continue;
        for (int h : {1, 3, 25}) {
            for (size_t k = 0; k < kBlockSamples; ++k) {
                const double theta = static_cast<double>(h) * phase_at(f, b * kBlockSamples + k);
                const double c = static_cast<double>(basis.cos(h)[k]);
                const double s = static_cast<double>(basis.sin(h)[k]);
                worst =
                    std::max({worst, std::abs(c - std::cos(theta)), std::abs(s - std::sin(theta))});
                worst_norm = std::max(worst_norm, std::abs(c * c + s * s - 1.0));
            }
        }
    }
    // Float output: half an ulp of 1 is 6e-8; the phase after an hour is good to 1e-10 rad.
    EXPECT_LT(worst, 2e-6);
    EXPECT_LT(worst_norm, 1e-6);
}

TEST(HarmonicBasis, FrequencyStepKeepsThePhaseContinuous) {
    HarmonicBasis basis;
    basis.use(1);
    basis.next_block(60.0, kBlockSamples);
    const double before = basis.phase();  // at the first sample of the next block
    basis.next_block(50.0, kBlockSamples);
    EXPECT_NEAR(static_cast<double>(basis.cos(1)[0]), std::cos(before), 1e-6);
    EXPECT_NEAR(static_cast<double>(basis.sin(1)[0]), std::sin(before), 1e-6);
    // And turns at 50 Hz from there.
    const double step = kTwoPi * 50.0 / kSampleRate;
    EXPECT_NEAR(static_cast<double>(basis.cos(1)[100]), std::cos(before + 100 * step), 1e-6);
}

TEST(NoiseGenerator, ZeroMeanUnitVarianceBoundedAndUncorrelated) {
    NoiseGenerator g(42);
    std::vector<float> x(1 << 20);
    g.fill(x.data(), x.size());
    double sum = 0.0, sq = 0.0, lag1 = 0.0, lag8 = 0.0, fourth = 0.0;
    float top = 0.0f;
    for (size_t i = 0; i < x.size(); ++i) {
        const auto v = static_cast<double>(x[i]);
        sum += v;
        sq += v * v;
        fourth += v * v * v * v;
        top = std::max(top, std::abs(x[i]));
        if (i >= 1) lag1 += v * static_cast<double>(x[i - 1]);
        if (i >= 8) lag8 += v * static_cast<double>(x[i - 8]);  // the same lane one step before
    }
    const auto n = static_cast<double>(x.size());
    EXPECT_NEAR(sum / n, 0.0, 0.005);
    EXPECT_NEAR(sq / n, 1.0, 0.005);
    EXPECT_NEAR(lag1 / n, 0.0, 0.005);
    EXPECT_NEAR(lag8 / n, 0.0, 0.005);
    EXPECT_LE(top, NoiseGenerator::kBound);
    EXPECT_GT(top, 3.0f);  // the tails are there
    // Irwin-Hall of four: kurtosis 3 - 1.2 / 4 = 2.7 (a Gaussian's is 3).
    EXPECT_NEAR(fourth / n, 2.7, 0.02);
}

TEST(NoiseGenerator, DeterministicForASeed) {
    NoiseGenerator a(7), b(7), c(8);
    std::array<float, 512> x{}, y{}, z{};
    a.fill(x.data(), x.size());
    b.fill(y.data(), y.size());
    c.fill(z.data(), z.size());
    EXPECT_EQ(x, y);
    EXPECT_NE(x, z);
}

// Channels 1 and 2 sit on phase A (top feed): the same load on both is one
// shared shape. Every channel draws its noise whether loaded or not, so a
// channel's samples do not depend on which other channels are loaded: with a
// shared shape they must be exactly those of the channel loaded alone.
TEST(Simulator, SharedShapeGivesTheSamplesOfPerChannelGeneration) {
    SimulationConfig both = quiet_supply();
    LoadSpec l = load(1, 12.0, 0.8);
    l.harmonics = {{3, 0.1, 20.0}, {5, 0.05, -30.0}};
    both.loads = {l};
    l.channel = 2;
    both.loads.push_back(l);
    SimulationConfig first = both, second = both;
    first.loads = {both.loads[0]};
    second.loads = {both.loads[1]};
    const auto shared = run(both, 12);
    const auto alone1 = run(first, 12);
    const auto alone2 = run(second, 12);
    for (size_t b = 0; b < shared.size(); ++b) {
        EXPECT_EQ(current(shared[b], 1), current(alone1[b], 1)) << "block " << b;
        EXPECT_EQ(current(shared[b], 2), current(alone2[b], 2)) << "block " << b;
        EXPECT_EQ(shared[b].voltage, alone1[b].voltage) << "block " << b;
    }
    // Same shape, own noise: the two channels are not copies of each other.
    EXPECT_NE(current(shared[5], 1), current(shared[5], 2));
}

// The synthesised waveform against the load's formula, computed directly in
// double: within the CT's noise floor (bounded at 3.45 sigma) everywhere.
TEST(Simulator, WaveformFollowsTheLoadFormula) {
    SimulationConfig sc = quiet_supply();
    LoadSpec l = load(3, 10.0, 0.6);  // phase B, lagging
    l.harmonics = {{3, 0.2, 40.0}, {7, 0.1, -15.0}};
    sc.loads = {l};
    const auto blocks = run(sc, 40);
    const double i1 = 10.0 / std::sqrt(1.0 + 0.2 * 0.2 + 0.1 * 0.1);
    const double ia = -120.0 * kDeg - std::acos(0.6);
    double worst = 0.0;
    for (size_t b = 0; b < blocks.size(); ++b) {
        for (size_t k = 0; k < kBlockSamples; ++k) {
            const double theta = phase_at(60.0, b * kBlockSamples + k);
            const double expected =
                std::sqrt(2.0) *
                (i1 * std::cos(theta + ia) + i1 * 0.2 * std::cos(3 * theta + 3 * ia + 40.0 * kDeg) +
                 i1 * 0.1 * std::cos(7 * theta + 7 * ia - 15.0 * kDeg));
            worst =
                std::max(worst, std::abs(static_cast<double>(current(blocks[b], 3)[k]) - expected));
        }
    }
    EXPECT_LT(worst, kFloor * static_cast<double>(NoiseGenerator::kBound) + 1e-4);
    EXPECT_GT(worst, kFloor);  // the floor noise is there
}

// Events apply at the first block starting at or after their time: a change on
// a block edge lands whole on one side of it, one inside a block waits for the
// next block's start.
TEST(Simulator, EventsTakeEffectAtBlockEdges) {
    SimulationConfig sc = quiet_supply();
    sc.loads = {load(1, 5.0), load(2, 5.0), load(4, 8.0)};
    ScenarioEvent on_edge = event(1.0, ScenarioAction::SetLoad, 1);  // sample 2560: block 10
    on_edge.amps = 15.0;
    ScenarioEvent inside = event(1.05, ScenarioAction::SetLoad, 2);  // block 10, applies at 11
    inside.amps = 15.0;
    ScenarioEvent trip = event(0.5, ScenarioAction::Trip, 4);  // block 5
    ScenarioEvent sag = event(0.3, ScenarioAction::Sag);       // block 3, all phases
    sag.magnitude = 0.5;
    sag.duration = 0.4;  // ends at 0.7 s: block 7
    sc.events = {on_edge, inside, trip, sag};
    const auto blocks = run(sc, 14);
    // The RMS of a block (10.67 cycles) is within 1 % of the true RMS.
    auto near = [](double measured, double expected) {
        return std::abs(measured / expected - 1.0) < 0.01;
    };
    EXPECT_TRUE(near(rms(current(blocks[9], 1)), 5.0));
    EXPECT_TRUE(near(rms(current(blocks[10], 1)), 15.0));
    EXPECT_TRUE(near(rms(current(blocks[10], 2)), 5.0));
    EXPECT_TRUE(near(rms(current(blocks[11], 2)), 15.0));
    EXPECT_TRUE(near(rms(current(blocks[4], 4)), 8.0));
    EXPECT_LT(rms(current(blocks[5], 4)), 2 * kFloor);
    EXPECT_TRUE(near(rms(blocks[2].voltage[1]), 120.0));
    EXPECT_TRUE(near(rms(blocks[3].voltage[1]), 60.0));
    EXPECT_TRUE(near(rms(blocks[6].voltage[1]), 60.0));
    EXPECT_TRUE(near(rms(blocks[7].voltage[1]), 120.0));
}

// Within a block the envelope goes in a straight line from its value at the
// first sample to its value at the last: an inrush decays by those two points.
TEST(Simulator, InrushAndRampEnvelopesAtTheBlockEnds) {
    SimulationConfig sc = quiet_supply();
    LoadSpec surge = load(1, 10.0);
    surge.schedule.kind = ScheduleKind::Inrush;
    surge.schedule.inrush_multiplier = 5.0;
    surge.schedule.inrush_tau = 0.3;
    surge.schedule.inrush_at = 0.5;  // a block edge
    sc.loads = {surge, load(3, 2.0)};
    ScenarioEvent ramp = event(0.2, ScenarioAction::Ramp, 3);
    ramp.amps = 12.0;
    ramp.duration = 1.0;
    sc.events = {ramp};
    PanelSimulator sim(sc, ModelInfo{}, ct_sizes());
    auto block = std::make_unique<SampleBlock>();
    const double last = (kBlockSamples - 1) / kSampleRate;  // the last sample's offset
    for (int b = 0; b < 20; ++b) {
        sim.read(*block);
        const double t_last = block->start_time + last;
        const double inrush =
            t_last < 0.5 ? 0.0 : 10.0 * (1.0 + 4.0 * std::exp(-(t_last - 0.5) / 0.3));
        EXPECT_NEAR(sim.load_amps(1, 1), inrush, 1e-9) << "block " << b;
        const double ramp_amps = t_last < 0.2   ? 2.0
                                 : t_last > 1.2 ? 12.0
                                                : 2.0 + 10.0 * (t_last - 0.2) / 1.0;
        EXPECT_NEAR(sim.load_amps(1, 3), ramp_amps, 1e-9) << "block " << b;
        if (b == 4) {
            EXPECT_LT(rms(current(*block, 1)), 2 * kFloor);  // off until 0.5 s
        }
        if (b == 5) {
            // Switched on at the block's first sample: 50 A there, decaying.
            const double peak0 = std::abs(static_cast<double>(current(*block, 1)[0]));
            EXPECT_NEAR(peak0, 50.0 * std::sqrt(2.0), 0.05);
        }
    }
}

// At 50 and 60 Hz every block starts at phase 0, so the simulator keeps each
// load shape's samples (and the clean voltages) from block to block instead of
// making them again. A new shape (a power factor set at 0.5 s, another at
// 0.8 s: it takes the first one's place, let go at 0.5 s) and a new frequency
// (50 Hz at 1.0 s) must still show from their block on: the samples follow the
// formula of the load at every block, before and after each change.
TEST(Simulator, KeptShapesFollowAChangedShapeAndFrequency) {
    SimulationConfig sc = quiet_supply();
    sc.loads = {load(3, 10.0, 1.0)};  // phase B
    ScenarioEvent pf = event(0.5, ScenarioAction::SetLoad, 3);
    pf.amps = 10.0;
    pf.pf = 0.6;
    ScenarioEvent pf2 = pf;
    pf2.at = 0.8;
    pf2.pf = 0.8;
    ScenarioEvent f = event(1.0, ScenarioAction::SetFrequency);
    f.frequency = 50.0;
    sc.events = {pf, pf2, f};
    const auto blocks = run(sc, 20);
    const uint64_t switch_at = 2560;  // 1.0 s: 60 whole cycles, phase 0
    double worst_i = 0.0, worst_v = 0.0;
    for (size_t b = 0; b < blocks.size(); ++b) {
        const double ia = -120.0 * kDeg - (b < 5 ? 0.0 : std::acos(b < 8 ? 0.6 : 0.8));
        for (size_t k = 0; k < kBlockSamples; ++k) {
            const uint64_t n = b * kBlockSamples + k;
            const double theta = n < switch_at ? phase_at(60.0, n) : phase_at(50.0, n - switch_at);
            const double i = std::sqrt(2.0) * 10.0 * std::cos(theta + ia);
            const double v = std::sqrt(2.0) * 120.0 * std::cos(theta);
            worst_i =
                std::max(worst_i, std::abs(static_cast<double>(current(blocks[b], 3)[k]) - i));
            worst_v = std::max(worst_v, std::abs(static_cast<double>(blocks[b].voltage[0][k]) - v));
        }
    }
    EXPECT_LT(worst_i, kFloor * static_cast<double>(NoiseGenerator::kBound) + 1e-4);
    EXPECT_LT(worst_v, 1e-3);
}
