// The registers of each panel as the map encodes them, rendered once per state
// of the meter and lazily, a page at a time, on the first read that needs
// them: a read is then a bounds check and a copy.
//
// The state is the newest snapshot with the settings and power-up counters it
// is read with. Before each read the image checks whether any of them changed
// (a snapshot published, a write applied, a setting or counter changed, on
// any face) and if so takes a copy of the new state and forgets what it
// rendered. Pages are rendered from that copy only, so that every register a
// request reads comes from one snapshot, and a write whose answer went out is
// in the next read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "metering/snapshot.hpp"
#include "model/meter_model.hpp"
#include "points/modbus_map.hpp"

namespace openbcpm::modbus {

class RegisterImage {
  public:
    // Registers per page: the unit of rendering.
    static constexpr uint32_t kPageRegisters = 64;

    explicit RegisterImage(MeterModel& model);

    // Reads `count` registers from `reg` (1-based) of `panel` into `out`
    // (2 * count bytes, each register most significant byte first), from the
    // meter's newest state. Every register must belong to the map
    // (IllegalDataAddress otherwise, as ModbusMap::read).
    points::ModbusException read(int panel, uint32_t reg, size_t count, uint8_t* out);

    // States taken and pages rendered since construction (tests, benchmarks).
    uint64_t generation() const { return generation_; }
    uint64_t pages_rendered() const { return pages_rendered_; }

  private:
    static constexpr uint32_t kPages = 65536 / kPageRegisters;
    struct Panel {
        std::vector<uint8_t> bytes;      // 65536 registers, big-endian
        std::vector<uint64_t> rendered;  // per page: the generation it shows
    };
    // What the registers are a function of, besides the settings.
    struct Key {
        const MeterSnapshot* where = nullptr;  // which published slot
        uint64_t sequence = 0;
        double time = 0.0;
        int64_t rtc = 0;
        std::array<uint16_t, kMaxPanels> health{};
        std::array<int, kMaxPanels> power_up{};
        bool operator==(const Key&) const = default;
    };

    void refresh();
    void render(Panel& panel, int number, uint32_t page);

    MeterModel& model_;
    uint64_t applied_ = 0;           // the newest write ticket known to be applied
    uint64_t settings_version_ = 0;  // of settings_ (MeterModel::settings_version)
    uint64_t generation_ = 0;        // 0: no state taken yet
    uint64_t pages_rendered_ = 0;
    Key key_;
    std::unique_ptr<MeterSnapshot> snapshot_;  // the state's own copies
    Settings settings_;
    std::array<Panel, kMaxPanels> panels_;
};

}  // namespace openbcpm::modbus
