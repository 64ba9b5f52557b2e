#include "points/quantity.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

namespace openbcpm::points {

namespace {

constexpr double kRatedVolts = 300.0;     // the meter's L-N rating
constexpr double kOverRange = 1.2;        // CTs measure to 120 % of their size
constexpr double kTenYearsHours = 87660;  // energy registers last ten years at full scale

int decade_exponent(double full_scale, double capacity) {
    // The finest 10^e with full_scale / 10^e <= capacity.
    const double fs = std::max(full_scale, 1e-9);
    const int e = -static_cast<int>(std::floor(std::log10(capacity / fs)));
    return std::clamp(e, -3, 3);
}

}  // namespace

double channel_quantity(Q q, const ChannelReadings& r) {
    switch (q) {
        case Q::ChCurrent:
            return r.current;
        case Q::ChKw:
            return r.kw;
        case Q::ChKva:
            return r.kva;
        case Q::ChPf:
            return r.pf;
        case Q::ChAngle:
            return r.angle;
        case Q::ChKwh:
            return r.kwh;
        case Q::ChKwhSnapshot:
            return r.kwh_snapshot;
        case Q::ChCurrentDemand:
            return r.current_demand;
        case Q::ChKwDemand:
            return r.kw_demand;
        case Q::ChMaxCurrent:
            return r.max_current;
        case Q::ChMaxKw:
            return r.max_kw;
        case Q::ChMaxCurrentDemand:
            return r.max_current_demand;
        case Q::ChMaxKwDemand:
            return r.max_kw_demand;
        default:
            return 0.0;
    }
}

double group_quantity(Q q, const GroupReadings& g) {
    switch (q) {
        case Q::GrKw:
            return g.kw;
        case Q::GrKva:
            return g.kva;
        case Q::GrPf:
            return g.pf;
        case Q::GrCurrent:
            return g.current;
        case Q::GrKwh:
            return g.kwh;
        case Q::GrKwhSnapshot:
            return g.kwh_snapshot;
        case Q::GrKwDemand:
            return g.kw_demand;
        case Q::GrCurrentDemand:
            return g.current_demand;
        case Q::GrMaxKw:
            return g.max_kw;
        case Q::GrMaxKwDemand:
            return g.max_kw_demand;
        case Q::GrMaxCurrent:
            return g.max_current;
        case Q::GrMaxCurrentDemand:
            return g.max_current_demand;
        case Q::GrMembers:
            return g.members;
        default:
            return 0.0;
    }
}

namespace {

int group_phases(GroupKind k, const GroupReadings* g) {
    switch (k) {
        case GroupKind::TwoPhase:
            return 2;
        case GroupKind::ThreePhase:
        case GroupKind::Mains:
            return 3;
        case GroupKind::Logical:
            return g ? std::max(g->members, 1) : 1;
    }
    return 1;
}

}  // namespace

int current_scale(int ct_amps) {
    return decade_exponent(kOverRange * std::max(ct_amps, 1), 32767.0);
}

int power_scale(int ct_amps, int phases) {
    return decade_exponent(kOverRange * std::max(ct_amps, 1) * kRatedVolts * phases / 1000.0,
                           32767.0);
}

int energy_scale(int ct_amps, int phases) {
    const double kw = kOverRange * std::max(ct_amps, 1) * kRatedVolts * phases / 1000.0;
    return decade_exponent(kw * kTenYearsHours, 2147483647.0);
}

const GroupReadings* group_of(const PanelReadings& p, GroupKind kind, int number) {
    switch (kind) {
        case GroupKind::Logical:
            return number >= 1 && number <= kLogicalCircuits
                       ? &p.logical[static_cast<size_t>(number - 1)]
                       : nullptr;
        case GroupKind::TwoPhase:
            return number >= 1 && number <= kTwoPhaseMeters
                       ? &p.two_phase[static_cast<size_t>(number - 1)]
                       : nullptr;
        case GroupKind::ThreePhase:
            return number >= 1 && number <= kThreePhaseMeters
                       ? &p.three_phase[static_cast<size_t>(number - 1)]
                       : nullptr;
        case GroupKind::Mains:
            return &p.mains;
    }
    return nullptr;
}

Value evaluate(const Ref& ref, const Context& ctx) {
    const PanelReadings& p = ctx.snapshot.panel[static_cast<size_t>(ctx.panel - 1)];
    const PanelSettings& ps = ctx.settings.panel(ctx.panel);
    const VoltageReadings& v = ctx.snapshot.voltage;
    auto ok = [](double x) { return Value{x, true}; };
    auto channel = [&](int c) -> const ChannelReadings* {
        if (c < 1 || c > kChannelsPerPanel) return nullptr;
        const ChannelReadings& r = p.channel[static_cast<size_t>(c - 1)];
        return r.present ? &r : nullptr;
    };
    auto ct = [&](int c) {
        return ps.ct_size[static_cast<size_t>(std::clamp(c, 1, kChannelsPerPanel) - 1)];
    };

    switch (ref.q) {
        case Q::ChCurrent:
        case Q::ChKw:
        case Q::ChKva:
        case Q::ChPf:
        case Q::ChAngle:
        case Q::ChKwh:
        case Q::ChKwhSnapshot:
        case Q::ChCurrentDemand:
        case Q::ChKwDemand:
        case Q::ChMaxCurrent:
        case Q::ChMaxKw:
        case Q::ChMaxCurrentDemand:
        case Q::ChMaxKwDemand: {
            const ChannelReadings* r = channel(ref.index);
            if (!r) return {};
            // Aux 4 is the neutral: it has a current but no power.
            const bool powerless = ref.index == kNeutralAuxChannel;
            if (powerless && ref.q != Q::ChCurrent && ref.q != Q::ChCurrentDemand &&
                ref.q != Q::ChMaxCurrent && ref.q != Q::ChMaxCurrentDemand && ref.q != Q::ChAngle) {
                return {};
            }
            return ok(channel_quantity(ref.q, *r));
        }
        case Q::GrKw:
        case Q::GrKva:
        case Q::GrPf:
        case Q::GrCurrent:
        case Q::GrKwh:
        case Q::GrKwhSnapshot:
        case Q::GrKwDemand:
        case Q::GrCurrentDemand:
        case Q::GrMaxKw:
        case Q::GrMaxKwDemand:
        case Q::GrMaxCurrent:
        case Q::GrMaxCurrentDemand:
        case Q::GrMembers: {
            const GroupReadings* g = group_of(p, ref.group, ref.index);
            if (!g || !p.present) return {};
            if (ref.q == Q::GrMembers) return ok(g->members);
            if (!g->valid) return {};
            return ok(group_quantity(ref.q, *g));
        }
        case Q::GrNumber:
            return ok(ref.index);
        case Q::GrMemberChannel: {
            const GroupReadings* g = group_of(p, ref.group, ref.index);
            if (!g) return {};
            return ok(ref.member < g->members ? g->channel[ref.member] : 0);
        }
        case Q::GrPhase: {
            const GroupReadings* g = group_of(p, ref.group, ref.index);
            if (!g || !g->valid || ref.member >= g->members) return {};
            const ChannelReadings* r = channel(g->channel[ref.member]);
            if (!r) return {};
            return ok(channel_quantity(ref.sub, *r));
        }
        case Q::VoltLn:
            return ok(v.ln[ref.index % 3]);
        case Q::VoltLnAverage:
            return ok(v.ln_average);
        case Q::VoltLl:
            return ok(v.ll[ref.index % 3]);
        case Q::VoltLlAverage:
            return ok(v.ll_average);
        case Q::Frequency:
            return ok(v.frequency);
        case Q::VoltAngle:
            return ok(v.angle[ref.index % 3]);
        case Q::EvStatus: {
            if (!channel(ref.index)) return {};
            return ok(p.events.status[static_cast<size_t>(ref.index - 1)]);
        }
        case Q::EvVoltageStatus:
            return ok(p.events.voltage_status[ref.index % 3]);
        case Q::EvGlobalLatching:
            return ok(p.events.global_latching);
        case Q::EvGlobalNonLatching:
            return ok(p.events.global_non_latching);
        case Q::EvRecentLatching:
            return ok(p.events.recent_latching_channel);
        case Q::EvRecentNonLatching:
            return ok(p.events.recent_non_latching_channel);
        case Q::EvChannelsLatched:
            return ok(p.events.channels_latched);
        case Q::EvChannelsNonLatched:
            return ok(p.events.channels_non_latched);
        case Q::EvGlobalCounter:
            return ok(p.events.global_counter[ref.index % kLatchLevels]);
        case Q::EvCounter: {
            if (!channel(ref.member)) return {};
            return ok(
                p.events.counter[ref.index % kLatchLevels][static_cast<size_t>(ref.member - 1)]);
        }
        case Q::PowerUpCounter:
            return ok(ctx.power_up_counter);
        case Q::Health:
            return ok(p.health);
        case Q::ProductId:
            return ok(0x1001);  // default solid-core, custom V-phase capable
        case Q::Reserved:
            return ok(0);
        case Q::SerialMsw:
            return ok(ctx.settings.identity.serial_number >> 16);
        case Q::SerialLsw:
            return ok(ctx.settings.identity.serial_number & 0xFFFF);
        case Q::FirmwareRs:
            return ok(ctx.settings.identity.firmware_rs);
        case Q::FirmwareOs:
            return ok(ctx.settings.identity.firmware_os);
        case Q::DeviceId:
            return ok(ctx.settings.identity.device_id);
        case Q::ModbusAddress:
            return ok(ctx.settings.gateway.modbus_address + ctx.panel - 1);
        case Q::Baudrate:
            return ok(ctx.settings.gateway.upstream_baud / 100.0);  // 9600 -> 96, 76800 -> 768
        case Q::Running:
            return ok(1);
        case Q::ScaleCurrent:
            return ok(current_scale(ct(ref.index)));
        case Q::ScalePower:
            return ok(power_scale(ct(ref.index), 1));
        case Q::ScaleEnergy:
            return ok(energy_scale(ct(ref.index), 1));
        case Q::ScaleGroupCurrent:
        case Q::ScaleGroupPower:
        case Q::ScaleGroupEnergy: {
            // "This map assumes that all pairs (sets) of branch CTs are identical": the first
            // member's CT.
            const GroupReadings* g = group_of(p, ref.group, ref.index);
            const int first = g && g->members > 0 ? g->channel[0] : kFirstAuxChannel;
            const int phases = group_phases(ref.group, g);
            if (ref.q == Q::ScaleGroupCurrent) return ok(current_scale(ct(first)));
            if (ref.q == Q::ScaleGroupPower) return ok(power_scale(ct(first), phases));
            return ok(energy_scale(ct(first), phases));
        }
        case Q::ScaleFixed:
            return ok(ref.fixed_scale);
        case Q::Setting:
        case Q::Command:
            return ok(0);
        case Q::RtcField: {
            // An unset RTC reads its power-up default, 2000-01-01 00:00:00.
            const std::time_t t = ctx.snapshot.rtc;
            std::tm tm{};
            gmtime_r(&t, &tm);
            switch (ref.index) {
                case 0:
                    return ok(tm.tm_year + 1900);
                case 1:
                    return ok(tm.tm_mon + 1);
                case 2:
                    return ok(tm.tm_mday);
                case 3:
                    return ok(tm.tm_hour);
                case 4:
                    return ok(tm.tm_min);
                default:
                    return ok(tm.tm_sec);
            }
        }
        case Q::RtcStatus:
            return ok(ctx.snapshot.rtc_set ? 1 : 0);
        case Q::RtcControl:
            return ok(ctx.settings.gateway.rtc_control);
    }
    return {};
}

}  // namespace openbcpm::points
