// Modbus codec: pure functions over byte spans. PDUs (Modbus Application
// Protocol 1.1b3), the TCP ADU (MBAP header) and the RTU ADU (address, CRC-16).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace openbcpm::modbus {

namespace fc {
inline constexpr uint8_t kReadHoldingRegisters = 0x03;
inline constexpr uint8_t kReadInputRegisters = 0x04;
inline constexpr uint8_t kWriteSingleRegister = 0x06;
inline constexpr uint8_t kWriteMultipleRegisters = 0x10;
inline constexpr uint8_t kReportServerId = 0x11;
inline constexpr uint8_t kEncapsulatedInterface = 0x2B;
inline constexpr uint8_t kMeiReadDeviceId = 0x0E;
}  // namespace fc

namespace ex {
inline constexpr uint8_t kIllegalFunction = 0x01;
inline constexpr uint8_t kIllegalDataAddress = 0x02;
inline constexpr uint8_t kIllegalDataValue = 0x03;
inline constexpr uint8_t kServerDeviceFailure = 0x04;
inline constexpr uint8_t kGatewayTargetFailed = 0x0B;
}  // namespace ex

inline constexpr size_t kMaxPdu = 253;
inline constexpr uint16_t kMaxReadQuantity = 125;
inline constexpr uint16_t kMaxWriteQuantity = 123;

struct ReadRegisters {
    uint8_t function = fc::kReadHoldingRegisters;
    uint16_t address = 0;  // PDU address (register number - 1)
    uint16_t quantity = 0;
};
struct WriteSingle {
    uint16_t address = 0;
    uint16_t value = 0;
};
struct WriteMultiple {
    uint16_t address = 0;
    std::vector<uint16_t> values;
};
struct ReportServerId {};
struct ReadDeviceId {
    uint8_t code = 1;  // 1 basic, 2 regular, 3 extended, 4 one object
    uint8_t object_id = 0;
};

using Request =
    std::variant<ReadRegisters, WriteSingle, WriteMultiple, ReportServerId, ReadDeviceId>;

// The outcome of decoding a request PDU: a request, or the exception to answer.
struct Decoded {
    uint8_t function = 0;
    std::optional<Request> request;
    uint8_t exception = 0;  // when !request
};

Decoded decode_request(std::span<const uint8_t> pdu);

// Response PDUs.
std::vector<uint8_t> exception_response(uint8_t function, uint8_t code);
std::vector<uint8_t> read_response(uint8_t function, std::span<const uint16_t> registers);
std::vector<uint8_t> write_single_response(uint16_t address, uint16_t value);
std::vector<uint8_t> write_multiple_response(uint16_t address, uint16_t quantity);
std::vector<uint8_t> report_server_id_response(uint8_t server_id, bool running,
                                               std::string_view text);
struct DeviceIdObject {
    uint8_t id;
    std::string value;
};
// Encodes as many objects as fit, starting at objects[first]; sets more-follows.
std::vector<uint8_t> device_id_response(uint8_t code, uint8_t conformity,
                                        std::span<const DeviceIdObject> objects);

// --- Modbus TCP ---
struct MbapHeader {
    uint16_t transaction = 0;
    uint16_t protocol = 0;
    uint16_t length = 0;  // unit id + PDU
    uint8_t unit = 0;
};
inline constexpr size_t kMbapSize = 7;

enum class FrameStatus { NeedMore, Complete, Invalid };
// Looks at the start of a TCP stream: is a whole ADU there, and how long is it?
FrameStatus tcp_frame(std::span<const uint8_t> stream, size_t& adu_length);
MbapHeader decode_mbap(std::span<const uint8_t> adu);
std::vector<uint8_t> tcp_adu(const MbapHeader& request, std::span<const uint8_t> pdu);

// --- Modbus RTU ---
uint16_t crc16(std::span<const uint8_t> bytes);
struct RtuFrame {
    uint8_t address = 0;
    std::span<const uint8_t> pdu;
};
// A received frame (delimited by silence): address, PDU, valid CRC.
std::optional<RtuFrame> decode_rtu(std::span<const uint8_t> frame);
std::vector<uint8_t> rtu_adu(uint8_t address, std::span<const uint8_t> pdu);

}  // namespace openbcpm::modbus
