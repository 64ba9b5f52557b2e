// Device management: DeviceCommunicationControl and ReinitializeDevice.
#include "protocols/bacnet/router.hpp"

namespace openbcpm::bacnet {

VirtualRouter::Response VirtualRouter::device_communication_control(size_t d,
                                                                    std::span<const uint8_t> data) {
    const auto req = decode_device_communication_control(data);
    if (!config_.password.empty() && req.password.value_or("") != config_.password) {
        return Response::error_of({ErrorClass::Security, ErrorCode::PasswordFailure});
    }
    DeviceState& dev = devices_[d];
    dev.dcc = req.state;
    dev.dcc_until.reset();
    if (req.state != EnableDisable::Enable && req.duration_minutes && *req.duration_minutes > 0) {
        dev.dcc_until = now_ + std::chrono::minutes(*req.duration_minutes);
    }
    return Response::simple();
}

VirtualRouter::Response VirtualRouter::reinitialize_device(size_t d,
                                                           std::span<const uint8_t> data) {
    (void)d;
    const auto req = decode_reinitialize_device(data);
    if (req.state > 7) return Response::reject_of(RejectReason::UndefinedEnumeration);
    if (!config_.password.empty() && req.password.value_or("") != config_.password) {
        return Response::error_of({ErrorClass::Security, ErrorCode::PasswordFailure});
    }
    if (req.state > 1 || !hooks_.reinitialize) {
        return Response::error_of(
            {ErrorClass::Services, ErrorCode::OptionalFunctionalityNotSupported});
    }
    const auto state = static_cast<ReinitializedState>(req.state);
    // The restart happens after the acknowledgement went out.
    after_response_.emplace_back([this, state] { hooks_.reinitialize(state); });
    return Response::simple();
}

}  // namespace openbcpm::bacnet
