#include "model/snapshot_json.hpp"

namespace openbcpm {

std::string_view event_kind_name(EventKind kind) {
    switch (kind) {
        case EventKind::Latched:
            return "latched";
        case EventKind::LatchCleared:
            return "cleared";
        case EventKind::NonLatchingOn:
            return "active";
        case EventKind::NonLatchingOff:
            return "inactive";
    }
    return "latched";
}

std::string event_bit_name(uint8_t channel, uint16_t bit) {
    if (channel > kVoltageEventChannelBase) {
        switch (bit) {
            case event_bits::kVoltageHighLatching:
                return "over-voltage (latching)";
            case event_bits::kVoltageLowLatching:
                return "under-voltage (latching)";
            case event_bits::kVoltageHighNonLatching:
                return "over-voltage";
            case event_bits::kVoltageLowNonLatching:
                return "under-voltage";
            default:
                return "voltage";
        }
    }
    switch (bit) {
        case event_bits::kHighHigh:
            return "high-high";
        case event_bits::kHigh:
            return "high";
        case event_bits::kLow:
            return "low";
        case event_bits::kLowLow:
            return "low-low";
        case event_bits::kOff:
            return "off";
        case event_bits::kNonLatchingHigh:
            return "non-latching high";
        case event_bits::kNonLatchingLow:
            return "non-latching low";
        default:
            return "unknown";
    }
}

nlohmann::json event_json(const EventRecord& r) {
    nlohmann::json j;
    j["time"] = r.time;
    j["rtc"] = r.rtc;
    j["panel"] = r.panel;
    if (r.channel > kVoltageEventChannelBase) {
        static const char* pairs[] = {"ab", "bc", "ca"};
        j["voltage"] = pairs[(r.channel - kVoltageEventChannelBase - 1) % 3];
    } else {
        j["channel"] = r.channel;
    }
    j["kind"] = event_kind_name(r.kind);
    j["level"] = event_bit_name(r.channel, r.bit);
    j["bit"] = r.bit;
    j["value"] = r.value;
    j["threshold"] = r.threshold;
    return j;
}

}  // namespace openbcpm
