// The Device object of each BACnet device of the meter (clause 12.11).
#include <algorithm>
#include <set>

#include "protocols/bacnet/router.hpp"

namespace openbcpm::bacnet {

namespace {

constexpr const char* kVendorName = "Schneider Electric";
constexpr uint8_t kProtocolVersion = 1;
constexpr uint8_t kProtocolRevision = 12;

BitString services_supported() {
    BitString b(service_bit::kCount);
    for (int bit : {service_bit::kAcknowledgeAlarm, service_bit::kSubscribeCov,
                    service_bit::kAddListElement, service_bit::kRemoveListElement,
                    service_bit::kReadProperty, service_bit::kReadPropertyMultiple,
                    service_bit::kWriteProperty, service_bit::kWritePropertyMultiple,
                    service_bit::kDeviceCommunicationControl, service_bit::kReinitializeDevice,
                    service_bit::kTimeSynchronization, service_bit::kWhoHas, service_bit::kWhoIs,
                    service_bit::kUtcTimeSynchronization, service_bit::kGetEventInformation}) {
        b.set(static_cast<size_t>(bit), true);
    }
    return b;
}

std::vector<Element> address_elements(const Peer& p, size_t) {
    // BACnetAddress: network number (0 = local) and MAC address.
    std::vector<Element> out;
    if (p.remote) {
        out.push_back(Element::app(uint64_t{p.remote->net}));
        out.push_back(Element::app(p.remote->mac.to_vector()));
    } else {
        out.push_back(Element::app(uint64_t{0}));
        out.push_back(Element::app(p.link.to_vector()));
    }
    return out;
}

}  // namespace

std::vector<PropertyInfo> VirtualRouter::device_properties(size_t d) const {
    using P = PropertyId;
    std::vector<PropertyInfo> out;
    for (P p : {P::ObjectIdentifier,
                P::ObjectName,
                P::ObjectType,
                P::SystemStatus,
                P::VendorName,
                P::VendorIdentifier,
                P::ModelName,
                P::FirmwareRevision,
                P::ApplicationSoftwareVersion,
                P::ProtocolVersion,
                P::ProtocolRevision,
                P::ProtocolServicesSupported,
                P::ProtocolObjectTypesSupported,
                P::ObjectList,
                P::MaxApduLengthAccepted,
                P::SegmentationSupported,
                P::ApduTimeout,
                P::NumberOfApduRetries,
                P::DeviceAddressBinding,
                P::DatabaseRevision}) {
        out.push_back({p, true});
    }
    for (P p :
         {P::Description, P::Location, P::MaxSegmentsAccepted, P::ApduSegmentTimeout, P::LocalDate,
          P::LocalTime, P::UtcOffset, P::DaylightSavingsStatus, P::ActiveCovSubscriptions}) {
        out.push_back({p, false});
    }
    if (d == 0) {
        out.push_back({P::MaxMaster, false});
        out.push_back({P::MaxInfoFrames, false});
    }
    return out;
}

ReadOutcome VirtualRouter::device_read(size_t d, PropertyId p) {
    using P = PropertyId;
    const DeviceState& dev = devices_[d];
    const auto props = device_properties(d);
    if (std::none_of(props.begin(), props.end(),
                     [&](const PropertyInfo& i) { return i.id == p; })) {
        return errors::kUnknownProperty;
    }
    const auto str = [](const std::string& s) { return PropertyData::scalar(CharString{0, s}); };
    const auto uns = [](uint64_t v) { return PropertyData::scalar(v); };
    const auto enm = [](uint32_t v) { return PropertyData::scalar(Enumerated{v}); };
    const DateTime now = hooks_.local_time ? hooks_.local_time() : DateTime{};
    switch (p) {
        case P::ObjectIdentifier:
            return PropertyData::scalar(ObjectId(ObjectType::Device, dev.instance));
        case P::ObjectName:
            return str(dev.name);
        case P::ObjectType:
            return enm(static_cast<uint32_t>(ObjectType::Device));
        case P::SystemStatus:
            return enm(static_cast<uint32_t>(DeviceStatus::Operational));
        case P::VendorName:
            return str(kVendorName);
        case P::VendorIdentifier:
            return uns(kVendorIdentifier);
        case P::ModelName:
            return str(dev.config.model_name);
        case P::FirmwareRevision:
            return str(dev.config.firmware_revision);
        case P::ApplicationSoftwareVersion:
            return str(dev.config.application_software_version);
        case P::Description:
            return str(dev.config.description);
        case P::Location:
            return str(dev.config.location);
        case P::ProtocolVersion:
            return uns(kProtocolVersion);
        case P::ProtocolRevision:
            return uns(kProtocolRevision);
        case P::ProtocolServicesSupported:
            return PropertyData::scalar(services_supported());
        case P::ProtocolObjectTypesSupported: {
            BitString b(static_cast<size_t>(kObjectTypesKnown));
            b.set(static_cast<size_t>(ObjectType::Device), true);
            if (dev.config.database) {
                for (const ObjectId& o : dev.config.database->object_list())
                    b.set(o.type, true);
            }
            return PropertyData::scalar(b);
        }
        case P::ObjectList: {
            std::vector<Primitive> ids{ObjectId(ObjectType::Device, dev.instance)};
            if (dev.config.database) {
                for (const ObjectId& o : dev.config.database->object_list())
                    ids.emplace_back(o);
            }
            return PropertyData::array_of(ids);
        }
        case P::MaxApduLengthAccepted:
            return uns(std::min(kMaxApdu, link_ ? link_->max_apdu() : kMaxApdu));
        case P::SegmentationSupported:
            return enm(static_cast<uint32_t>(Segmentation::Transmit));
        case P::MaxSegmentsAccepted:
            return uns(1);  // requests are not received segmented
        case P::ApduTimeout:
            return uns(config_.apdu_timeout_ms);
        case P::ApduSegmentTimeout:
            return uns(config_.segment_timeout_ms);
        case P::NumberOfApduRetries:
            return uns(config_.apdu_retries);
        case P::DeviceAddressBinding: {
            std::vector<std::vector<Element>> items;
            for (const auto& [instance, peer] : bindings_) {
                std::vector<Element> item{Element::app(ObjectId(ObjectType::Device, instance))};
                for (auto& e : address_elements(peer, 0))
                    item.push_back(std::move(e));
                items.push_back(std::move(item));
            }
            return PropertyData::list(std::move(items));
        }
        case P::DatabaseRevision:
            return uns(dev.database_revision);
        case P::LocalDate:
            return PropertyData::scalar(now.date);
        case P::LocalTime:
            return PropertyData::scalar(now.time);
        case P::UtcOffset:
            return PropertyData::scalar(int64_t{config_.utc_offset_minutes});
        case P::DaylightSavingsStatus:
            return PropertyData::scalar(false);
        case P::ActiveCovSubscriptions: {
            std::vector<std::vector<Element>> items;
            for (const auto& s : dev.subscriptions) {
                std::vector<uint8_t> bytes;
                Writer w(bytes);
                w.open(0);  // recipient: BACnetRecipientProcess
                w.open(0);
                w.open(1);  // BACnetRecipient address choice
                const auto addr = address_elements(s.peer, 0);
                w.elements(addr);
                w.close(1);
                w.close(0);
                w.ctx_unsigned(1, s.process_id);
                w.close(0);
                w.open(1);  // monitored property reference
                w.ctx_oid(0, s.object);
                w.ctx_enum(1, static_cast<uint32_t>(PropertyId::PresentValue));
                w.close(1);
                w.ctx_bool(2, s.confirmed);
                uint64_t left = 0;
                if (s.lifetime != 0 && s.expires > now_) {
                    left = static_cast<uint64_t>(
                        std::chrono::duration_cast<std::chrono::seconds>(s.expires - now_).count());
                }
                w.ctx_unsigned(3, left);
                if (s.last && s.last->increment) w.ctx_real(4, *s.last->increment);
                items.push_back(decode_elements(bytes));
            }
            return PropertyData::list(std::move(items));
        }
        case P::MaxMaster:
            return uns(config_.max_master);
        case P::MaxInfoFrames:
            return uns(config_.max_info_frames);
        default:
            return errors::kUnknownProperty;
    }
}

WriteOutcome VirtualRouter::device_write(size_t d, const PropertyValue& v) {
    using P = PropertyId;
    DeviceState& dev = devices_[d];
    const auto props = device_properties(d);
    if (std::none_of(props.begin(), props.end(),
                     [&](const PropertyInfo& i) { return i.id == v.ref.property; })) {
        return errors::kUnknownProperty;
    }
    const bool writable = v.ref.property == P::ObjectIdentifier ||
                          v.ref.property == P::ObjectName ||
                          (d == 0 && v.ref.property == P::MaxMaster);
    if (!writable) return errors::kWriteAccessDenied;
    if (v.ref.index != kNoIndex) return errors::kNotAnArray;
    if (v.value.size() != 1) return errors::kInvalidDataType;
    const Element& e = v.value[0];
    switch (v.ref.property) {
        case P::ObjectIdentifier: {
            const auto* id = e.as<ObjectId>();
            if (!id) return errors::kInvalidDataType;
            if (id->object_type() != ObjectType::Device || id->instance >= kMaxInstance) {
                return errors::kValueOutOfRange;
            }
            for (size_t o = 0; o < devices_.size(); ++o) {
                if (o != d && devices_[o].instance == id->instance) {
                    return ErrorPair{ErrorClass::Property, ErrorCode::DuplicateObjectId};
                }
            }
            if (hooks_.persist_identity && !hooks_.persist_identity(d, id->instance, dev.name))
                return errors::kNotStored;
            dev.instance = id->instance;
            break;
        }
        case P::ObjectName: {
            const auto* name = e.as<CharString>();
            if (!name) return errors::kInvalidDataType;
            if (name->charset != 0)
                return ErrorPair{ErrorClass::Property, ErrorCode::CharacterSetNotSupported};
            if (name->text.empty() || name->text.size() > 64) return errors::kValueOutOfRange;
            if (hooks_.persist_identity && !hooks_.persist_identity(d, dev.instance, name->text))
                return errors::kNotStored;
            dev.name = name->text;
            break;
        }
        case P::MaxMaster: {
            const auto* m = e.as<uint64_t>();
            if (!m) return errors::kInvalidDataType;
            if (*m < 1 || *m > 127) return errors::kValueOutOfRange;
            if (hooks_.persist_max_master && !hooks_.persist_max_master(static_cast<uint8_t>(*m)))
                return errors::kNotStored;
            config_.max_master = static_cast<uint8_t>(*m);
            if (hooks_.max_master_changed) hooks_.max_master_changed(config_.max_master);
            return std::nullopt;
        }
        default:
            return errors::kWriteAccessDenied;
    }
    ++dev.database_revision;
    if (hooks_.identity_changed) hooks_.identity_changed(d, dev.instance, dev.name);
    return std::nullopt;
}

}  // namespace openbcpm::bacnet
