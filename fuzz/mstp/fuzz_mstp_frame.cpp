// libFuzzer target: MS/TP frame decoding, the receive frame state machine fed
// octet by octet, and the master node with its link and the virtual router
// taking the input as line traffic (see mstp_fuzz_harness.hpp).
#include <cstddef>
#include <cstdint>

#include "mstp_fuzz_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static openbcpm::mstp::fuzzing::Harness harness;
    harness.run(std::span<const uint8_t>(data, size));
    return 0;
}
