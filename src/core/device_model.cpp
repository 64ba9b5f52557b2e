#include "core/device_model.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace openbcpm {

std::string_view to_string(StripConfiguration c) {
    switch (c) {
        case StripConfiguration::TopFeed:
            return "top-feed";
        case StripConfiguration::BottomFeed:
            return "bottom-feed";
        case StripConfiguration::Sequential:
            return "sequential";
        case StripConfiguration::OddEven:
            return "odd-even";
    }
    return "top-feed";
}

std::optional<StripConfiguration> strip_configuration_from_string(std::string_view s) {
    for (int i = 0; i < 4; ++i) {
        auto c = static_cast<StripConfiguration>(i);
        if (to_string(c) == s) return c;
    }
    return std::nullopt;
}

std::optional<ModelInfo> ModelInfo::from_channels(int branch_channels) {
    ModelInfo m;
    m.branch_channels = branch_channels;
    switch (branch_channels) {
        case 24:
        case 36:
        case 42:
            m.panels = 1;
            m.channels_per_panel = branch_channels;
            break;
        case 48:
        case 72:
        case 84:
            m.panels = 2;
            m.channels_per_panel = branch_channels / 2;
            break;
        default:
            return std::nullopt;
    }
    m.strip_size = m.channels_per_panel / 2;
    return m;
}

std::string ModelInfo::model_name() const {
    return "BCPME" + std::to_string(branch_channels);
}

namespace {
bool odd_even_numbering(StripConfiguration cfg) {
    return cfg != StripConfiguration::Sequential;
}
}  // namespace

int channel_at(StripConfiguration cfg, int n, StripPosition where) {
    const int p = where.position;
    const bool a = where.strip == Strip::A;
    switch (cfg) {
        case StripConfiguration::TopFeed:  // both connectors at the top
            return a ? 2 * p - 1 : 2 * p;
        case StripConfiguration::BottomFeed:  // both connectors at the bottom
            return a ? 2 * (n - p) + 1 : 2 * (n - p + 1);
        case StripConfiguration::Sequential:  // A holds 1..n, B holds n+1..2n
            return a ? p : n + p;
        case StripConfiguration::OddEven:  // A top-fed on the odd row, B bottom-fed on the even row
            return a ? 2 * p - 1 : 2 * (n - p + 1);
    }
    return 0;
}

StripPosition position_of(StripConfiguration cfg, int n, int channel) {
    for (int s = 0; s < 2; ++s) {
        for (int p = 1; p <= n; ++p) {
            StripPosition where{static_cast<Strip>(s), p};
            if (channel_at(cfg, n, where) == channel) return where;
        }
    }
    return {};
}

Phase default_phase(StripConfiguration cfg, int channel) {
    const int k = odd_even_numbering(cfg) ? (channel - 1) / 2 : channel - 1;
    return static_cast<Phase>(k % 3);
}

std::optional<Phase> aux_phase(int channel) {
    if (channel >= kFirstAuxChannel && channel < kNeutralAuxChannel) {
        return static_cast<Phase>(channel - kFirstAuxChannel);
    }
    return std::nullopt;
}

bool channels_adjacent(StripConfiguration cfg, int n, int a, int b) {
    if (a > b) std::swap(a, b);
    if (is_aux_channel(a) || is_aux_channel(b)) {
        return is_aux_channel(a) && is_aux_channel(b) && b != kNeutralAuxChannel && b - a == 1;
    }
    if (a < 1 || b > 2 * n) return false;
    if (odd_even_numbering(cfg)) return b - a == 2;
    // Sequential: the two strips are two rows (or the two halves of one row);
    // a breaker does not span the end of one strip and the start of the next.
    return b - a == 1 && (a - 1) / n == (b - 1) / n;
}

bool can_form_logical_circuit(StripConfiguration cfg, int n, std::span<const int> channels) {
    if (channels.empty() || channels.size() > 3) return false;
    std::array<int, 3> sorted{};
    std::copy(channels.begin(), channels.end(), sorted.begin());
    std::sort(sorted.begin(), sorted.begin() + static_cast<long>(channels.size()));
    for (size_t i = 0; i < channels.size(); ++i) {
        const int c = sorted[i];
        const bool branch_ok = c >= 1 && c <= 2 * n;
        if (!(branch_ok || (is_aux_channel(c) && c != kNeutralAuxChannel))) return false;
        if (i > 0 && !channels_adjacent(cfg, n, sorted[i - 1], c)) return false;
    }
    return true;
}

std::string_view to_string(Wiring w) {
    switch (w) {
        case Wiring::Wye4Wire:
            return "wye";
        case Wiring::SplitPhase3Wire:
            return "split-phase";
        case Wiring::SinglePhase2Wire:
            return "single-phase";
        case Wiring::Delta3Wire:
            return "delta";
        case Wiring::HighLegDelta:
            return "high-leg-delta";
    }
    return "wye";
}

std::optional<Wiring> wiring_from_string(std::string_view s) {
    for (int i = 0; i < 5; ++i) {
        auto w = static_cast<Wiring>(i);
        if (to_string(w) == s) return w;
    }
    return std::nullopt;
}

int phases_of(Wiring w) {
    switch (w) {
        case Wiring::SplitPhase3Wire:
            return 2;
        case Wiring::SinglePhase2Wire:
            return 1;
        default:
            return 3;
    }
}

}  // namespace openbcpm
