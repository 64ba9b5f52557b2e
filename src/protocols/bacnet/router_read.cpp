// ReadProperty and ReadPropertyMultiple, and the property reads they share with other services.
#include "protocols/bacnet/router.hpp"

namespace openbcpm::bacnet {

bool VirtualRouter::object_exists(size_t d, ObjectId o) const {
    const DeviceState& dev = devices_[d];
    if (o.object_type() == ObjectType::Device)
        return o.instance == dev.instance || o.instance == kMaxInstance;
    return dev.config.database && dev.config.database->has_object(o);
}

ObjectId VirtualRouter::resolve(size_t d, ObjectId o) const {
    if (o.object_type() == ObjectType::Device && o.instance == kMaxInstance) {
        return ObjectId(ObjectType::Device, devices_[d].instance);
    }
    return o;
}

std::vector<PropertyInfo> VirtualRouter::properties_of(size_t d, ObjectId o) {
    if (o.object_type() == ObjectType::Device) return device_properties(d);
    return devices_[d].config.database ? devices_[d].config.database->property_list(o)
                                       : std::vector<PropertyInfo>{};
}

ReadOutcome VirtualRouter::read_whole(size_t d, ObjectId o, PropertyId p) {
    if (!object_exists(d, o)) return errors::kUnknownObject;
    if (o.object_type() == ObjectType::Device) return device_read(d, p);
    return devices_[d].config.database->read(o, p);
}

std::variant<std::vector<uint8_t>, ErrorPair> VirtualRouter::read_value(
    size_t d, ObjectId o, const PropertyReference& ref) {
    if (is_special(ref.property)) return errors::kUnknownProperty;
    auto outcome = read_whole(d, o, ref.property);
    if (const auto* e = std::get_if<ErrorPair>(&outcome)) return *e;
    const auto& pd = std::get<PropertyData>(outcome);
    std::vector<uint8_t> out;
    Writer w(out);
    if (ref.index == kNoIndex) {
        for (const auto& item : pd.items)
            w.elements(item);
        return out;
    }
    if (pd.shape != PropertyData::Shape::Array) return errors::kNotAnArray;
    if (ref.index == 0) {
        w.app_unsigned(pd.items.size());
        return out;
    }
    if (ref.index > pd.items.size()) return errors::kInvalidArrayIndex;
    w.elements(pd.items[ref.index - 1]);
    return out;
}

VirtualRouter::Response VirtualRouter::read_property(size_t d, std::span<const uint8_t> data) {
    ReadPropertyRequest req = decode_read_property(data);
    req.object = resolve(d, req.object);
    const auto v = read_value(d, req.object, req.ref);
    if (const auto* e = std::get_if<ErrorPair>(&v)) return Response::error_of(*e);
    std::vector<uint8_t> out;
    encode_read_property_ack(out, req, std::get<std::vector<uint8_t>>(v));
    return Response::complex(std::move(out));
}

VirtualRouter::Response VirtualRouter::read_property_multiple(size_t d,
                                                              std::span<const uint8_t> data) {
    const auto specs = decode_read_property_multiple(data);
    std::vector<uint8_t> out;
    Writer w(out);
    for (const auto& spec : specs) {
        const ObjectId object = resolve(d, spec.object);
        encode_rpm_object_open(w, object);
        const bool exists = object_exists(d, object);
        // One property's result: its value or its error.
        const auto result = [&](const PropertyReference& one) {
            const auto v = read_value(d, object, one);
            if (const auto* e = std::get_if<ErrorPair>(&v))
                encode_rpm_error(w, one, *e);
            else
                encode_rpm_value(w, one, std::get<std::vector<uint8_t>>(v));
        };
        for (const auto& ref : spec.properties) {
            if (!exists) {
                encode_rpm_error(w, ref, errors::kUnknownObject);
                continue;
            }
            if (is_special(ref.property)) {
                for (const auto& info : properties_of(d, object)) {
                    if (ref.property == PropertyId::Required && !info.required) continue;
                    if (ref.property == PropertyId::Optional && info.required) continue;
                    result(PropertyReference{info.id, kNoIndex});
                }
                continue;
            }
            result(ref);
        }
        encode_rpm_object_close(w);
    }
    return Response::complex(std::move(out));
}

}  // namespace openbcpm::bacnet
