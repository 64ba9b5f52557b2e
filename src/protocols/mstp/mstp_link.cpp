#include "protocols/mstp/mstp_link.hpp"

namespace openbcpm::mstp {

bool npdu_expects_reply(std::span<const uint8_t> npdu) {
    return npdu.size() >= 2 && npdu[0] == 0x01 && (npdu[1] & 0x04) != 0;
}

MstpLink::MstpLink(NodeConfig config, MasterNode::Transmit transmit)
    : node_(config, std::move(transmit), [this](const Frame& f) { indicate(f); }) {}

void MstpLink::send_npdu(std::span<const uint8_t> npdu, const bacnet::LinkAddress& to) {
    // One octet: masters are 0..127, slaves up to 254, 255 is the broadcast.
    if (to.size() > 1 || npdu.size() > kMaxData) {
        ++stats_.dropped_out;
        return;
    }
    const uint8_t destination = to.empty() ? kBroadcast : to[0];
    // A broadcast never expects a reply on MS/TP (clause 9.5.6, IDLE).
    const auto type = destination != kBroadcast && npdu_expects_reply(npdu)
                          ? FrameType::DataExpectingReply
                          : FrameType::DataNotExpectingReply;
    if (!node_.enqueue(type, destination, npdu)) {
        ++stats_.dropped_out;
        return;
    }
    ++stats_.npdus_out;
}

void MstpLink::indicate(const Frame& f) {
    if (f.type != FrameType::DataExpectingReply && f.type != FrameType::DataNotExpectingReply)
        return;
    ++stats_.npdus_in;
    deliver(f.data, bacnet::LinkAddress{f.source}, f.destination == kBroadcast);
}

}  // namespace openbcpm::mstp
