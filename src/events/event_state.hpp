// Over-threshold event state of one panel, laid out as the point map reports it
// (registers 178..243 and 296..530).
#pragma once

#include <array>
#include <cstdint>

#include "core/device_model.hpp"

namespace openbcpm {

namespace event_bits {
inline constexpr uint16_t kHighHigh = 1u << 0;  // latching
inline constexpr uint16_t kHigh = 1u << 1;      // latching
inline constexpr uint16_t kLow = 1u << 2;       // latching
inline constexpr uint16_t kLowLow = 1u << 3;    // latching
inline constexpr uint16_t kOff = 1u << 4;       // latching OFF state declared
inline constexpr uint16_t kLatchingMask = 0x001F;
inline constexpr uint16_t kNonLatchingHigh = 1u << 8;
inline constexpr uint16_t kNonLatchingLow = 1u << 9;
inline constexpr uint16_t kNonLatchingMask = 0x0300;
// Global latching status (reg 224) adds the voltage bits.
inline constexpr uint16_t kGlobalHighVoltage = 1u << 8;
inline constexpr uint16_t kGlobalLowVoltage = 1u << 9;
// Global non-latching status (reg 225).
inline constexpr uint16_t kGlobalNonLatchingHigh = 1u << 0;
inline constexpr uint16_t kGlobalNonLatchingLow = 1u << 1;
inline constexpr uint16_t kGlobalNonLatchingHighVoltage = 1u << 8;
inline constexpr uint16_t kGlobalNonLatchingLowVoltage = 1u << 9;
// Voltage status (regs 241..243).
inline constexpr uint16_t kVoltageHighLatching = 1u << 0;
inline constexpr uint16_t kVoltageLowLatching = 1u << 1;
inline constexpr uint16_t kVoltageHighNonLatching = 1u << 8;
inline constexpr uint16_t kVoltageLowNonLatching = 1u << 9;
}  // namespace event_bits

// Latching levels in counter order (registers 296..300 and 301..530).
enum class LatchLevel : uint8_t { HighHigh = 0, High = 1, Low = 2, LowLow = 3, Off = 4 };
inline constexpr int kLatchLevels = 5;

struct PanelEvents {
    std::array<uint16_t, kChannelsPerPanel> status{};     // regs 178..223
    uint16_t global_latching = 0;                         // reg 224
    uint16_t global_non_latching = 0;                     // reg 225
    uint16_t recent_latching_channel = 0;                 // reg 226, NV
    uint16_t recent_non_latching_channel = 0;             // reg 227
    uint16_t channels_latched = 0;                        // reg 228
    uint16_t channels_non_latched = 0;                    // reg 229
    std::array<uint16_t, 3> voltage_status{};             // regs 241..243 (A-B, B-C, C-A)
    std::array<uint16_t, kLatchLevels> global_counter{};  // regs 296..300, NV
    std::array<std::array<uint16_t, kChannelsPerPanel>, kLatchLevels> counter{};  // regs 301..530
};

}  // namespace openbcpm
