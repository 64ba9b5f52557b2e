// libFuzzer target: one datagram through the message codec and the agent.
// Beyond "no crash, no sanitizer report" it checks that a decoded message
// re-encodes to one that decodes the same, and that every answer is a
// well-formed Response to the request within the agent's size limit.
#include <cstdlib>

#include "protocols/snmp/agent.hpp"
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

void answer(std::span<const uint8_t> datagram, const Decoded& d, size_t max_message_size) {
    testmib::TestMib mib(20, true, 300);
    AgentConfig config;
    config.uptime = [] { return 12345u; };
    config.set_serial_no = 7;
    config.max_message_size = max_message_size;
    config.system.descr = "fuzz";
    Agent agent(config, {mib.view()});
    int failures = 0;
    agent.on_authentication_failure = [&] { ++failures; };
    const auto response = agent.handle(datagram);
    if (!response) return;
    require(response->size() <= max_message_size);
    require(d.status == DecodeStatus::Ok);
    const Decoded r = decode_message(*response);
    require(r.status == DecodeStatus::Ok);
    require(r.message.pdu.type == PduType::Response);
    require(r.message.pdu.request_id == d.message.pdu.request_id);
    require(r.message.community == d.message.community);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> datagram(data, size);
    const Decoded d = decode_message(datagram);
    if (d.status == DecodeStatus::Ok) round_trip(d);
    // Once with room for anything, once at the 484 octets every entity must
    // accept (RFC 3417), which exercises tooBig and GetBulk truncation.
    answer(datagram, d, kMaxUdpPayload);
    answer(datagram, d, 484);
    return 0;
}
