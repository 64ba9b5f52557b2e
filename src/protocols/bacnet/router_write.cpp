// WriteProperty, WritePropertyMultiple and Add/RemoveListElement.
#include <algorithm>

#include "protocols/bacnet/router.hpp"

namespace openbcpm::bacnet {

WriteOutcome VirtualRouter::write_value(size_t d, ObjectId o, const PropertyValue& v) {
    if (!object_exists(d, o)) return errors::kUnknownObject;
    if (is_special(v.ref.property)) return errors::kWriteAccessDenied;
    if (o.object_type() == ObjectType::Device) return device_write(d, v);
    return devices_[d].config.database->write(o, v);
}

VirtualRouter::Response VirtualRouter::write_property(size_t d, std::span<const uint8_t> data) {
    const auto req = decode_write_property(data);
    if (auto e = write_value(d, resolve(d, req.object), req.value)) return Response::error_of(*e);
    return Response::simple();
}

VirtualRouter::Response VirtualRouter::write_property_multiple(size_t d,
                                                               std::span<const uint8_t> data) {
    // Decoded whole first (a malformed request changes nothing), then applied
    // in order up to the first failure, as clause 15.10 describes.
    const auto specs = decode_write_property_multiple(data);
    for (const auto& spec : specs) {
        const ObjectId object = resolve(d, spec.object);
        for (const auto& v : spec.values) {
            if (auto e = write_value(d, object, v)) {
                return Response::error_raw(encode_wpm_error(*e, spec.object, v.ref));
            }
        }
    }
    return Response::simple();
}

VirtualRouter::Response VirtualRouter::list_element(size_t d, std::span<const uint8_t> data,
                                                    bool add) {
    const auto req = decode_list_element(data);
    DeviceState& dev = devices_[d];
    const ObjectId object = resolve(d, req.object);
    WriteOutcome e;
    uint32_t failed = 0;
    if (!object_exists(d, object)) {
        e = errors::kUnknownObject;
    } else if (object.object_type() == ObjectType::Device) {
        // Device lists (Object_List, Device_Address_Binding, ...) are not writable.
        const auto props = device_properties(d);
        e = std::any_of(props.begin(), props.end(),
                        [&](const PropertyInfo& p) { return p.id == req.ref.property; })
                ? errors::kWriteAccessDenied
                : errors::kUnknownProperty;
    } else if (add) {
        e = dev.config.database->add_list_element(object, req.ref, req.elements, failed);
    } else {
        e = dev.config.database->remove_list_element(object, req.ref, req.elements, failed);
    }
    if (e) return Response::error_raw(encode_change_list_error(*e, failed));
    return Response::simple();
}

}  // namespace openbcpm::bacnet
