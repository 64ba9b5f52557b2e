#include "points/reset.hpp"

#include "points/quantity.hpp"

namespace openbcpm::points {

namespace {

uint64_t channel_bit(int c) {
    return uint64_t{1} << (c - 1);
}

uint64_t group_mask(const PanelReadings& p, GroupKind kind, int number) {
    const GroupReadings* g = group_of(p, kind, number);
    uint64_t mask = 0;
    for (int i = 0; g && i < g->members; ++i)
        mask |= channel_bit(g->channel[static_cast<size_t>(i)]);
    return mask;
}

ResetOp reset_op(int64_t code) {
    using namespace reset_codes;
    switch (code) {
        case kNewSubinterval:
            return ResetOp::NewSubinterval;
        case kResetDemand:
            return ResetOp::ResetDemand;
        case kClearLatches:
            return ResetOp::ClearLatches;
        case kClearEnergy:
            return ResetOp::ClearEnergy;
        case kClearMaxima:
            return ResetOp::ClearMaxima;
        default:
            return ResetOp::ClearMaxDemand;
    }
}

}  // namespace

bool reset_code_allowed(ResetScope scope, int64_t code) {
    using namespace reset_codes;
    if (scope == ResetScope::Global) {
        return code == kNewSubinterval || code == kResetDemand || code == kClearLatches ||
               code == kClearEnergy || code == kClearMaxima || code == kClearMaxDemand;
    }
    return code == kClearEnergy || code == kClearMaxima;
}

std::optional<ResetCommand> reset_command(const Point& p, int panel, int64_t code,
                                          const PanelReadings& readings) {
    if (!reset_code_allowed(p.reset_scope, code)) return std::nullopt;
    ResetCommand cmd;
    cmd.panel = panel;
    cmd.op = reset_op(code);
    switch (p.reset_scope) {
        case ResetScope::Global:
            cmd.channels = ResetCommand::kAllChannels;
            break;
        case ResetScope::Aux:
            cmd.channels = 0;
            for (int c = kFirstAuxChannel; c <= kChannelsPerPanel; ++c)
                cmd.channels |= channel_bit(c);
            break;
        case ResetScope::Channel:
            cmd.channels = channel_bit(p.reset_index);
            break;
        case ResetScope::TwoPhase:
            cmd.channels = group_mask(readings, GroupKind::TwoPhase, p.reset_index);
            break;
        case ResetScope::ThreePhase:
            cmd.channels = group_mask(readings, GroupKind::ThreePhase, p.reset_index);
            break;
        case ResetScope::Logical:
            cmd.channels = group_mask(readings, GroupKind::Logical, p.reset_index);
            break;
    }
    if (!cmd.channels) return std::nullopt;
    return cmd;
}

}  // namespace openbcpm::points
