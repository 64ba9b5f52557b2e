// The meter's MS/TP face: the MeterNode (router, devices and their databases
// on the Device) carried by an MstpFace on the RS-485 port. Faces pushes it
// in Protocol_Mode 1 (or with [faces] bacnet_mstp = true) when a serial
// device is configured.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "model/face.hpp"
#include "protocols/bacnet/meter_node.hpp"
#include "protocols/mstp/face.hpp"

namespace openbcpm::mstp {

class MeterMstpFace final : public Face {
  public:
    MeterMstpFace(boost::asio::io_context& io, MeterModel& device);
    ~MeterMstpFace() override;
    std::string name() const override { return "bacnet-mstp"; }
    // Opens GatewaySettings::serial_device at Upstream_Baud, 8N1, as master
    // MSTP_MAC_Addr with MSTP_Max_Master, and announces the router and its
    // devices at the first token; throws std::runtime_error.
    void start() override;
    void stop() override;

    bacnet::MeterNode& node() { return node_; }
    MstpFace* mstp() { return mstp_.get(); }

  private:
    boost::asio::io_context& io_;
    MeterModel& device_;
    bacnet::MeterNode node_;
    std::unique_ptr<MstpFace> mstp_;  // destroyed first: it detaches from node_'s router
};

std::unique_ptr<Face> make_meter_mstp_face(boost::asio::io_context& io, MeterModel& device);

}  // namespace openbcpm::mstp

namespace openbcpm {
// The same, for src/app/faces.cpp's block (declared there, no include needed).
std::unique_ptr<Face> make_mstp_face(boost::asio::io_context& io, MeterModel& device);
}  // namespace openbcpm
