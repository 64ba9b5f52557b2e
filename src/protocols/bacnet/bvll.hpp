// BACnet Virtual Link Layer of BACnet/IP (ASHRAE 135 Annex J): the 4-octet
// header, the BVLC functions and their payloads. Pure codec.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace openbcpm::bacnet {

enum class BvlcFunction : uint8_t {
    Result = 0x00,
    WriteBdt = 0x01,
    ReadBdt = 0x02,
    ReadBdtAck = 0x03,
    ForwardedNpdu = 0x04,
    RegisterForeignDevice = 0x05,
    ReadFdt = 0x06,
    ReadFdtAck = 0x07,
    DeleteFdtEntry = 0x08,
    DistributeBroadcastToNetwork = 0x09,
    OriginalUnicastNpdu = 0x0A,
    OriginalBroadcastNpdu = 0x0B,
    SecureBvll = 0x0C,
};

// BVLC-Result codes (Annex J.2.1.1).
enum class BvlcResult : uint16_t {
    Success = 0x0000,
    WriteBdtNak = 0x0010,
    ReadBdtNak = 0x0020,
    RegisterForeignDeviceNak = 0x0030,
    ReadFdtNak = 0x0040,
    DeleteFdtEntryNak = 0x0050,
    DistributeBroadcastToNetworkNak = 0x0060,
};

inline constexpr uint8_t kBvllTypeBip = 0x81;
inline constexpr size_t kBipMaxNpdu = 1497;  // largest NPDU of BACnet/IP (Annex J, Table 6-1)

// A B/IP address: IPv4 address and UDP port, 6 octets on the wire.
struct BipAddress {
    std::array<uint8_t, 4> ip{};
    uint16_t port = 0;
    bool operator==(const BipAddress&) const = default;
    auto operator<=>(const BipAddress&) const = default;
    std::array<uint8_t, 6> bytes() const {
        return {ip[0],
                ip[1],
                ip[2],
                ip[3],
                static_cast<uint8_t>(port >> 8),
                static_cast<uint8_t>(port)};
    }
    static std::optional<BipAddress> from_bytes(std::span<const uint8_t> b);
    uint32_t ip_u32() const {
        return (uint32_t{ip[0]} << 24) | (uint32_t{ip[1]} << 16) | (uint32_t{ip[2]} << 8) | ip[3];
    }
    static BipAddress from_u32(uint32_t ip, uint16_t port) {
        return {{static_cast<uint8_t>(ip >> 24), static_cast<uint8_t>(ip >> 16),
                 static_cast<uint8_t>(ip >> 8), static_cast<uint8_t>(ip)},
                port};
    }
    std::string to_string() const;
    static std::optional<BipAddress> parse(std::string_view ip, uint16_t port);
};

struct BdtEntry {
    BipAddress address;
    std::array<uint8_t, 4> mask{255, 255, 255, 255};
    bool operator==(const BdtEntry&) const = default;
    uint32_t mask_u32() const {
        return (uint32_t{mask[0]} << 24) | (uint32_t{mask[1]} << 16) | (uint32_t{mask[2]} << 8) |
               mask[3];
    }
};

struct FdtEntry {
    BipAddress address;
    uint16_t ttl = 0;        // as registered
    uint16_t remaining = 0;  // seconds left, including the 30 s grace
    bool operator==(const FdtEntry&) const = default;
};

// A decoded BVLL message. `npdu` points into the datagram.
struct Bvll {
    BvlcFunction function = BvlcFunction::OriginalUnicastNpdu;
    std::span<const uint8_t> npdu;
    BipAddress origin;          // Forwarded-NPDU: original source
    uint16_t result = 0;        // BVLC-Result
    uint16_t ttl = 0;           // Register-Foreign-Device
    std::vector<BdtEntry> bdt;  // Write-BDT, Read-BDT-Ack
    std::vector<FdtEntry> fdt;  // Read-FDT-Ack
    BipAddress entry;           // Delete-FDT-Entry
};

// Decodes a datagram; nullopt when it is not a well-formed B/IP BVLL message
// (Annex J says such datagrams are dropped).
std::optional<Bvll> decode_bvll(std::span<const uint8_t> datagram);

std::vector<uint8_t> encode_bvll_npdu(BvlcFunction f, std::span<const uint8_t> npdu);
// The same appended to `out` (a sender's reused buffer).
void encode_bvll_npdu(std::vector<uint8_t>& out, BvlcFunction f, std::span<const uint8_t> npdu);
std::vector<uint8_t> encode_forwarded_npdu(const BipAddress& origin, std::span<const uint8_t> npdu);
std::vector<uint8_t> encode_bvlc_result(BvlcResult r);
std::vector<uint8_t> encode_register_foreign_device(uint16_t ttl);
std::vector<uint8_t> encode_read_bdt();
std::vector<uint8_t> encode_read_bdt_ack(std::span<const BdtEntry> bdt);
std::vector<uint8_t> encode_write_bdt(std::span<const BdtEntry> bdt);
std::vector<uint8_t> encode_read_fdt();
std::vector<uint8_t> encode_read_fdt_ack(std::span<const FdtEntry> fdt);
std::vector<uint8_t> encode_delete_fdt_entry(const BipAddress& a);

// bdt.ini as the guide defines it: "//" comments, one "ip,port,mask" per line,
// no spaces. Returns the table, or the first error with its line number.
struct BdtParse {
    std::vector<BdtEntry> entries;
    std::string error;  // empty when the file is valid
    bool ok() const { return error.empty(); }
};
BdtParse parse_bdt_ini(std::string_view text);

}  // namespace openbcpm::bacnet
