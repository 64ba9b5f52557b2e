// Request building for the SNMP unit tests.
#pragma once

#include <vector>

#include "protocols/snmp/ber.hpp"
#include "protocols/snmp/message.hpp"

namespace openbcpm::snmp::testing {

using Bytes = std::vector<uint8_t>;

// A message whose binding number `raw_at` (1-based) carries `raw_value`, the
// octets of a value element exactly as given (possibly malformed).
inline Bytes message_with_raw_value(const Message& m, size_t raw_at, const Bytes& raw_value) {
    Bytes out;
    ber::Writer w(out);
    const size_t msg = w.begin(ber::tag::kSequence);
    w.integer(m.version);
    w.octets(m.community);
    const size_t pdu = w.begin(static_cast<uint8_t>(m.pdu.type));
    w.integer(m.pdu.request_id);
    w.integer(m.pdu.error_status);
    w.integer(m.pdu.error_index);
    const size_t list = w.begin(ber::tag::kSequence);
    for (size_t i = 0; i < m.pdu.varbinds.size(); ++i) {
        if (i + 1 != raw_at) {
            w.varbind(m.pdu.varbinds[i]);
            continue;
        }
        const size_t vb = w.begin(ber::tag::kSequence);
        w.oid(m.pdu.varbinds[i].name);
        out.insert(out.end(), raw_value.begin(), raw_value.end());
        w.end(vb);
    }
    w.end(list);
    w.end(pdu);
    w.end(msg);
    return out;
}

}  // namespace openbcpm::snmp::testing
