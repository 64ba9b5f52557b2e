// Unconfirmed services: Who-Is / I-Am, Who-Has / I-Have, I-Am bindings, time synchronization.
#include <algorithm>
#include <optional>

#include "protocols/bacnet/router.hpp"

namespace openbcpm::bacnet {

namespace {

// Bounds on the state a stream of requests can make us keep.
constexpr size_t kMaxBindings = 256;

}  // namespace

void VirtualRouter::learn_binding(const Apdu& a, const Peer& from) {
    try {
        const IAm i = decode_i_am(a.data);
        if (i.device.object_type() == ObjectType::Device) {
            if (bindings_.size() >= kMaxBindings && !bindings_.contains(i.device.instance)) {
                bindings_.erase(bindings_.begin());
            }
            bindings_[i.device.instance] = from;
            flush_unbound(i.device.instance);
        }
    } catch (const DecodeError&) {
    }
}

void VirtualRouter::synchronize_time(std::span<const size_t> targets, const Apdu& a) {
    // One clock behind all devices: act once if any of them listens.
    const bool listening = std::any_of(targets.begin(), targets.end(), [&](size_t d) {
        return devices_[d].dcc != EnableDisable::Disable;
    });
    if (!listening) return;
    try {
        const DateTime dt = decode_time_sync(a.data);
        if (hooks_.time_synchronized) {
            hooks_.time_synchronized(dt, static_cast<UnconfirmedService>(a.service) ==
                                             UnconfirmedService::UtcTimeSynchronization);
        }
    } catch (const DecodeError&) {
        ++stats_.dropped;
    }
}

void VirtualRouter::handle_unconfirmed(size_t d, const Apdu& a, const Peer& from, bool broadcast) {
    DeviceState& dev = devices_[d];
    if (dev.dcc == EnableDisable::Disable) return;
    try {
        switch (static_cast<UnconfirmedService>(a.service)) {
            case UnconfirmedService::WhoIs: {
                const WhoIs w = decode_who_is(a.data);
                if (w.low && (dev.instance < *w.low || dev.instance > *w.high)) return;
                // I-Am answers to Who-Is are allowed under DISABLE_INITIATION.
                // A directed Who-Is gets a directed answer; a broadcast one a
                // global broadcast.
                send_i_am(d, broadcast ? Peer{{}, NetAddress{kGlobalNetwork, {}}} : from);
                break;
            }
            case UnconfirmedService::WhoHas:
                who_has(d, a.data, from, broadcast);
                break;
            default:
                break;  // notifications and services a server does not execute
        }
    } catch (const DecodeError&) {
        ++stats_.dropped;  // unconfirmed requests get no Reject
    }
}

void VirtualRouter::send_i_am(size_t d, const Peer& to) {
    IAm i;
    i.device = ObjectId(ObjectType::Device, devices_[d].instance);
    i.max_apdu = static_cast<uint32_t>(std::min(kMaxApdu, link_ ? link_->max_apdu() : kMaxApdu));
    i.segmentation = Segmentation::Transmit;
    i.vendor_id = kVendorIdentifier;
    const auto apdu = encode_unconfirmed_request(UnconfirmedService::IAm, encode_i_am(i));
    send_apdu(d, to, apdu, false);
}

void VirtualRouter::who_has(size_t d, std::span<const uint8_t> data, const Peer& from,
                            bool broadcast) {
    DeviceState& dev = devices_[d];
    const WhoHas w = decode_who_has(data);
    if (w.low && (dev.instance < *w.low || dev.instance > *w.high)) return;
    if (!may_initiate(d)) return;
    std::optional<IHave> found;
    const ObjectId self(ObjectType::Device, dev.instance);
    if (w.object) {
        if (*w.object == self)
            found = IHave{self, self, dev.name};
        else if (dev.config.database && dev.config.database->has_object(*w.object)) {
            const auto name = dev.config.database->read(*w.object, PropertyId::ObjectName);
            std::string text;
            if (const auto* pd = std::get_if<PropertyData>(&name);
                pd && !pd->items.empty() && !pd->items[0].empty()) {
                if (const auto* cs = pd->items[0][0].as<CharString>()) text = cs->text;
            }
            found = IHave{self, *w.object, text};
        }
    } else if (w.name) {
        if (*w.name == dev.name)
            found = IHave{self, self, dev.name};
        else if (dev.config.database) {
            for (const ObjectId& o : dev.config.database->object_list()) {
                const auto name = dev.config.database->read(o, PropertyId::ObjectName);
                const auto* pd = std::get_if<PropertyData>(&name);
                if (!pd || pd->items.empty() || pd->items[0].empty()) continue;
                const auto* cs = pd->items[0][0].as<CharString>();
                if (cs && cs->text == *w.name) {
                    found = IHave{self, o, cs->text};
                    break;
                }
            }
        }
    }
    if (!found) return;
    const auto apdu = encode_unconfirmed_request(UnconfirmedService::IHave, encode_i_have(*found));
    send_apdu(d, broadcast ? Peer{{}, NetAddress{kGlobalNetwork, {}}} : from, apdu, false);
}

}  // namespace openbcpm::bacnet
