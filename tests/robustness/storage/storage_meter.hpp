// The real openbcpm with every face on loopback and its state directory where
// a test wants it (a small tmpfs for the disk-full cases), and the real
// clients that write and read one setting through each face: libmodbus,
// net-snmp's snmpset/snmpget, @bacnet-js/client (bacnet_client.mjs) and the
// web session of the network tests.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "../network/meter_under_test.hpp"  // http_request, WebSession
#include "process.hpp"

typedef struct _modbus modbus_t;

namespace openbcpm::test {

// A UDP port free on 127.0.0.1 right now.
int free_udp_port();

// Panel 1's "sub-intervals per demand interval" (register 71, BACnet AV2 of
// the panel device, SNMP p1DemandSubintervals.0, web panel.1.demand_subintervals).
inline constexpr int kDemandRegister = 71;

class StorageMeter {
  public:
    // Starts `openbcpm run` on `state` (created by the meter) with every face on.
    StorageMeter(const std::filesystem::path& scratch, const std::filesystem::path& state,
                 const std::string& extra_config = "");
    ~StorageMeter();
    StorageMeter(const StorageMeter&) = delete;
    StorageMeter& operator=(const StorageMeter&) = delete;

    bool ready() const { return ready_; }
    bool alive();
    std::string log() const;
    // SIGTERM; returns the exit status.
    int stop();

    // Modbus TCP (unit 1): 0 or the exception code (-1 when no answer).
    int modbus_write(int reg, std::initializer_list<uint16_t> values);
    std::optional<uint16_t> modbus_read(int reg);
    // SNMP v2c Set/Get of p1DemandSubintervals.0: snmpset's output.
    std::string snmp_set(int value);
    std::optional<int> snmp_get();
    // BACnet WriteProperty/ReadProperty of AV2's Present_Value on the panel 1 device:
    // "" when done, else the client's error text ("... Class:3 - Code:20 ...").
    std::string bacnet_write(double value);
    std::optional<double> bacnet_read();
    // The web API, logged in, security mode http.
    HttpReply web_settings(int value);
    std::optional<int> web_read();
    HttpReply web_get(const std::string& target);
    HttpReply web_post(const std::string& target, const nlohmann::json& body);

  private:
    std::filesystem::path scratch_, state_;
    int modbus_port_, snmp_port_, bacnet_port_, web_port_;
    std::unique_ptr<Process> process_;
    std::unique_ptr<WebSession> web_;
    modbus_t* modbus_ = nullptr;
    bool ready_ = false;
};

}  // namespace openbcpm::test
