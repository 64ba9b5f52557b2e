#include "core/device_model.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "core/settings.hpp"

using namespace openbcpm;

namespace {
const StripConfiguration kAll[] = {StripConfiguration::TopFeed, StripConfiguration::BottomFeed,
                                   StripConfiguration::Sequential, StripConfiguration::OddEven};
char phase_letter(Phase p) {
    return kPhaseLetters[static_cast<size_t>(p)];
}
}  // namespace

TEST(Models, ChannelCountsPanelsAndStrips) {
    struct Row {
        int channels, panels, per_panel, strip;
    };
    for (Row r : {Row{24, 1, 24, 12}, Row{36, 1, 36, 18}, Row{42, 1, 42, 21}, Row{48, 2, 24, 12},
                  Row{72, 2, 36, 18}, Row{84, 2, 42, 21}}) {
        auto m = ModelInfo::from_channels(r.channels);
        ASSERT_TRUE(m) << r.channels;
        EXPECT_EQ(m->panels, r.panels);
        EXPECT_EQ(m->channels_per_panel, r.per_panel);
        EXPECT_EQ(m->strip_size, r.strip);
        EXPECT_EQ(m->has_panel(2), r.panels == 2);
        EXPECT_TRUE(m->has_channel(r.per_panel));
        EXPECT_EQ(m->has_channel(r.per_panel + 1), r.per_panel == 42);  // 43 is aux 1
        for (int aux = 43; aux <= 46; ++aux)
            EXPECT_TRUE(m->has_channel(aux));
    }
    EXPECT_FALSE(ModelInfo::from_channels(30));
    EXPECT_FALSE(ModelInfo::from_channels(0));
    EXPECT_EQ(ModelInfo::from_channels(84)->model_name(), "BCPME84");
}

// Every strip position of every configuration and strip size maps to a distinct
// channel 1..2n, and position_of inverts channel_at.
TEST(StripMapping, IsABijectionForEveryConfigurationAndStripSize) {
    for (StripConfiguration cfg : kAll) {
        for (int n : {12, 18, 21}) {
            std::set<int> seen;
            for (Strip s : {Strip::A, Strip::B}) {
                for (int p = 1; p <= n; ++p) {
                    const int ch = channel_at(cfg, n, {s, p});
                    EXPECT_GE(ch, 1);
                    EXPECT_LE(ch, 2 * n);
                    EXPECT_TRUE(seen.insert(ch).second)
                        << to_string(cfg) << " n=" << n << " dup " << ch;
                    const StripPosition back = position_of(cfg, n, ch);
                    EXPECT_EQ(back.strip, s);
                    EXPECT_EQ(back.position, p);
                }
            }
            EXPECT_EQ(seen.size(), static_cast<size_t>(2 * n));
        }
    }
}

// Figure 7 / appendix: top feed puts odd channels on strip A and even on B
// counting from the connector at the top; sequential puts 1..n on A.
TEST(StripMapping, MatchesTheConfigurationDiagrams) {
    EXPECT_EQ(channel_at(StripConfiguration::TopFeed, 21, {Strip::A, 1}), 1);
    EXPECT_EQ(channel_at(StripConfiguration::TopFeed, 21, {Strip::A, 21}), 41);
    EXPECT_EQ(channel_at(StripConfiguration::TopFeed, 21, {Strip::B, 1}), 2);
    EXPECT_EQ(channel_at(StripConfiguration::TopFeed, 21, {Strip::B, 21}), 42);
    // Bottom feed: the connectors are at the bottom, so position 1 is the last breaker.
    EXPECT_EQ(channel_at(StripConfiguration::BottomFeed, 21, {Strip::A, 1}), 41);
    EXPECT_EQ(channel_at(StripConfiguration::BottomFeed, 21, {Strip::A, 21}), 1);
    EXPECT_EQ(channel_at(StripConfiguration::BottomFeed, 21, {Strip::B, 1}), 42);
    EXPECT_EQ(channel_at(StripConfiguration::BottomFeed, 12, {Strip::B, 12}), 2);
    EXPECT_EQ(channel_at(StripConfiguration::Sequential, 21, {Strip::A, 21}), 21);
    EXPECT_EQ(channel_at(StripConfiguration::Sequential, 21, {Strip::B, 1}), 22);
    EXPECT_EQ(channel_at(StripConfiguration::Sequential, 18, {Strip::B, 18}), 36);
    // Odd/even: strip A top-fed on the odd row, strip B bottom-fed on the even row.
    EXPECT_EQ(channel_at(StripConfiguration::OddEven, 21, {Strip::A, 1}), 1);
    EXPECT_EQ(channel_at(StripConfiguration::OddEven, 21, {Strip::B, 1}), 42);
    EXPECT_EQ(channel_at(StripConfiguration::OddEven, 21, {Strip::B, 21}), 2);
}

// Appendix diagrams #8 and #9 (72/84-channel large panel, odd/even numbering):
// channel n of each half-panel carries the phase A, B, C, A, ... down each row.
TEST(DefaultPhase, OddEvenNumberingFollowsAppendixTables8And9) {
    // (channel, phase) pairs from the tables.
    const std::vector<std::pair<int, char>> odd{{1, 'A'},  {3, 'B'},  {5, 'C'},  {7, 'A'},
                                                {9, 'B'},  {11, 'C'}, {33, 'B'}, {35, 'C'},
                                                {37, 'A'}, {39, 'B'}, {41, 'C'}};
    const std::vector<std::pair<int, char>> even{{2, 'A'},  {4, 'B'},  {6, 'C'},  {8, 'A'},
                                                 {10, 'B'}, {12, 'C'}, {36, 'C'}, {38, 'A'},
                                                 {40, 'B'}, {42, 'C'}};
    for (StripConfiguration cfg : {StripConfiguration::TopFeed, StripConfiguration::BottomFeed,
                                   StripConfiguration::OddEven}) {
        for (auto [ch, ph] : odd)
            EXPECT_EQ(phase_letter(default_phase(cfg, ch)), ph) << ch;
        for (auto [ch, ph] : even)
            EXPECT_EQ(phase_letter(default_phase(cfg, ch)), ph) << ch;
    }
}

// Point map "42 single-phase meters", top feed: meters 1,2 = A; 3,4 = B; 5,6 = C; ...
TEST(DefaultPhase, TopFeedMatchesThePointMapPhasingTable) {
    const char expected[] = "AABBCCAABBCCAABBCCAABBCCAABBCCAABBCCAABBCC";
    for (int ch = 1; ch <= 42; ++ch) {
        EXPECT_EQ(phase_letter(default_phase(StripConfiguration::TopFeed, ch)), expected[ch - 1])
            << ch;
    }
}

// Diagrams #22, #24, #27 and the point map's sequential table: A, B, C by channel,
// restarting at A on each dual-row half (19 of a 36, 22 of a 42, 1 of panel 2).
TEST(DefaultPhase, SequentialNumberingFollowsAppendixTables22_24_27) {
    for (int ch = 1; ch <= 42; ++ch) {
        EXPECT_EQ(phase_letter(default_phase(StripConfiguration::Sequential, ch)),
                  "ABC"[(ch - 1) % 3])
            << ch;
    }
    EXPECT_EQ(default_phase(StripConfiguration::Sequential, 19), Phase::A);  // #24 second row
    EXPECT_EQ(default_phase(StripConfiguration::Sequential, 22), Phase::A);  // #25/#28 second row
    EXPECT_EQ(default_phase(StripConfiguration::Sequential, 13),
              Phase::A);  // #23 second row of a 24
}

TEST(AuxInputs, PhasesAndNeutral) {
    EXPECT_EQ(aux_phase(43), Phase::A);
    EXPECT_EQ(aux_phase(44), Phase::B);
    EXPECT_EQ(aux_phase(45), Phase::C);
    EXPECT_FALSE(aux_phase(46));  // neutral: no power
    EXPECT_FALSE(aux_phase(42));
}

TEST(Adjacency, FollowsTheRowsOfTheNumbering) {
    EXPECT_TRUE(channels_adjacent(StripConfiguration::TopFeed, 21, 1, 3));
    EXPECT_FALSE(channels_adjacent(StripConfiguration::TopFeed, 21, 1, 2));
    EXPECT_TRUE(channels_adjacent(StripConfiguration::Sequential, 21, 1, 2));
    EXPECT_FALSE(
        channels_adjacent(StripConfiguration::Sequential, 21, 21, 22));  // ends of the two strips
    EXPECT_TRUE(channels_adjacent(StripConfiguration::Sequential, 21, 22, 23));
    EXPECT_TRUE(channels_adjacent(StripConfiguration::TopFeed, 21, 43, 44));
    EXPECT_FALSE(channels_adjacent(StripConfiguration::TopFeed, 21, 45, 46));  // neutral
    EXPECT_FALSE(channels_adjacent(StripConfiguration::TopFeed, 21, 42, 43));
    EXPECT_FALSE(
        channels_adjacent(StripConfiguration::TopFeed, 12, 23, 25));  // beyond a 24-channel panel

    const int three[] = {5, 1, 3};
    EXPECT_TRUE(can_form_logical_circuit(StripConfiguration::TopFeed, 21, three));
    EXPECT_FALSE(can_form_logical_circuit(StripConfiguration::Sequential, 21, three));
    const int gap[] = {1, 5};
    EXPECT_FALSE(can_form_logical_circuit(StripConfiguration::TopFeed, 21, gap));
    const int four[] = {1, 3, 5, 7};
    EXPECT_FALSE(can_form_logical_circuit(StripConfiguration::TopFeed, 21, four));
    const int mains[] = {43, 44, 45};
    EXPECT_TRUE(can_form_logical_circuit(StripConfiguration::Sequential, 21, mains));
    const int neutral[] = {46};
    EXPECT_FALSE(can_form_logical_circuit(StripConfiguration::TopFeed, 21, neutral));
}

TEST(EffectivePhase, UserAssignmentReplacesTheDefaultRotation) {
    PanelSettings p;
    EXPECT_EQ(effective_phase(p, 3), Phase::B);
    EXPECT_EQ(effective_phase(p, 44), Phase::B);
    p.phase_assignment[2] = 2;                   // channel 3 -> C
    EXPECT_EQ(effective_phase(p, 3), Phase::B);  // not enabled yet
    p.user_defined |= user_bits::kUserPhaseAssignment;
    EXPECT_EQ(effective_phase(p, 3), Phase::C);
    EXPECT_EQ(effective_phase(p, 1), Phase::A);
    EXPECT_EQ(effective_phase(p, 4), Phase::A);  // written default 0 = A once enabled
}

TEST(Wiring, NamesRoundTrip) {
    for (int i = 0; i < 5; ++i) {
        const auto w = static_cast<Wiring>(i);
        EXPECT_EQ(wiring_from_string(to_string(w)), w);
    }
    EXPECT_EQ(phases_of(Wiring::SplitPhase3Wire), 2);
    EXPECT_EQ(phases_of(Wiring::SinglePhase2Wire), 1);
    EXPECT_EQ(phases_of(Wiring::HighLegDelta), 3);
    for (StripConfiguration c : kAll)
        EXPECT_EQ(strip_configuration_from_string(to_string(c)), c);
}
