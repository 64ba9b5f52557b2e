#include "protocols/bacnet/object_database.hpp"

#include <algorithm>

namespace openbcpm::bacnet {

bool ObjectDatabase::has_object(ObjectId id) const {
    const auto list = object_list();
    return std::find(list.begin(), list.end(), id) != list.end();
}

WriteOutcome ObjectDatabase::add_list_element(ObjectId id, const PropertyReference& ref,
                                              std::span<const Element>, uint32_t& failed) {
    failed = 0;
    const auto props = property_list(id);
    const bool known = std::any_of(props.begin(), props.end(),
                                   [&](const PropertyInfo& p) { return p.id == ref.property; });
    return known ? errors::kWriteAccessDenied : errors::kUnknownProperty;
}

WriteOutcome ObjectDatabase::remove_list_element(ObjectId id, const PropertyReference& ref,
                                                 std::span<const Element> elements,
                                                 uint32_t& failed) {
    return add_list_element(id, ref, elements, failed);
}

std::optional<CovValue> ObjectDatabase::cov_value(ObjectId) const {
    return std::nullopt;
}

AcknowledgeOutcome ObjectDatabase::acknowledge(ObjectId, EventState, const TimeStamp&,
                                               const TimeStamp&) {
    return ErrorPair{ErrorClass::Services, ErrorCode::NoAlarmConfigured};
}

std::optional<NotificationClassInfo> ObjectDatabase::notification_class(uint32_t) const {
    return std::nullopt;
}

}  // namespace openbcpm::bacnet
