// libFuzzer target: BVLL, NPDU, APDU and service decoding, and the engine's
// handling of a received datagram (B/IP link with BBMD on, the datagram
// arriving as a unicast and as a broadcast, virtual router, the test node's
// devices). The engine keeps its state across inputs, as a running meter
// would; time advances a little with each input.
#include <cstddef>
#include <cstdint>
#include <span>

#include "protocols/bacnet/apdu.hpp"
#include "protocols/bacnet/bip_link.hpp"
#include "protocols/bacnet/bvll.hpp"
#include "protocols/bacnet/npdu.hpp"
#include "protocols/bacnet/router.hpp"
#include "protocols/bacnet/services.hpp"
#include "test_database.hpp"

using namespace openbcpm::bacnet;

namespace {

struct Harness {
    std::unique_ptr<testbed::TestNode> node = testbed::make_test_node(8);
    Clock::time_point now = Clock::time_point{} + std::chrono::hours(1);
    size_t sent_bytes = 0;
    BipLink link{BipAddress{{127, 0, 0, 1}, 47808},
                 {255, 255, 255, 0},
                 [this](const BipAddress&, std::span<const uint8_t> d) { sent_bytes += d.size(); }};
    VirtualRouter router{node->config, hooks()};

    RouterHooks hooks() {
        RouterHooks h;
        h.clock = [this] { return now; };
        h.local_time = [] { return DateTime{Date{126, 11, 24, 2}, Time{10, 0, 0, 0}}; };
        h.reinitialize = [](ReinitializedState) { return true; };
        return h;
    }
    Harness() {
        link.enable_bbmd({{BipAddress{{127, 0, 0, 1}, 47808}, {255, 255, 255, 255}},
                          {BipAddress{{127, 0, 0, 2}, 47808}, {255, 255, 255, 255}}});
        router.attach(link);
        router.start(now);
    }
};

template <class F>
void quietly(F f) {
    try {
        f();
    } catch (const DecodeError&) {
    }
}

void decode_services(std::span<const uint8_t> d) {
    quietly([&] { (void)decode_elements(d); });
    quietly([&] { (void)decode_who_is(d); });
    quietly([&] { (void)decode_i_am(d); });
    quietly([&] { (void)decode_who_has(d); });
    quietly([&] { (void)decode_time_sync(d); });
    quietly([&] { (void)decode_read_property(d); });
    quietly([&] { (void)decode_read_property_ack(d); });
    quietly([&] { (void)decode_read_property_multiple(d); });
    quietly([&] { (void)decode_read_property_multiple_ack(d); });
    quietly([&] { (void)decode_write_property(d); });
    quietly([&] { (void)decode_write_property_multiple(d); });
    quietly([&] { (void)decode_subscribe_cov(d); });
    quietly([&] { (void)decode_cov_notification(d); });
    quietly([&] { (void)decode_event_notification(d); });
    quietly([&] { (void)decode_acknowledge_alarm(d); });
    quietly([&] { (void)decode_get_event_information(d); });
    quietly([&] { (void)decode_get_event_information_ack(d); });
    quietly([&] { (void)decode_device_communication_control(d); });
    quietly([&] { (void)decode_reinitialize_device(d); });
    quietly([&] { (void)decode_list_element(d); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Harness h;
    const std::span<const uint8_t> in(data, size);

    // Pure decoders on the raw input.
    if (auto b = decode_bvll(in)) (void)b->npdu.size();
    if (auto n = decode_npdu(in)) {
        if (n->header.network_message)
            (void)decode_network_message(n->header.message_type, n->payload);
    }
    if (auto a = decode_apdu(in)) decode_services(a->data);
    decode_services(in);
    (void)parse_bdt_ini(std::string_view(reinterpret_cast<const char*>(data), size));

    // The engine: the input as a datagram from a client, from a BDT peer
    // (each sent to our address and to a broadcast address: Annex J treats
    // them differently), and wrapped in a BVLL so that the NPDU/APDU paths
    // are reached directly.
    h.now += std::chrono::milliseconds(250);
    for (const Arrival arrival : {Arrival::Unicast, Arrival::Broadcast}) {
        h.link.receive(BipAddress{{127, 0, 0, 9}, 47808}, in, h.now, arrival);
        h.link.receive(BipAddress{{127, 0, 0, 2}, 47808}, in, h.now, arrival);
    }
    const auto wrapped = encode_bvll_npdu(BvlcFunction::OriginalUnicastNpdu, in);
    h.link.receive(BipAddress{{127, 0, 0, 9}, 47808}, wrapped, h.now);
    h.router.tick(h.now);
    h.link.tick(h.now);
    return 0;
}
