// The Modbus register map of a panel: the catalogue's points laid out at the
// point map's register numbers, encoded as the map explains (scaled integers,
// 32-bit MSW-first, IEEE-754 floats MSW-first, packed ASCII), and the checks
// that turn a register write into a write request.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "points/catalogue.hpp"
#include "points/write_plan.hpp"

namespace openbcpm::points {

// Modbus exception codes (Modbus Application Protocol 1.1b3, section 7).
enum class ModbusException : uint8_t {
    None = 0,
    IllegalFunction = 0x01,
    IllegalDataAddress = 0x02,
    IllegalDataValue = 0x03,
    ServerDeviceFailure = 0x04,
    GatewayTargetFailed = 0x0B,
};

inline constexpr uint16_t kInvalidInteger = 0x8000;
inline constexpr uint32_t kInvalidFloat = 0x7FC00000;  // quiet NaN

struct RegisterSlot {
    const Point* point = nullptr;
    uint8_t word = 0;       // which word of the point's value
    bool floating = false;  // the float binding (else the integer one)
};

// The exception a refused write answers with.
ModbusException modbus_exception(Refusal r);

class ModbusMap {
  public:
    static const ModbusMap& instance();

    // The register at `reg` (1-based) for a panel; legacy = 62017 bit 3.
    const RegisterSlot* slot(uint32_t reg, bool legacy) const;

    // Reads `count` registers from `reg` (1-based) into `out`. Every register
    // must belong to the map (a hole gives IllegalDataAddress).
    ModbusException read(const Context& ctx, uint32_t reg, size_t count, uint16_t* out) const;

    // Turns a write of `values` at `reg` (1-based) into the write request on
    // the catalogue points those registers hold (the registers of the
    // location string it covers as one text). Only whether each register is
    // a writable one of the map is checked here (IllegalDataAddress); the
    // values are judged by plan_writes().
    ModbusException write_request(const Context& ctx, uint32_t reg,
                                  std::span<const uint16_t> values, WriteRequest& request) const;
    // write_request() and plan_writes() together (tests, tools): nothing applied.
    ModbusException plan_write(const Context& ctx, uint32_t reg, std::span<const uint16_t> values,
                               WritePlan& plan) const;

    // Registers in map order, for exports: (register, slot).
    const std::vector<std::pair<uint32_t, RegisterSlot>>& layout() const { return layout_; }

  private:
    ModbusMap();
    static size_t index(uint32_t reg, bool legacy);
    std::vector<int32_t> slots_;  // register -> index into entries_, per variant
    std::vector<RegisterSlot> entries_;
    std::vector<std::pair<uint32_t, RegisterSlot>> layout_;
};

// The value a point holds now, in engineering units (settings: their raw value).
Value point_value(const Point& p, const Context& ctx);

// The scale exponent that applies to a point's integer register.
int integer_scale(const Point& p, const Context& ctx, bool legacy);

// Encodes one word of a point (integer or float binding).
uint16_t encode_word(const Point& p, bool floating, int word, const Context& ctx, bool legacy);

}  // namespace openbcpm::points
