// The virtual router's lifetime: its devices, the datalink, the start-up announcements.
#include "protocols/bacnet/router.hpp"

namespace openbcpm::bacnet {

VirtualRouter::VirtualRouter(RouterConfig config, RouterHooks hooks)
    : config_(std::move(config)), hooks_(std::move(hooks)) {
    const auto add = [&](const DeviceConfig& c) {
        DeviceState s;
        s.config = c;
        s.instance = c.instance;
        s.name = c.name;
        devices_.push_back(std::move(s));
    };
    add(config_.router);
    for (const auto& p : config_.panels)
        add(p);
    for (size_t d = 0; d < devices_.size(); ++d) {
        if (!devices_[d].config.served) continue;  // an absent device reports no events
        if (auto* db = devices_[d].config.database) {
            db->set_event_sink([this, d](const EventReport& r) { on_event_report(d, r); });
        }
    }
}

VirtualRouter::~VirtualRouter() {
    for (auto& dev : devices_) {
        if (dev.config.database) dev.config.database->set_event_sink(nullptr);
    }
    detach();
}

void VirtualRouter::attach(Datalink& link) {
    link_ = &link;
    link.set_receiver(
        [this](std::span<const uint8_t> npdu, const LinkAddress& from, bool broadcast) {
            receive(npdu, from, broadcast, hooks_.clock ? hooks_.clock() : Clock::now());
        });
}

void VirtualRouter::detach() {
    if (link_) link_->set_receiver(nullptr);
    link_ = nullptr;
}

void VirtualRouter::start(Clock::time_point now) {
    now_ = now;
    next_cov_scan_ = now + config_.cov_scan;
    NetworkMessageBody m;
    m.type = NetworkMessage::IAmRouterToNetwork;
    m.nets = {config_.virtual_network};
    send_network_message(Peer{}, m);
    const Peer global{{}, NetAddress{kGlobalNetwork, {}}};
    for (size_t d = 0; d < devices_.size(); ++d) {
        if (devices_[d].config.served) send_i_am(d, global);
    }
}

TimeStamp VirtualRouter::now_stamp() const {
    TimeStamp t;
    t.kind = TimeStamp::Kind::DateTime;
    if (hooks_.local_time) {
        const DateTime dt = hooks_.local_time();
        t.date = dt.date;
        t.time = dt.time;
    }
    return t;
}

}  // namespace openbcpm::bacnet
