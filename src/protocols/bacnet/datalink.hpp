// The datalink seam: the network layer sends and receives NPDUs through a
// Datalink and knows nothing of UDP or RS-485. BACnet/IP (BipLink) is one;
// an MS/TP datalink plugs in the same way.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "protocols/bacnet/mac.hpp"

namespace openbcpm::bacnet {

// A station address on the datalink (6 octets for B/IP, 1 for MS/TP);
// empty means the local broadcast.
using LinkAddress = MacAddress;

class Datalink {
  public:
    virtual ~Datalink() = default;
    // Sends an NPDU to a station, or as a local broadcast when `to` is empty.
    virtual void send_npdu(std::span<const uint8_t> npdu, const LinkAddress& to) = 0;
    // Largest APDU the datalink carries (1476 for B/IP, 480 for MS/TP).
    virtual size_t max_apdu() const = 0;

    // The network layer's entry point for every NPDU received; `broadcast`
    // says whether the datalink received it as a broadcast.
    using Receiver =
        std::function<void(std::span<const uint8_t> npdu, const LinkAddress& from, bool broadcast)>;
    void set_receiver(Receiver r) { receiver_ = std::move(r); }

  protected:
    void deliver(std::span<const uint8_t> npdu, const LinkAddress& from, bool broadcast) const {
        if (receiver_) receiver_(npdu, from, broadcast);
    }

  private:
    Receiver receiver_;
};

}  // namespace openbcpm::bacnet
