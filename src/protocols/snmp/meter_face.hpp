// The meter's SNMP face as the application runs it: the SNMPv2c agent with
// the SNMPv2-MIB and the product MIB (OPENBCPM-BCPME-MIB), coldStart at start
// and a notification for every change of over-threshold event state.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "model/face.hpp"
#include "model/meter_model.hpp"
#include "protocols/snmp/meter_view.hpp"

namespace openbcpm::snmp {

// The meter model as the product MIB's model.
class DeviceModel final : public meter::MeterModel {
  public:
    explicit DeviceModel(openbcpm::MeterModel& device) : device_(device) {}
    const Settings& settings() const override { return device_.settings(); }
    const MeterSnapshot& snapshot() override { return device_.snapshot(); }
    int power_up_counter(int panel) const override { return device_.power_up_counter(panel); }
    points::SubmitResult submit(const points::WriteRequest& request) override {
        return device_.submit(request);
    }
    bool serves_panel(int panel) const override {
        return device_.serves_panel(FaceProtocol::Snmp, panel);
    }

  private:
    openbcpm::MeterModel& device_;
};

// The face Faces runs when SNMP is on (Protocol_Mode 3, or [faces] snmp).
std::unique_ptr<openbcpm::Face> make_meter_snmp_face(boost::asio::io_context& io,
                                                     openbcpm::MeterModel& device);

}  // namespace openbcpm::snmp
