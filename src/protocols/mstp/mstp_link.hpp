// The BACnet datalink over MS/TP: NPDUs from the network layer become
// BACnet Data frames queued for this node's token (Data Expecting Reply when
// the NPDU's control octet says so and the frame goes to one station), and
// data frames received become NPDUs delivered with a 1-octet LinkAddress.
#pragma once

#include <cstdint>
#include <span>

#include "protocols/bacnet/datalink.hpp"
#include "protocols/mstp/master_node.hpp"

namespace openbcpm::mstp {

// Largest APDU over MS/TP without the COBS-encoded extended frames (clause
// 9.3: 501 data octets = 480 APDU + the largest NPCI).
inline constexpr size_t kMstpMaxApdu = 480;

class MstpLink : public bacnet::Datalink {
  public:
    struct Stats {
        uint64_t npdus_in = 0, npdus_out = 0, dropped_out = 0;
    };

    MstpLink(NodeConfig config, MasterNode::Transmit transmit);

    // `to` is empty (broadcast, MAC 255) or one octet; anything else is dropped.
    void send_npdu(std::span<const uint8_t> npdu, const bacnet::LinkAddress& to) override;
    size_t max_apdu() const override { return kMstpMaxApdu; }

    MasterNode& node() { return node_; }
    const MasterNode& node() const { return node_; }
    const Stats& stats() const { return stats_; }

  private:
    void indicate(const Frame& f);

    MasterNode node_;
    Stats stats_;
};

// The NPDU control octet's data_expecting_reply bit (clause 6.2.2).
bool npdu_expects_reply(std::span<const uint8_t> npdu);

}  // namespace openbcpm::mstp
