// The BCPME device model: models, panels, strips, channels, phases.
//
// Channel numbers are the meter's own: 1..42 are branch channels of a panel
// (as many as the model has), 43..46 are the panel's aux inputs (aux 1..4).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace openbcpm {

inline constexpr int kMaxPanels = 2;
inline constexpr int kMaxBranchChannels = 42;                              // per panel
inline constexpr int kAuxInputs = 4;                                       // per panel
inline constexpr int kChannelsPerPanel = kMaxBranchChannels + kAuxInputs;  // 46
inline constexpr int kFirstAuxChannel = kMaxBranchChannels + 1;            // 43
inline constexpr int kNeutralAuxChannel = kChannelsPerPanel;               // 46 (aux 4)
inline constexpr int kVoltageInputs = 3;

enum class Phase : uint8_t { A = 0, B = 1, C = 2 };
inline constexpr std::array<char, 3> kPhaseLetters{'A', 'B', 'C'};

// Register 6 of the point map, BCPME meaning (user guide, figure 7).
enum class StripConfiguration : uint8_t {
    TopFeed = 0,
    BottomFeed = 1,
    Sequential = 2,
    OddEven = 3,
};
std::string_view to_string(StripConfiguration c);
std::optional<StripConfiguration> strip_configuration_from_string(std::string_view s);

enum class Strip : uint8_t { A = 0, B = 1 };

// A BCPME model by its number of branch channels (24, 36, 42, 48, 72, 84).
struct ModelInfo {
    int branch_channels = 84;     // over the whole meter
    int panels = 2;               // 1 for 24/36/42, 2 for 48/72/84
    int channels_per_panel = 42;  // branch channels on each panel
    int strip_size = 21;          // CTs on each of the two strips of a panel

    static std::optional<ModelInfo> from_channels(int branch_channels);
    // "BCPME84", the series abbreviation used in names.
    std::string model_name() const;
    bool has_panel(int panel) const { return panel >= 1 && panel <= panels; }
    // True for branch channels the model has and for the four aux inputs.
    bool has_channel(int channel) const {
        return (channel >= 1 && channel <= channels_per_panel) ||
               (channel >= kFirstAuxChannel && channel <= kChannelsPerPanel);
    }
};

inline constexpr bool is_aux_channel(int channel) {
    return channel >= kFirstAuxChannel && channel <= kChannelsPerPanel;
}
inline constexpr bool is_branch_channel(int channel) {
    return channel >= 1 && channel <= kMaxBranchChannels;
}

// Where a CT sits: which strip and which position along it, counted from 1 at
// the ribbon-cable connector end.
struct StripPosition {
    Strip strip = Strip::A;
    int position = 1;
};

// Strip position -> channel number under a configuration, for strips of
// `strip_size` CTs (12, 18 or 21). See docs/strip-configurations.md.
int channel_at(StripConfiguration cfg, int strip_size, StripPosition where);
// The inverse: where the CT of a branch channel sits.
StripPosition position_of(StripConfiguration cfg, int strip_size, int channel);

// Default voltage phase of a branch channel (the rotation a 3-phase panel has):
// odd/even numbering (top feed, bottom feed, odd/even) gives 1A 2A 3B 4B 5C 6C ...;
// sequential numbering gives 1A 2B 3C 4A ...
Phase default_phase(StripConfiguration cfg, int channel);
// Aux 1..3 measure phases A..C; aux 4 is the neutral and has no phase.
std::optional<Phase> aux_phase(int channel);

// Channels next to each other in the panel, the ones a multi-pole breaker spans.
// Odd/even numbering steps by 2 (1,3,5 share a row); sequential steps by 1 but
// never across the end of a strip's row. Aux 1..3 are adjacent to each other.
bool channels_adjacent(StripConfiguration cfg, int strip_size, int a, int b);
// True when the channels (sorted or not) can form one logical circuit: 1..3
// channels, each adjacent to the next in panel order, none of them aux 4.
bool can_form_logical_circuit(StripConfiguration cfg, int strip_size,
                              std::span<const int> channels);

// Physical panel wiring of the voltage taps.
enum class Wiring : uint8_t {
    Wye4Wire,          // 3 phases + neutral
    SplitPhase3Wire,   // A, B (180 degrees) + neutral
    SinglePhase2Wire,  // A + neutral
    Delta3Wire,        // ungrounded delta, L-N against a derived virtual neutral
    HighLegDelta,      // 120/240 V, B is the high leg
};
std::string_view to_string(Wiring w);
std::optional<Wiring> wiring_from_string(std::string_view s);
int phases_of(Wiring w);

}  // namespace openbcpm
