#include "protocols/modbus/codec.hpp"

namespace openbcpm::modbus {

namespace {

uint16_t be16(std::span<const uint8_t> b, size_t i) {
    return static_cast<uint16_t>(b[i] << 8 | b[i + 1]);
}

void put16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v & 0xFF));
}

Decoded refuse(uint8_t function, uint8_t code) {
    Decoded d;
    d.function = function;
    d.exception = code;
    return d;
}

Decoded accept(uint8_t function, Request r) {
    Decoded d;
    d.function = function;
    d.request = std::move(r);
    return d;
}

}  // namespace

Decoded decode_request(std::span<const uint8_t> pdu) {
    if (pdu.empty()) return refuse(0, ex::kIllegalFunction);
    const uint8_t f = pdu[0];
    switch (f) {
        case fc::kReadHoldingRegisters:
        case fc::kReadInputRegisters: {
            if (pdu.size() != 5) return refuse(f, ex::kIllegalDataValue);
            ReadRegisters r{f, be16(pdu, 1), be16(pdu, 3)};
            if (r.quantity < 1 || r.quantity > kMaxReadQuantity)
                return refuse(f, ex::kIllegalDataValue);
            if (uint32_t{r.address} + r.quantity > 0x10000)
                return refuse(f, ex::kIllegalDataAddress);
            return accept(f, r);
        }
        case fc::kWriteSingleRegister: {
            if (pdu.size() != 5) return refuse(f, ex::kIllegalDataValue);
            return accept(f, WriteSingle{be16(pdu, 1), be16(pdu, 3)});
        }
        case fc::kWriteMultipleRegisters: {
            if (pdu.size() < 6) return refuse(f, ex::kIllegalDataValue);
            const uint16_t address = be16(pdu, 1);
            const uint16_t quantity = be16(pdu, 3);
            const uint8_t bytes = pdu[5];
            if (quantity < 1 || quantity > kMaxWriteQuantity || bytes != 2 * quantity ||
                pdu.size() != 6u + bytes) {
                return refuse(f, ex::kIllegalDataValue);
            }
            if (uint32_t{address} + quantity > 0x10000) return refuse(f, ex::kIllegalDataAddress);
            WriteMultiple w;
            w.address = address;
            w.values.reserve(quantity);
            for (size_t i = 0; i < quantity; ++i)
                w.values.push_back(be16(pdu, 6 + 2 * i));
            return accept(f, std::move(w));
        }
        case fc::kReportServerId:
            if (pdu.size() != 1) return refuse(f, ex::kIllegalDataValue);
            return accept(f, ReportServerId{});
        case fc::kEncapsulatedInterface: {
            if (pdu.size() < 2) return refuse(f, ex::kIllegalDataValue);
            if (pdu[1] != fc::kMeiReadDeviceId) return refuse(f, ex::kIllegalFunction);
            if (pdu.size() != 4) return refuse(f, ex::kIllegalDataValue);
            const uint8_t code = pdu[2];
            if (code < 1 || code > 4) return refuse(f, ex::kIllegalDataValue);
            return accept(f, ReadDeviceId{code, pdu[3]});
        }
        default:
            return refuse(f, ex::kIllegalFunction);
    }
}

std::vector<uint8_t> exception_response(uint8_t function, uint8_t code) {
    return {static_cast<uint8_t>(function | 0x80), code};
}

std::vector<uint8_t> read_response(uint8_t function, std::span<const uint16_t> registers) {
    std::vector<uint8_t> out;
    out.reserve(2 + 2 * registers.size());
    out.push_back(function);
    out.push_back(static_cast<uint8_t>(2 * registers.size()));
    for (uint16_t r : registers)
        put16(out, r);
    return out;
}

std::vector<uint8_t> write_single_response(uint16_t address, uint16_t value) {
    std::vector<uint8_t> out{fc::kWriteSingleRegister};
    put16(out, address);
    put16(out, value);
    return out;
}

std::vector<uint8_t> write_multiple_response(uint16_t address, uint16_t quantity) {
    std::vector<uint8_t> out{fc::kWriteMultipleRegisters};
    put16(out, address);
    put16(out, quantity);
    return out;
}

std::vector<uint8_t> report_server_id_response(uint8_t server_id, bool running,
                                               std::string_view text) {
    // function, byte count, server id, run indicator, additional data.
    const size_t room = kMaxPdu - 4;
    const std::string_view data = text.substr(0, room);
    std::vector<uint8_t> out;
    out.reserve(4 + data.size());
    out.push_back(fc::kReportServerId);
    out.push_back(static_cast<uint8_t>(2 + data.size()));
    out.push_back(server_id);
    out.push_back(running ? 0xFF : 0x00);
    for (char c : data)
        out.push_back(static_cast<uint8_t>(c));
    return out;
}

std::vector<uint8_t> device_id_response(uint8_t code, uint8_t conformity,
                                        std::span<const DeviceIdObject> objects) {
    std::vector<uint8_t> out;
    out.reserve(kMaxPdu);
    for (uint8_t b : {fc::kEncapsulatedInterface, fc::kMeiReadDeviceId, code, conformity,
                      uint8_t{0}, uint8_t{0}, uint8_t{0}}) {
        out.push_back(b);
    }
    uint8_t count = 0;
    for (size_t i = 0; i < objects.size(); ++i) {
        const auto& o = objects[i];
        const size_t len = std::min<size_t>(o.value.size(), 0xFF);
        if (out.size() + 2 + len > kMaxPdu) {
            // The rest follows in the next request, starting at this object.
            out[4] = 0xFF;
            out[5] = o.id;
            break;
        }
        out.push_back(o.id);
        out.push_back(static_cast<uint8_t>(len));
        for (size_t k = 0; k < len; ++k)
            out.push_back(static_cast<uint8_t>(o.value[k]));
        ++count;
    }
    out[6] = count;
    return out;
}

FrameStatus tcp_frame(std::span<const uint8_t> stream, size_t& adu_length) {
    if (stream.size() < kMbapSize) return FrameStatus::NeedMore;
    const uint16_t length = be16(stream, 4);
    // The length counts the unit id and the PDU: 2..254 bytes (an ADU is at most 260).
    if (length < 2 || length > 1 + kMaxPdu) return FrameStatus::Invalid;
    adu_length = 6u + length;
    return stream.size() >= adu_length ? FrameStatus::Complete : FrameStatus::NeedMore;
}

MbapHeader decode_mbap(std::span<const uint8_t> adu) {
    return MbapHeader{be16(adu, 0), be16(adu, 2), be16(adu, 4), adu[6]};
}

std::vector<uint8_t> tcp_adu(const MbapHeader& request, std::span<const uint8_t> pdu) {
    std::vector<uint8_t> out;
    out.reserve(kMbapSize + pdu.size());
    put16(out, request.transaction);
    put16(out, request.protocol);
    put16(out, static_cast<uint16_t>(pdu.size() + 1));
    out.push_back(request.unit);
    out.insert(out.end(), pdu.begin(), pdu.end());
    return out;
}

uint16_t crc16(std::span<const uint8_t> bytes) {
    uint16_t crc = 0xFFFF;
    for (uint8_t b : bytes) {
        crc ^= b;
        for (int i = 0; i < 8; ++i)
            crc = (crc & 1) ? static_cast<uint16_t>((crc >> 1) ^ 0xA001) : crc >> 1;
    }
    return crc;
}

std::optional<RtuFrame> decode_rtu(std::span<const uint8_t> frame) {
    // address + function + CRC at least; at most 256 bytes.
    if (frame.size() < 4 || frame.size() > 256) return std::nullopt;
    const size_t n = frame.size() - 2;
    const uint16_t crc = static_cast<uint16_t>(frame[n] | frame[n + 1] << 8);  // CRC low byte first
    if (crc16(frame.first(n)) != crc) return std::nullopt;
    return RtuFrame{frame[0], frame.subspan(1, n - 1)};
}

std::vector<uint8_t> rtu_adu(uint8_t address, std::span<const uint8_t> pdu) {
    std::vector<uint8_t> out;
    out.reserve(pdu.size() + 3);
    out.push_back(address);
    out.insert(out.end(), pdu.begin(), pdu.end());
    const uint16_t crc = crc16(out);
    out.push_back(static_cast<uint8_t>(crc & 0xFF));
    out.push_back(static_cast<uint8_t>(crc >> 8));
    return out;
}

}  // namespace openbcpm::modbus
