// What a point's value is: a reference into the meter's snapshot, settings or
// identity, evaluated in the context of one panel. Plain data, so the
// catalogue can hold thousands of them and every face evaluate them alike.
#pragma once

#include <cstdint>

#include "core/settings.hpp"
#include "metering/snapshot.hpp"

namespace openbcpm::points {

// Quantities. "Ch" = a channel (index = channel number), "Gr" = a multi-channel
// meter (group kind + index = its number), "GrPhase" = a channel quantity of the
// group's member `member` (0-based, phase order).
enum class Q : uint8_t {
    // channel
    ChCurrent,
    ChKw,
    ChKva,
    ChPf,
    ChAngle,
    ChKwh,
    ChKwhSnapshot,
    ChCurrentDemand,
    ChKwDemand,
    ChMaxCurrent,
    ChMaxKw,
    ChMaxCurrentDemand,
    ChMaxKwDemand,
    // group
    GrKw,
    GrKva,
    GrPf,
    GrCurrent,
    GrKwh,
    GrKwhSnapshot,
    GrKwDemand,
    GrCurrentDemand,
    GrMaxKw,
    GrMaxKwDemand,
    GrMaxCurrent,
    GrMaxCurrentDemand,
    GrMembers,
    GrMemberChannel,
    GrNumber,
    GrPhase,
    // voltages (index = phase 0..2, or pair A-B, B-C, C-A)
    VoltLn,
    VoltLnAverage,
    VoltLl,
    VoltLlAverage,
    Frequency,
    VoltAngle,
    // events (index = channel, or level for counters with member = channel)
    EvStatus,
    EvVoltageStatus,
    EvGlobalLatching,
    EvGlobalNonLatching,
    EvRecentLatching,
    EvRecentNonLatching,
    EvChannelsLatched,
    EvChannelsNonLatched,
    EvGlobalCounter,
    EvCounter,
    // diagnostics and identity
    PowerUpCounter,
    Health,
    ProductId,
    Reserved,
    SerialMsw,
    SerialLsw,
    FirmwareRs,
    FirmwareOs,
    DeviceId,
    ModbusAddress,
    Baudrate,
    Running,
    // scales (index = channel or group number; exponent of ten)
    ScaleCurrent,
    ScalePower,
    ScaleEnergy,
    ScaleGroupCurrent,
    ScaleGroupPower,
    ScaleGroupEnergy,
    ScaleFixed,
    // a setting (the point names it), a command register (reads 0), the RTC
    Setting,
    Command,
    RtcField,
    RtcStatus,
    RtcControl,
};

enum class GroupKind : uint8_t { Logical, TwoPhase, ThreePhase, Mains };

struct Ref {
    Q q = Q::Reserved;
    uint8_t index = 0;   // channel, group number, phase, level
    uint8_t member = 0;  // group member (0..2), or channel for counters
    GroupKind group = GroupKind::Logical;
    Q sub = Q::ChCurrent;    // GrPhase: the channel quantity of the member
    int8_t fixed_scale = 0;  // ScaleFixed
};

// What the evaluation needs besides the reference.
struct Context {
    const MeterSnapshot& snapshot;
    const Settings& settings;
    int panel = 1;
    int power_up_counter = 0;
};

struct Value {
    double value = 0.0;
    bool valid = false;  // false for channels/meters the model does not have
};

Value evaluate(const Ref& ref, const Context& ctx);

// A channel quantity (ChCurrent..ChMaxKwDemand) or a meter's (GrKw..
// GrMaxCurrentDemand) as the readings hold it, valid or not; 0 for others.
double channel_quantity(Q q, const ChannelReadings& r);
double group_quantity(Q q, const GroupReadings& g);

// The group a reference points at, or nullptr.
const GroupReadings* group_of(const PanelReadings& panel, GroupKind kind, int number);

// Scale exponents (the map's scale registers): chosen from the CT size so that
// 120 % of the CT's range fits a signed 16-bit register at the finest decade.
int current_scale(int ct_amps);
int power_scale(int ct_amps, int phases);
int energy_scale(int ct_amps, int phases);
inline constexpr int kVoltageScale = -1;

}  // namespace openbcpm::points
