// The Modbus application: a decoded request against one panel's register map,
// answered from the meter's newest snapshot; writes go through the one write
// path (Device::submit) and are answered once the meter shows them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "model/meter_model.hpp"
#include "points/write_plan.hpp"
#include "protocols/modbus/codec.hpp"
#include "protocols/modbus/register_image.hpp"

namespace openbcpm::modbus {

enum class Transport : uint8_t { Tcp, Rtu };

struct HandlerStats {
    uint64_t requests = 0;
    uint64_t exceptions = 0;
    uint64_t broadcasts = 0;
    uint64_t not_addressed = 0;
};

class Handler {
  public:
    explicit Handler(MeterModel& device) : device_(device), image_(device) {}

    // The response PDU for a request PDU addressed to `unit`, or nothing
    // (broadcasts, and RTU frames for other addresses, get no answer).
    // `ticket`, when given, gets the write's ticket: the answer goes out once
    // Device::when_applied(ticket) runs (0: at once).
    std::optional<std::vector<uint8_t>> handle(uint8_t unit, std::span<const uint8_t> pdu,
                                               Transport transport, uint64_t* ticket = nullptr);
    // The same, written into `out`: the response's length, 0 for no answer.
    // A register read allocates nothing: it is answered from the register
    // image (a bounds check and a copy).
    size_t respond(uint8_t unit, std::span<const uint8_t> pdu, Transport transport,
                   uint64_t* ticket, std::span<uint8_t, kMaxPdu> out);

    // The panel a unit address reaches (Modbus_Address and +1), 0 for none.
    int panel_of(uint8_t unit) const;
    const HandlerStats& stats() const { return stats_; }
    const RegisterImage& image() const { return image_; }

  private:
    std::optional<std::vector<uint8_t>> answer_of(uint8_t unit, std::span<const uint8_t> pdu,
                                                  Transport transport);
    std::vector<uint8_t> serve(int panel, const Decoded& d);
    uint8_t write(int panel, uint16_t address, std::span<const uint16_t> values);
    std::vector<uint8_t> device_id(int panel, const ReadDeviceId& r);

    // A read of registers 1..125 from a served unit, or 0 when it is not one.
    size_t read_registers(uint8_t unit, std::span<const uint8_t> pdu,
                          std::span<uint8_t, kMaxPdu> out);

    MeterModel& device_;
    RegisterImage image_;
    HandlerStats stats_;
    points::WriteRequest request_;  // reused: no allocation per write once warm
    uint64_t ticket_ = 0;
};

}  // namespace openbcpm::modbus
