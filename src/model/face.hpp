// What the composition root starts and stops: one protocol face (Modbus TCP,
// Modbus RTU, BACnet/IP, MS/TP, SNMP, web) of one meter.
#pragma once

#include <string>

namespace openbcpm {

class Face {
  public:
    virtual ~Face() = default;
    virtual std::string name() const = 0;
    virtual void start() = 0;  // binds/opens; throws on failure
    virtual void stop() = 0;   // closes everything it opened
};

}  // namespace openbcpm
