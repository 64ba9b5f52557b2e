// libFuzzer target: one datagram through the message codec and the agent.
// Beyond "no crash, no sanitizer report" it checks that a decoded message
// re-encodes to one that decodes the same, and that every answer is a
// well-formed Response to the request within the agent's size limit.
#include <cstdlib>

#include "fixed_model.hpp"
#include "protocols/snmp/agent.hpp"
#include "protocols/snmp/meter_view.hpp"
#include "test_mib.hpp"

namespace {

using namespace openbcpm::snmp;

void require(bool ok) {
    if (!ok) std::abort();
}

void round_trip(const Decoded& d) {
    const Decoded again = decode_message(encode_message(d.message));
    require(again.status == DecodeStatus::Ok);
    const Message& a = d.message;
    const Message& b = again.message;
    require(a.version == b.version && a.community == b.community);
    require(a.pdu.type == b.pdu.type && a.pdu.request_id == b.pdu.request_id);
    require(a.pdu.error_status == b.pdu.error_status && a.pdu.error_index == b.pdu.error_index);
    require(a.pdu.varbinds == b.pdu.varbinds);
}

// Agents built once; every input starts from the same state (Sets and
// counters are put back), so that a finding replays alike. Beside the test
// MIB they serve the product MIB over two seconds of the embedded default
// meter (84 channels, two panels).
struct Fixture {
    testmib::TestMib mib{20, true, 300};
    const std::vector<testmib::Row> rows = mib.rows;
    openbcpm::snmp::testing::FixedModel model{openbcpm::default_config(), 2.0};
    std::shared_ptr<openbcpm::snmp::meter::MeterView> meter =
        std::make_shared<openbcpm::snmp::meter::MeterView>(model);
    std::unique_ptr<Agent> roomy = make(kMaxUdpPayload);
    // At the 484 octets every entity must accept (RFC 3417): tooBig and GetBulk truncation.
    std::unique_ptr<Agent> tight = make(484);

    std::unique_ptr<Agent> make(size_t max_message_size) {
        AgentConfig config;
        config.uptime = [] { return 12345u; };
        config.set_serial_no = 7;
        config.max_message_size = max_message_size;
        config.system.descr = "fuzz";
        return std::make_unique<Agent>(config,
                                       std::vector<std::shared_ptr<MibView>>{mib.view(), meter});
    }

    void reset(Agent& agent) {
        model.put_back();
        mib.rows = rows;
        mib.locked = 0, mib.guarded = 10, mib.fragile = 10, mib.scarce = 10, mib.mode = 1,
        mib.stubborn = 10;
        Snmpv2MibState& s = agent.mib_state();
        s.counters = {};
        s.system.contact.clear();
        s.system.name.clear();
        s.system.location.clear();
        s.enable_authen_traps = 2;
        s.set_serial_no = 7;
    }
};

void answer(Fixture& f, Agent& agent, size_t limit, std::span<const uint8_t> datagram,
            const Decoded& d) {
    f.reset(agent);
    const auto response = agent.handle(datagram);
    if (!response) return;
    require(response->size() <= limit);
    require(d.status == DecodeStatus::Ok);
    const Decoded r = decode_message(*response);
    require(r.status == DecodeStatus::Ok);
    require(r.message.pdu.type == PduType::Response);
    require(r.message.pdu.request_id == d.message.pdu.request_id);
    require(r.message.community == d.message.community);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Fixture f;
    const std::span<const uint8_t> datagram(data, size);
    const Decoded d = decode_message(datagram);
    if (d.status == DecodeStatus::Ok) round_trip(d);
    answer(f, *f.roomy, kMaxUdpPayload, datagram, d);
    answer(f, *f.tight, 484, datagram, d);
    return 0;
}
