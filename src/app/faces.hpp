// The protocol faces of one meter on the shared event loop: which run is
// decided by Protocol_Mode (as the guide's table says) and the [faces] config.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "app/device.hpp"

namespace openbcpm {

// One face (Modbus TCP, Modbus RTU, BACnet/IP, MS/TP, SNMP, web).
class Face {
  public:
    virtual ~Face() = default;
    virtual std::string name() const = 0;
    virtual void start() = 0;  // binds/opens; throws on failure
    virtual void stop() = 0;   // closes everything it opened
};

class Faces {
  public:
    Faces(boost::asio::io_context& io, Device& device);
    ~Faces();
    void start();
    void stop();
    const std::vector<std::unique_ptr<Face>>& faces() const { return faces_; }

  private:
    boost::asio::io_context& io_;
    Device& device_;
    std::vector<std::unique_ptr<Face>> faces_;
};

}  // namespace openbcpm
