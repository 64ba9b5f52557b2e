// The meter's BACnet/IP face: the MeterNode (router, devices and their
// databases on the Device) carried by a BacnetIpFace (UDP socket, BVLL,
// BBMD) on the shared event loop. Faces pushes it when BACnet/IP is on
// (Protocol_Mode 2, or [faces] bacnet_ip = true).
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "model/face.hpp"
#include "protocols/bacnet/face.hpp"
#include "protocols/bacnet/meter_node.hpp"

namespace openbcpm::bacnet {

class MeterBacnetIpFace : public Face {
  public:
    MeterBacnetIpFace(boost::asio::io_context& io, MeterModel& device);
    ~MeterBacnetIpFace() override;
    std::string name() const override { return "bacnet-ip"; }
    // Reads bdt.ini (BBMD on), binds BACnet_IP_Port on N1_IP_Address and
    // announces the router and its devices; throws std::runtime_error.
    void start() override;
    void stop() override;

    MeterNode& node() { return node_; }
    uint16_t local_port() const { return ip_ ? ip_->local_port() : 0; }

  private:
    boost::asio::io_context& io_;
    MeterModel& device_;
    MeterNode node_;
    std::unique_ptr<BacnetIpFace> ip_;
};

std::unique_ptr<Face> make_meter_bacnet_ip_face(boost::asio::io_context& io, MeterModel& device);

}  // namespace openbcpm::bacnet

namespace openbcpm {
// The same, for src/app/faces.cpp's block (declared there, no include needed).
std::unique_ptr<Face> make_bacnet_ip_face(boost::asio::io_context& io, MeterModel& device);
}  // namespace openbcpm
