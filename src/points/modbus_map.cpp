#include "points/modbus_map.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace openbcpm::points {

namespace {

constexpr uint32_t kRegisters = 65536;

const SettingDef* setting_def(const Point& p, int panel) {
    return find_setting(setting_key(p, panel));
}

double pow10(int e) {
    static constexpr double table[] = {1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3};
    return e >= -3 && e <= 3 ? table[e + 3] : std::pow(10.0, e);
}

// The location string as the 128 bytes of registers 7..70.
std::array<char, 128> location_bytes(const std::string& s) {
    std::array<char, 128> b{};
    std::copy_n(s.begin(), std::min<size_t>(s.size(), b.size()), b.begin());
    return b;
}

}  // namespace

Value point_value(const Point& p, const Context& ctx) {
    if (p.ref.q == Q::Setting) {
        const SettingDef* def = setting_def(p, ctx.panel);
        if (!def) return {};
        const SettingValue v = def->get(ctx.settings);
        if (const auto* i = std::get_if<int64_t>(&v)) return {static_cast<double>(*i), true};
        return {0.0, true};
    }
    return evaluate(p.ref, ctx);
}

int integer_scale(const Point& p, const Context& ctx, bool legacy) {
    if (p.integer.scale_reg == 0) return p.integer.fixed_scale;
    const RegisterSlot* s = ModbusMap::instance().slot(p.integer.scale_reg, legacy);
    if (!s || !s->point) return 0;
    return static_cast<int>(evaluate(s->point->ref, ctx).value);
}

uint16_t encode_word(const Point& p, bool floating, int word, const Context& ctx, bool legacy) {
    if (floating) {
        const Value v = point_value(p, ctx);
        const uint32_t bits =
            v.valid ? std::bit_cast<uint32_t>(static_cast<float>(v.value)) : kInvalidFloat;
        return word == 0 ? static_cast<uint16_t>(bits >> 16) : static_cast<uint16_t>(bits & 0xFFFF);
    }
    const ModbusBinding& b = p.integer;
    if (b.repr == Repr::Text) {
        const SettingDef* def = setting_def(p, ctx.panel);
        const std::string text = def ? to_string(def->get(ctx.settings)) : std::string();
        const auto bytes = location_bytes(text);
        const size_t i = 2 * static_cast<size_t>(word);
        return static_cast<uint16_t>(static_cast<unsigned char>(bytes[i]) << 8 |
                                     static_cast<unsigned char>(bytes[i + 1]));
    }
    const Value v = point_value(p, ctx);
    if (!v.valid) return kInvalidInteger;
    if (p.ref.q == Q::Setting) return static_cast<uint16_t>(static_cast<int64_t>(v.value) & 0xFFFF);
    switch (b.repr) {
        case Repr::Uint16:
            return static_cast<uint16_t>(std::clamp(std::lround(v.value), 0L, 65535L));
        case Repr::Int16: {
            const double counts = v.value / pow10(integer_scale(p, ctx, legacy));
            const long n = std::clamp(std::lround(counts), -32767L, 32767L);
            return static_cast<uint16_t>(static_cast<int16_t>(n));
        }
        case Repr::Int32: {
            const double counts = v.value / pow10(integer_scale(p, ctx, legacy));
            const long long n = std::clamp(std::llround(counts), -2147483647LL, 2147483647LL);
            const auto u = static_cast<uint32_t>(static_cast<int32_t>(n));
            return word == 0 ? static_cast<uint16_t>(u >> 16) : static_cast<uint16_t>(u & 0xFFFF);
        }
        default:
            return 0;
    }
}

ModbusMap::ModbusMap() : slots_(2 * kRegisters, -1) {
    const auto& points = Catalogue::instance().points();
    entries_.reserve(points.size() * 3);
    auto place = [&](const Point& p, const ModbusBinding& b, bool floating) {
        if (b.reg == 0) return;
        for (uint8_t w = 0; w < b.words; ++w) {
            const uint32_t reg = b.reg + w;
            const auto e = static_cast<int32_t>(entries_.size());
            entries_.push_back(RegisterSlot{&p, w, floating});
            for (int legacy = 0; legacy < 2; ++legacy) {
                if (b.variant == MapVariant::Legacy && !legacy) continue;
                if (b.variant == MapVariant::LogicalByType && legacy) continue;
                int32_t& s = slots_[index(reg, legacy != 0)];
                if (s >= 0) {
                    throw std::logic_error("register " + std::to_string(reg) + " of " + p.id +
                                           " is already " +
                                           entries_[static_cast<size_t>(s)].point->id);
                }
                s = e;
            }
        }
    };
    for (const Point& p : points) {
        place(p, p.integer, false);
        place(p, p.floating, true);
    }
    // Layout for exports: the register order of the map, legacy variant where both differ.
    for (uint32_t reg = 1; reg < kRegisters; ++reg) {
        for (int legacy = 0; legacy < 2; ++legacy) {
            const int32_t s = slots_[index(reg, legacy != 0)];
            if (s < 0) continue;
            if (legacy && slots_[index(reg, false)] == s) continue;  // same in both: listed once
            layout_.emplace_back(reg, entries_[static_cast<size_t>(s)]);
        }
    }
}

const ModbusMap& ModbusMap::instance() {
    static const ModbusMap m;
    return m;
}

size_t ModbusMap::index(uint32_t reg, bool legacy) {
    return (legacy ? kRegisters : 0) + (reg & 0xFFFF);
}

const RegisterSlot* ModbusMap::slot(uint32_t reg, bool legacy) const {
    if (reg == 0 || reg >= kRegisters) return nullptr;
    const int32_t s = slots_[index(reg, legacy)];
    return s < 0 ? nullptr : &entries_[static_cast<size_t>(s)];
}

ModbusException ModbusMap::read(const Context& ctx, uint32_t reg, size_t count,
                                uint16_t* out) const {
    const bool legacy =
        (ctx.settings.panel(ctx.panel).user_defined & user_bits::kLegacyMultiPhaseMap) != 0;
    for (size_t i = 0; i < count; ++i) {
        if (!slot(reg + static_cast<uint32_t>(i), legacy))
            return ModbusException::IllegalDataAddress;
    }
    for (size_t i = 0; i < count; ++i) {
        const RegisterSlot* s = slot(reg + static_cast<uint32_t>(i), legacy);
        out[i] = encode_word(*s->point, s->floating, s->word, ctx, legacy);
    }
    return ModbusException::None;
}

ModbusException modbus_exception(Refusal r) {
    switch (r) {
        case Refusal::None:
            return ModbusException::None;
        case Refusal::NotWritable:
            return ModbusException::IllegalDataAddress;
        case Refusal::WrongType:
        case Refusal::OutOfRange:
        case Refusal::NotWholeStep:
        case Refusal::Inconsistent:
            return ModbusException::IllegalDataValue;
        case Refusal::AccessDenied:   // the RTC while RTC_Control gives it to BACnet
        case Refusal::StorageFailed:  // valid, but not stored: nothing changed
            return ModbusException::ServerDeviceFailure;
    }
    return ModbusException::ServerDeviceFailure;
}

ModbusException ModbusMap::write_request(const Context& ctx, uint32_t reg,
                                         std::span<const uint16_t> values,
                                         WriteRequest& request) const {
    request.source = WriteSource::Modbus;
    request.items.clear();
    const bool legacy =
        (ctx.settings.panel(ctx.panel).user_defined & user_bits::kLegacyMultiPhaseMap) != 0;
    // Every register must be a writable integer register of the map.
    for (size_t i = 0; i < values.size(); ++i) {
        const RegisterSlot* s = slot(reg + static_cast<uint32_t>(i), legacy);
        if (!s || s->floating || s->point->access == Access::Read ||
            s->point->write == WriteKind::None)
            return ModbusException::IllegalDataAddress;
    }
    size_t i = 0;
    while (i < values.size()) {
        const RegisterSlot* s = slot(reg + static_cast<uint32_t>(i), legacy);
        const Point& p = *s->point;
        WriteItem item;
        item.point = &p;
        item.panel = ctx.panel;
        if (p.write == WriteKind::Setting && p.integer.repr == Repr::Text) {
            // The run of registers of the location string this write covers,
            // laid over the string as it is.
            const SettingDef* def = setting_def(p, ctx.panel);
            if (!def) return ModbusException::IllegalDataAddress;
            auto bytes = location_bytes(std::get<std::string>(def->get(ctx.settings)));
            size_t j = i;
            for (; j < values.size(); ++j) {
                const RegisterSlot* t = slot(reg + static_cast<uint32_t>(j), legacy);
                if (t->point != &p) break;
                bytes[2u * t->word] = static_cast<char>(values[j] >> 8);
                bytes[2u * t->word + 1] = static_cast<char>(values[j] & 0xFF);
            }
            std::string text;
            for (char c : bytes) {
                if (c == '\0') break;
                text.push_back(c);
            }
            item.value = std::move(text);
            request.items.push_back(std::move(item));
            i = j;
            continue;
        }
        item.value = int64_t{values[i]};
        request.items.push_back(std::move(item));
        ++i;
    }
    return ModbusException::None;
}

ModbusException ModbusMap::plan_write(const Context& ctx, uint32_t reg,
                                      std::span<const uint16_t> values, WritePlan& plan) const {
    plan = WritePlan{};
    WriteRequest request;
    const ModbusException e = write_request(ctx, reg, values, request);
    if (e != ModbusException::None) return e;
    return modbus_exception(plan_writes(request, ctx.settings, ctx.snapshot, plan).refusal);
}

}  // namespace openbcpm::points
