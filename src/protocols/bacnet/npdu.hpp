// Network layer PDU (ASHRAE 135 clause 6): the control octet, DNET/DADR,
// SNET/SADR, hop count, and the network layer messages. Pure codec.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "protocols/bacnet/enums.hpp"
#include "protocols/bacnet/mac.hpp"

namespace openbcpm::bacnet {

inline constexpr uint16_t kGlobalNetwork = 0xFFFF;

// A network address: network number and MAC; an empty MAC is a broadcast on
// that network (DLEN = 0).
struct NetAddress {
    uint16_t net = 0;
    MacAddress mac;
    bool operator==(const NetAddress&) const = default;
    auto operator<=>(const NetAddress&) const = default;
};

enum class NetworkPriority : uint8_t {
    Normal = 0,
    Urgent = 1,
    CriticalEquipment = 2,
    LifeSafety = 3
};

struct NpduHeader {
    bool network_message = false;
    bool expecting_reply = false;
    NetworkPriority priority = NetworkPriority::Normal;
    std::optional<NetAddress> destination;  // DNET/DADR
    std::optional<NetAddress> source;       // SNET/SADR
    uint8_t hop_count = 255;
    uint8_t message_type = 0;  // when network_message
    uint16_t vendor_id = 0;    // for message types >= 0x80
};

struct Npdu {
    NpduHeader header;
    std::span<const uint8_t> payload;  // APDU or network message data
};

// Nullopt when the NPDU is malformed (wrong version, truncated, SNET 0xFFFF,
// SADR of length 0): clause 6 says drop it.
std::optional<Npdu> decode_npdu(std::span<const uint8_t> data);
std::vector<uint8_t> encode_npdu(const NpduHeader& h, std::span<const uint8_t> payload);
// The same appended to `out` (a sender's reused buffer).
void encode_npdu(std::vector<uint8_t>& out, const NpduHeader& h, std::span<const uint8_t> payload);

// --- Network layer messages (clause 6.4) ---

struct RoutingTableEntry {
    uint16_t net = 0;
    uint8_t port_id = 0;
    std::vector<uint8_t> port_info;
    bool operator==(const RoutingTableEntry&) const = default;
};

// A decoded network layer message payload.
struct NetworkMessageBody {
    NetworkMessage type = NetworkMessage::WhoIsRouterToNetwork;
    std::optional<uint16_t> net;  // Who-Is-Router (optional), Reject, Network-Number-Is
    std::vector<uint16_t> nets;   // I-Am-Router, Router-Busy/Available, I-Could-Be
    NetworkRejectReason reason = NetworkRejectReason::Other;
    uint8_t performance_index = 0;         // I-Could-Be-Router
    std::vector<RoutingTableEntry> table;  // Initialize-Routing-Table(-Ack)
    bool configured = false;               // Network-Number-Is: 1 = configured, 0 = learned
};

// Nullopt for a malformed body or a message type this decoder does not know.
std::optional<NetworkMessageBody> decode_network_message(uint8_t type,
                                                         std::span<const uint8_t> data);
std::vector<uint8_t> encode_network_message(const NetworkMessageBody& m);

}  // namespace openbcpm::bacnet
