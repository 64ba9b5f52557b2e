#include "protocols/modbus/handler.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "points/modbus_map.hpp"

namespace openbcpm::modbus {

int Handler::panel_of(uint8_t unit) const {
    const Settings& s = device_.settings();
    const int base = s.gateway.modbus_address;
    int panel = 0;
    if (unit == base) panel = 1;
    if (unit == base + 1 && s.model.panels == 2) panel = 2;
    // A profile removed in Locked mode (Modbus the primary protocol): no unit for it.
    if (panel && !device_.serves_panel(FaceProtocol::Modbus, panel)) return 0;
    return panel;
}

std::optional<std::vector<uint8_t>> Handler::handle(uint8_t unit, std::span<const uint8_t> pdu,
                                                    Transport transport, uint64_t* ticket) {
    std::array<uint8_t, kMaxPdu> out;
    const size_t n = respond(unit, pdu, transport, ticket, out);
    if (n == 0) return std::nullopt;
    return std::vector<uint8_t>(out.begin(), out.begin() + static_cast<long>(n));
}

size_t Handler::respond(uint8_t unit, std::span<const uint8_t> pdu, Transport transport,
                        uint64_t* ticket, std::span<uint8_t, kMaxPdu> out) {
    ++stats_.requests;
    if (ticket) *ticket = 0;
    if (const size_t n = read_registers(unit, pdu, out)) return n;
    ticket_ = 0;
    const auto answer = answer_of(unit, pdu, transport);
    if (ticket) *ticket = ticket_;
    if (!answer) return 0;
    std::copy(answer->begin(), answer->end(), out.begin());
    return answer->size();
}

// The hot path: no decoding into a request object, no allocation.
size_t Handler::read_registers(uint8_t unit, std::span<const uint8_t> pdu,
                               std::span<uint8_t, kMaxPdu> out) {
    if (unit == 0 || pdu.size() != 5) return 0;
    const uint8_t function = pdu[0];
    if (function != fc::kReadHoldingRegisters && function != fc::kReadInputRegisters) return 0;
    const auto address = static_cast<uint16_t>(pdu[1] << 8 | pdu[2]);
    const auto quantity = static_cast<uint16_t>(pdu[3] << 8 | pdu[4]);
    // Anything the decoder refuses takes the general path and its exception.
    if (quantity < 1 || quantity > kMaxReadQuantity || uint32_t{address} + quantity > 0x10000)
        return 0;
    const int panel = panel_of(unit);
    if (panel == 0) return 0;
    const auto e = image_.read(panel, uint32_t{address} + 1, quantity, out.data() + 2);
    if (e != points::ModbusException::None) {
        ++stats_.exceptions;
        out[0] = static_cast<uint8_t>(function | 0x80);
        out[1] = static_cast<uint8_t>(e);
        return 2;
    }
    out[0] = function;
    out[1] = static_cast<uint8_t>(2 * quantity);
    return 2 + 2 * size_t{quantity};
}

std::optional<std::vector<uint8_t>> Handler::answer_of(uint8_t unit, std::span<const uint8_t> pdu,
                                                       Transport transport) {
    const Decoded d = decode_request(pdu);
    if (unit == 0) {
        // Broadcast: writes go to every panel; nothing is answered.
        ++stats_.broadcasts;
        if (d.request && (std::holds_alternative<WriteSingle>(*d.request) ||
                          std::holds_alternative<WriteMultiple>(*d.request))) {
            for (int panel = 1; panel <= device_.settings().model.panels; ++panel) {
                if (device_.serves_panel(FaceProtocol::Modbus, panel)) serve(panel, d);
            }
        }
        return std::nullopt;
    }
    const int panel = panel_of(unit);
    if (panel == 0) {
        ++stats_.not_addressed;
        if (transport == Transport::Rtu) return std::nullopt;  // another device on the bus
        ++stats_.exceptions;
        return exception_response(d.function ? d.function : (pdu.empty() ? 0 : pdu[0]),
                                  ex::kGatewayTargetFailed);
    }
    std::vector<uint8_t> response = serve(panel, d);
    if (!response.empty() && (response[0] & 0x80)) ++stats_.exceptions;
    return response;
}

std::vector<uint8_t> Handler::serve(int panel, const Decoded& d) {
    if (!d.request) return exception_response(d.function, d.exception);
    const Settings& settings = device_.settings();
    return std::visit(
        [&](const auto& r) -> std::vector<uint8_t> {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, ReadRegisters>) {
                // The newest snapshot: a value metered in the last window is readable now.
                std::array<uint8_t, 2 * kMaxReadQuantity> bytes;
                const auto e =
                    image_.read(panel, uint32_t{r.address} + 1, r.quantity, bytes.data());
                if (e != points::ModbusException::None)
                    return exception_response(r.function, static_cast<uint8_t>(e));
                std::vector<uint8_t> out{r.function, static_cast<uint8_t>(2 * r.quantity)};
                out.insert(out.end(), bytes.begin(), bytes.begin() + 2 * r.quantity);
                return out;
            } else if constexpr (std::is_same_v<T, WriteSingle>) {
                const uint16_t v = r.value;
                const uint8_t e = write(panel, r.address, std::span<const uint16_t>(&v, 1));
                if (e) return exception_response(fc::kWriteSingleRegister, e);
                return write_single_response(r.address, r.value);
            } else if constexpr (std::is_same_v<T, WriteMultiple>) {
                const uint8_t e = write(panel, r.address, r.values);
                if (e) return exception_response(fc::kWriteMultipleRegisters, e);
                return write_multiple_response(r.address, static_cast<uint16_t>(r.values.size()));
            } else if constexpr (std::is_same_v<T, ReportServerId>) {
                // The family's text: model, serial number and location string.
                char sn[16];
                std::snprintf(sn, sizeof sn, "0x%08X", settings.identity.serial_number);
                const std::string text = "Schneider Electric " + settings.model.model_name() +
                                         " Branch Circuit Monitor, S/N=" + sn + ", Location=\"" +
                                         settings.panel(panel).location + "\"";
                return report_server_id_response(
                    static_cast<uint8_t>(settings.gateway.modbus_address + panel - 1), true, text);
            } else {
                return device_id(panel, r);
            }
        },
        *d.request);
}

// The registers become a write request on the catalogue's points; the one
// write path validates, stores and applies it (a refusal changes nothing).
uint8_t Handler::write(int panel, uint16_t address, std::span<const uint16_t> values) {
    const points::Context ctx{device_.snapshot(), device_.settings(), panel,
                              device_.power_up_counter(panel)};
    const auto e =
        points::ModbusMap::instance().write_request(ctx, uint32_t{address} + 1, values, request_);
    if (e != points::ModbusException::None) return static_cast<uint8_t>(e);
    const points::SubmitResult r = device_.submit(request_);
    if (!r.ok()) return static_cast<uint8_t>(points::modbus_exception(r.result.refusal));
    ticket_ = std::max(ticket_, r.ticket);
    return 0;
}

std::vector<uint8_t> Handler::device_id(int panel, const ReadDeviceId& r) {
    const Settings& s = device_.settings();
    char sn[16];
    std::snprintf(sn, sizeof sn, "%08X", s.identity.serial_number);
    char rev[16];
    std::snprintf(rev, sizeof rev, "%d.%03d", s.identity.firmware_rs / 1000,
                  s.identity.firmware_rs % 1000);
    const std::vector<DeviceIdObject> all{
        {0x00, "Schneider Electric"},
        {0x01, s.model.model_name()},
        {0x02, rev},
        {0x03, "www.se.com"},
        {0x04, "BCPME Series Branch Circuit Monitor"},
        {0x05, s.model.model_name() + " panel " + std::to_string(panel)},
        {0x06, "openbcpm"},
        {0x80, sn},
        {0x81, s.panel(panel).location},
    };
    // Conformity 0x83: basic, regular and extended objects, stream and individual access.
    constexpr uint8_t kConformity = 0x83;
    auto last_of = [](uint8_t code) -> uint8_t {
        return code == 1 ? 0x02 : code == 2 ? 0x06 : 0xFF;
    };
    if (r.code == 4) {
        for (const auto& o : all) {
            if (o.id == r.object_id) return device_id_response(4, kConformity, std::span(&o, 1));
        }
        return exception_response(fc::kEncapsulatedInterface, ex::kIllegalDataAddress);
    }
    // A stream starts at the requested object, or at 0 when that id is not in the category.
    const uint8_t last = last_of(r.code);
    uint8_t start = r.object_id;
    bool known = false;
    for (const auto& o : all)
        known = known || (o.id == start && o.id <= last);
    if (!known) start = 0;
    std::vector<DeviceIdObject> stream;
    for (const auto& o : all) {
        if (o.id >= start && o.id <= last) stream.push_back(o);
    }
    return device_id_response(r.code, kConformity, stream);
}

}  // namespace openbcpm::modbus
