// What the stream faces (Modbus TCP, web) did with their connections: the
// counters the diagnostics API and /metrics show.
#pragma once

#include <cstdint>

namespace openbcpm {

// Since the meter (re)started; touched on the event loop thread only.
struct ConnectionCounters {
    uint64_t accepted = 0;
    uint64_t refused = 0;    // closed at accept: over a connection cap, or accept failed
    uint64_t evicted = 0;    // closed to make room for a newcomer at the cap
    uint64_t timed_out = 0;  // idle timeout, or a request head that did not arrive in time
    uint64_t stalled = 0;    // closed because the peer did not read its answers in time
    uint64_t open = 0;
};

struct ConnectionStats {
    ConnectionCounters modbus_tcp;
    ConnectionCounters web;
};

}  // namespace openbcpm
