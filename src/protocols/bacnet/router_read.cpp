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

std::optional<ErrorPair> VirtualRouter::read_value(size_t d, ObjectId o,
                                                   const PropertyReference& ref, Writer& w) {
    if (is_special(ref.property)) return errors::kUnknownProperty;
    // A primitive the database gives as it is (no PropertyData: nothing allocated).
    if (o.object_type() != ObjectType::Device && devices_[d].config.database) {
        if (const auto v = devices_[d].config.database->read_primitive(o, ref.property)) {
            if (ref.index != kNoIndex) return errors::kNotAnArray;
            w.app(*v);
            return std::nullopt;
        }
    }
    auto outcome = read_whole(d, o, ref.property);
    if (const auto* e = std::get_if<ErrorPair>(&outcome)) return *e;
    const auto& pd = std::get<PropertyData>(outcome);
    if (ref.index == kNoIndex) {
        for (const auto& item : pd.items)
            w.elements(item);
        return std::nullopt;
    }
    if (pd.shape != PropertyData::Shape::Array) return errors::kNotAnArray;
    if (ref.index == 0) {
        w.app_unsigned(pd.items.size());
        return std::nullopt;
    }
    if (ref.index > pd.items.size()) return errors::kInvalidArrayIndex;
    w.elements(pd.items[ref.index - 1]);
    return std::nullopt;
}

VirtualRouter::Response VirtualRouter::read_property(size_t d, std::span<const uint8_t> data) {
    ReadPropertyRequest req = decode_read_property(data);
    req.object = resolve(d, req.object);
    std::vector<uint8_t> out = take(response_buffer_);
    Writer w(out);
    encode_read_property_ack_open(w, req);
    if (const auto e = read_value(d, req.object, req.ref, w)) {
        give_back(response_buffer_, std::move(out));
        return Response::error_of(*e);
    }
    encode_read_property_ack_close(w);
    return Response::complex(std::move(out));
}

VirtualRouter::Response VirtualRouter::read_property_multiple(size_t d,
                                                              std::span<const uint8_t> data) {
    std::vector<ReadAccessSpec> specs = std::move(rpm_specs_);  // its elements reused too
    try {
        decode_read_property_multiple(data, specs);
    } catch (const DecodeError&) {
        give_back(rpm_specs_, std::move(specs));
        throw;
    }
    std::vector<uint8_t> out = take(response_buffer_);
    Writer w(out);
    for (const auto& spec : specs) {
        const ObjectId object = resolve(d, spec.object);
        encode_rpm_object_open(w, object);
        const bool exists = object_exists(d, object);
        // One property's result: its value or its error.
        const auto result = [&](const PropertyReference& one) {
            const size_t mark = out.size();
            encode_rpm_value_open(w, one);
            if (const auto e = read_value(d, object, one, w)) {
                out.resize(mark);
                encode_rpm_error(w, one, *e);
            } else {
                encode_rpm_value_close(w);
            }
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
    give_back(rpm_specs_, std::move(specs));
    return Response::complex(std::move(out));
}

}  // namespace openbcpm::bacnet
