// libFuzzer target: datagrams into the meter's BACnet node as the binary
// runs it: the MeterNode (router, panel devices, the catalogue's objects)
// under a B/IP link with BBMD on, on a fixed model (model/fixed_model.hpp:
// the embedded configuration's settings and a snapshot metered once, no
// threads). Writes that pass change the model's settings and are recorded,
// so the node keeps its state across inputs as a running meter would.
#include <cstddef>
#include <cstdint>
#include <span>

#include "config/config.hpp"
#include "model/fixed_model.hpp"
#include "protocols/bacnet/bip_link.hpp"
#include "protocols/bacnet/bvll.hpp"
#include "protocols/bacnet/meter_node.hpp"

using namespace openbcpm;
using namespace openbcpm::bacnet;

namespace {

struct Harness {
    FixedModel model{default_config()};
    MeterNode node{model};
    BipLink link{BipAddress{{127, 0, 0, 1}, 47808},
                 {255, 255, 255, 0},
                 [](const BipAddress&, std::span<const uint8_t>) {}};

    Harness() {
        link.enable_bbmd({{BipAddress{{127, 0, 0, 1}, 47808}, {255, 255, 255, 255}},
                          {BipAddress{{127, 0, 0, 2}, 47808}, {255, 255, 255, 255}}});
        node.router().attach(link);
        node.router().start(Clock::now());
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Harness h;
    const std::span<const uint8_t> in(data, size);
    const auto now = Clock::now();
    // As a datagram from a client, and wrapped as an Original-Unicast-NPDU
    // so that the NPDU and APDU paths are reached directly.
    h.link.receive(BipAddress{{127, 0, 0, 9}, 47808}, in, now);
    const auto wrapped = encode_bvll_npdu(BvlcFunction::OriginalUnicastNpdu, in);
    h.link.receive(BipAddress{{127, 0, 0, 9}, 47808}, wrapped, now);
    h.node.router().tick(now);
    h.link.tick(now);
    return 0;
}
