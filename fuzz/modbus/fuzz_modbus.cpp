// libFuzzer: Modbus TCP and RTU framing, PDU decoding and the application
// against a fixed model (model/fixed_model.hpp: the embedded configuration's
// settings and a snapshot metered once; writes through the one write plan).
// The first byte picks the transport.
#include <cstddef>
#include <cstdint>
#include <span>

#include "model/fixed_model.hpp"
#include "protocols/modbus/handler.hpp"

using namespace openbcpm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static FixedModel* model = new FixedModel(default_config());
    static modbus::Handler handler(*model);
    if (size < 1) return 0;
    const std::span<const uint8_t> in(data + 1, size - 1);
    if (data[0] & 1) {
        if (auto f = modbus::decode_rtu(in))
            handler.handle(f->address, f->pdu, modbus::Transport::Rtu);
    } else {
        size_t used = 0;
        while (used < in.size()) {
            size_t n = 0;
            if (modbus::tcp_frame(in.subspan(used), n) != modbus::FrameStatus::Complete) break;
            const auto frame = in.subspan(used, n);
            handler.handle(modbus::decode_mbap(frame).unit, frame.subspan(modbus::kMbapSize),
                           modbus::Transport::Tcp);
            used += n;
        }
    }
    return 0;
}
