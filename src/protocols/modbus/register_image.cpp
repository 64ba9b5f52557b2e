#include "protocols/modbus/register_image.hpp"

#include <algorithm>
#include <cstring>

namespace openbcpm::modbus {

namespace {

// The settings the registers are read with. The model is fixed for the
// meter's life; everything a write can change is compared.
bool same_settings(const Settings& a, const Settings& b) {
    return a.model.branch_channels == b.model.branch_channels && a.identity == b.identity &&
           a.gateway == b.gateway && a.panels == b.panels;
}

// The newest write ticket applied, from `known` on (tickets count up from 1):
// doubling steps, then halving, so a few calls whatever number of writes
// went by. A model that says every ticket is applied gives the largest.
uint64_t newest_applied(const MeterModel& model, uint64_t known) {
    constexpr uint64_t kMost = ~uint64_t{0};
    if (known == kMost || !model.applied(known + 1)) return known;
    uint64_t lo = known + 1;  // applied
    uint64_t hi = 0;          // not applied
    for (uint64_t step = 1;; step *= 2) {
        if (step > kMost - lo) return kMost;
        if (!model.applied(lo + step)) {
            hi = lo + step;
            break;
        }
        lo += step;
    }
    while (hi - lo > 1) {
        const uint64_t mid = lo + (hi - lo) / 2;
        if (model.applied(mid))
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

// Which registers the map has, a bit each, per variant (62017 bit 3 clear,
// set): a read's bounds are checked a 64-bit word at a time.
struct MapBits {
    std::array<std::array<uint64_t, 65536 / 64>, 2> bits{};
    MapBits() {
        const auto& map = points::ModbusMap::instance();
        for (int legacy = 0; legacy < 2; ++legacy) {
            for (uint32_t reg = 1; reg < 65536; ++reg) {
                if (map.slot(reg, legacy != 0))
                    bits[static_cast<size_t>(legacy)][reg / 64] |= uint64_t{1} << (reg % 64);
            }
        }
    }
    bool all(bool legacy, uint32_t reg, uint32_t end) const {
        const auto& b = bits[legacy ? 1 : 0];
        while (reg < end) {
            const uint32_t bit = reg % 64;
            const uint32_t n = std::min(64 - bit, end - reg);
            const uint64_t mask = (n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1) << bit;
            if ((b[reg / 64] & mask) != mask) return false;
            reg += n;
        }
        return true;
    }
};

const MapBits& map_bits() {
    static const MapBits bits;  // shared by every meter of the process
    return bits;
}

bool legacy_map(const Settings& s, int panel) {
    return (s.panel(panel).user_defined & user_bits::kLegacyMultiPhaseMap) != 0;
}

}  // namespace

RegisterImage::RegisterImage(MeterModel& model)
    : model_(model), snapshot_(std::make_unique<MeterSnapshot>()) {}

void RegisterImage::refresh() {
    // Writes first: a snapshot fetched after this shows every write seen
    // applied here (the meter publishes it before it marks the write applied).
    const uint64_t applied = newest_applied(model_, applied_);
    bool changed = generation_ == 0 || applied != applied_;
    applied_ = applied;
    const MeterSnapshot& s = model_.snapshot();
    Key key;
    key.where = &s;
    key.sequence = s.sequence;
    key.time = s.time;
    key.rtc = s.rtc;
    const Settings& settings = model_.settings();
    for (int p = 1; p <= settings.model.panels && p <= kMaxPanels; ++p) {
        key.health[static_cast<size_t>(p - 1)] = s.panel[static_cast<size_t>(p - 1)].health;
        key.power_up[static_cast<size_t>(p - 1)] = model_.power_up_counter(p);
    }
    const uint64_t version = model_.settings_version();
    const bool same =
        version != 0 ? version == settings_version_ : same_settings(settings, settings_);
    if (!changed && key == key_ && same) return;
    key_ = key;
    settings_version_ = version;
    *snapshot_ = s;
    settings_ = settings;
    ++generation_;  // every page rendered before is out of date
}

void RegisterImage::render(Panel& panel, int number, uint32_t page) {
    const auto& map = points::ModbusMap::instance();
    const bool legacy = legacy_map(settings_, number);
    const points::Context ctx{*snapshot_, settings_, number,
                              key_.power_up[static_cast<size_t>(number - 1)]};
    const uint32_t first = page * kPageRegisters;
    for (uint32_t reg = first; reg < first + kPageRegisters; ++reg) {
        uint16_t w = 0;
        if (const points::RegisterSlot* s = map.slot(reg, legacy))
            w = points::encode_word(*s->point, s->floating, s->word, ctx, legacy);
        panel.bytes[2 * reg] = static_cast<uint8_t>(w >> 8);
        panel.bytes[2 * reg + 1] = static_cast<uint8_t>(w & 0xFF);
    }
    panel.rendered[page] = generation_;
    ++pages_rendered_;
}

points::ModbusException RegisterImage::read(int panel, uint32_t reg, size_t count, uint8_t* out) {
    if (panel < 1 || panel > kMaxPanels || reg == 0 || count == 0 || reg + count > 65536)
        return points::ModbusException::IllegalDataAddress;
    refresh();
    const auto end = static_cast<uint32_t>(reg + count);
    if (!map_bits().all(legacy_map(settings_, panel), reg, end))
        return points::ModbusException::IllegalDataAddress;
    Panel& p = panels_[static_cast<size_t>(panel - 1)];
    if (p.bytes.empty()) {
        p.bytes.assign(2 * 65536, 0);
        p.rendered.assign(kPages, 0);
    }
    for (uint32_t page = reg / kPageRegisters; page <= (end - 1) / kPageRegisters; ++page) {
        if (p.rendered[page] != generation_) render(p, panel, page);
    }
    std::memcpy(out, p.bytes.data() + 2 * size_t{reg}, 2 * count);
    return points::ModbusException::None;
}

}  // namespace openbcpm::modbus
