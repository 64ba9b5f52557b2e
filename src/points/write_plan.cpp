#include "points/write_plan.hpp"

#include <cmath>
#include <ctime>

#include "events/event_state.hpp"
#include "points/reset.hpp"

namespace openbcpm::points {

namespace {

PlanResult refuse(Refusal r, size_t item, std::string message) {
    return {r, item, std::move(message)};
}

Refusal refusal_of(WriteError e) {
    switch (e) {
        case WriteError::None:
            return Refusal::None;
        case WriteError::UnknownKey:
            return Refusal::NotWritable;
        case WriteError::WrongType:
            return Refusal::WrongType;
        case WriteError::OutOfRange:
            return Refusal::OutOfRange;
        case WriteError::Inconsistent:
            return Refusal::Inconsistent;
        case WriteError::StorageFailed:
            return Refusal::StorageFailed;
    }
    return Refusal::OutOfRange;
}

std::string number_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

// The register value an item carries: an integer, or a whole step of a number.
std::optional<int64_t> integer_of(const WriteItem& item, std::string& why) {
    if (const auto* i = std::get_if<int64_t>(&item.value)) return *i;
    if (const auto* d = std::get_if<double>(&item.value)) {
        if (auto n = whole_step(*d, item.scale)) return n;
        why = number_text(*d) + " is not a whole number of steps of " + number_text(item.scale);
        return std::nullopt;
    }
    why = "a number is required, not text";
    return std::nullopt;
}

// The settings table's value for a setting from what was written.
std::optional<SettingValue> setting_value_of(const SettingDef& def, const WriteItem& item,
                                             Refusal& refusal, std::string& why) {
    if (def.is_string) {
        if (const auto* s = std::get_if<std::string>(&item.value)) return SettingValue(*s);
        refusal = Refusal::WrongType;
        why = def.key + " takes text";
        return std::nullopt;
    }
    if (std::holds_alternative<std::string>(item.value)) {
        refusal = Refusal::WrongType;
        why = def.key + " takes an integer";
        return std::nullopt;
    }
    std::string detail;
    const auto n = integer_of(item, detail);
    if (!n) {
        refusal = Refusal::NotWholeStep;
        why = def.key + ": " + detail + " (" + def.description + ", " + std::to_string(def.min) +
              " to " + std::to_string(def.max) + ")";
        return std::nullopt;
    }
    return SettingValue(*n);
}

}  // namespace

std::string_view refusal_name(Refusal r) {
    switch (r) {
        case Refusal::None:
            return "none";
        case Refusal::NotWritable:
            return "not writable";
        case Refusal::WrongType:
            return "wrong type";
        case Refusal::OutOfRange:
            return "out of range";
        case Refusal::NotWholeStep:
            return "not a whole register step";
        case Refusal::Inconsistent:
            return "inconsistent";
        case Refusal::AccessDenied:
            return "access denied";
        case Refusal::StorageFailed:
            return "storage failing";
    }
    return "refused";
}

bool WritePlan::meter_commands() const {
    if (!resets.empty() || !latch_clears.empty() || rtc) return true;
    for (const auto& [def, value] : settings) {
        if (def->panel != 0) return true;
    }
    return false;
}

std::optional<int64_t> whole_step(double value, double scale) {
    if (!std::isfinite(value) || !(scale > 0.0) || !std::isfinite(scale)) return std::nullopt;
    const double raw = value / scale;
    const double n = std::round(raw);
    // A REAL carries 24 bits: a whole step written as a REAL is within a few
    // of its units in the last place; anything farther is between two steps.
    if (std::fabs(raw - n) > 1e-6 * std::max(1.0, std::fabs(raw))) return std::nullopt;
    if (std::fabs(n) > 9.0e15) return std::nullopt;
    return static_cast<int64_t>(n);
}

uint16_t latch_mask(const Point& p) {
    return p.ref.q == Q::EvVoltageStatus ? static_cast<uint16_t>(event_bits::kVoltageHighLatching |
                                                                 event_bits::kVoltageLowLatching)
                                         : event_bits::kLatchingMask;
}

int latch_channel(const Point& p) {
    return p.ref.q == Q::EvVoltageStatus ? kVoltageEventChannelBase + 1 + p.ref.index : p.ref.index;
}

PlanResult plan_writes(const WriteRequest& request, const Settings& settings,
                       const MeterSnapshot& snapshot, WritePlan& plan) {
    plan = WritePlan{};
    plan.trial = settings;
    std::optional<std::tm> rtc;
    auto result = [&]() -> PlanResult {
        for (size_t i = 0; i < request.items.size(); ++i) {
            const WriteItem& item = request.items[i];
            const int panel = item.panel;
            const SettingDef* def = item.setting;
            const Point* p = item.point;
            if (!def && !p) return refuse(Refusal::NotWritable, i, "nothing to write");
            // A point belongs to a panel of this model; a setting by its
            // table entry is the table's (both panels' rows exist).
            if (!def && (panel < 1 || panel > settings.model.panels))
                return refuse(Refusal::NotWritable, i, "no panel " + std::to_string(panel));
            if (p && !def) {
                if (p->access == Access::Read || p->write == WriteKind::None)
                    return refuse(Refusal::NotWritable, i, p->id + " is read-only");
                if (p->write == WriteKind::Setting) {
                    def = find_setting(setting_key(*p, panel));
                    if (!def) return refuse(Refusal::NotWritable, i, p->id + " has no setting");
                }
            }
            if (def) {
                Refusal r = Refusal::None;
                std::string why;
                auto v = setting_value_of(*def, item, r, why);
                if (!v) return refuse(r, i, why);
                const WriteResult w = write_setting(plan.trial, *def, *v);
                if (!w.ok()) return refuse(refusal_of(w.error), i, w.message);
                plan.settings.emplace_back(def, std::move(*v));
                continue;
            }
            std::string why;
            const auto n = integer_of(item, why);
            if (!n) {
                return refuse(std::holds_alternative<std::string>(item.value)
                                  ? Refusal::WrongType
                                  : Refusal::NotWholeStep,
                              i, p->id + ": " + why);
            }
            const int64_t v = *n;
            switch (p->write) {
                case WriteKind::Setting:
                case WriteKind::None:
                    return refuse(Refusal::NotWritable, i, p->id + " is read-only");
                case WriteKind::Reset: {
                    if (!reset_code_allowed(p->reset_scope, v))
                        return refuse(Refusal::OutOfRange, i,
                                      std::to_string(v) + " is not a command " + p->id + " takes");
                    // A circuit with no channels now has nothing to reset: taken, no command.
                    if (auto cmd = reset_command(*p, panel, v,
                                                 snapshot.panel[static_cast<size_t>(panel - 1)]))
                        plan.resets.push_back(*cmd);
                    break;
                }
                case WriteKind::LatchClear: {
                    if (v < 0 || v > 0xFFFF)
                        return refuse(Refusal::OutOfRange, i, p->id + " is a 16-bit word");
                    // A 0 written to a latched bit clears it; the rest of the
                    // word is status and ignores the write.
                    const auto clear =
                        static_cast<uint16_t>(~static_cast<uint32_t>(v) & latch_mask(*p));
                    if (clear)
                        plan.latch_clears.push_back(
                            LatchClearCommand{panel, latch_channel(*p), clear});
                    break;
                }
                case WriteKind::PowerUpCounter:
                    if (v < 0 || v > 32767)
                        return refuse(Refusal::OutOfRange, i, "the power-up counter is 0 to 32767");
                    plan.power_up.emplace_back(panel, static_cast<int>(v));
                    break;
                case WriteKind::Rtc: {
                    const int want = settings.gateway.rtc_control;
                    if ((request.source == WriteSource::Modbus && want != 1) ||
                        (request.source == WriteSource::Bacnet && want != 0)) {
                        return refuse(Refusal::AccessDenied, i,
                                      "RTC_Control gives the RTC to " +
                                          std::string(want == 1 ? "Modbus" : "BACnet"));
                    }
                    if (v < 0 || v > 9999)
                        return refuse(Refusal::OutOfRange, i, "not an RTC field value");
                    if (!rtc) {
                        const std::time_t now = snapshot.rtc;
                        std::tm tm{};
                        gmtime_r(&now, &tm);
                        rtc = tm;
                    }
                    const int f = static_cast<int>(v);
                    switch (p->ref.index % 6) {
                        case 0:
                            rtc->tm_year = f - 1900;
                            break;
                        case 1:
                            rtc->tm_mon = f - 1;
                            break;
                        case 2:
                            rtc->tm_mday = f;
                            break;
                        case 3:
                            rtc->tm_hour = f;
                            break;
                        case 4:
                            rtc->tm_min = f;
                            break;
                        default:
                            rtc->tm_sec = f;
                            break;
                    }
                    break;
                }
            }
        }
        if (rtc) {
            // Checked as a whole date, so that 31 February is refused rather than rolled over.
            const std::tm want = *rtc;
            const size_t last = request.items.size() - 1;
            if (want.tm_year < 100 || want.tm_year > 199 || want.tm_mon < 0 || want.tm_mon > 11 ||
                want.tm_mday < 1 || want.tm_hour < 0 || want.tm_hour > 23 || want.tm_min < 0 ||
                want.tm_min > 59 || want.tm_sec < 0 || want.tm_sec > 59) {
                return refuse(Refusal::OutOfRange, last, "not a date and time of 2000 to 2099");
            }
            std::tm norm = want;
            const std::time_t t = timegm(&norm);
            if (norm.tm_mday != want.tm_mday || norm.tm_mon != want.tm_mon)
                return refuse(Refusal::OutOfRange, last, "no such day in that month");
            plan.rtc = static_cast<int64_t>(t);
        }
        return {};
    }();
    if (!result.ok()) plan = WritePlan{};
    return result;
}

}  // namespace openbcpm::points
