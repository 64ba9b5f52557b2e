#include "app/faces.hpp"

#include <spdlog/spdlog.h>

#ifdef OPENBCPM_FACE_MODBUS
#include "protocols/modbus/rtu_face.hpp"
#include "protocols/modbus/tcp_face.hpp"
#endif
#ifdef OPENBCPM_FACE_SNMP
#include "protocols/snmp/meter_face.hpp"  // the SNMP face block below
#endif

namespace openbcpm {

Faces::Faces(boost::asio::io_context& io, Device& device) : io_(io), device_(device) {
    const FacesConfig& f = device_.config().faces;
    const int mode = device_.settings().gateway.protocol_mode;
    // The guide's Protocol_Mode table: Modbus TCP in every mode, BACnet MS/TP on
    // RS-485 in mode 1, Modbus RTU on RS-485 in modes 2..4, BACnet/IP in mode 2,
    // SNMP in mode 3. [faces] may switch any of them on or off explicitly.
    const bool modbus_tcp = f.modbus_tcp.value_or(true);
    const bool modbus_rtu = f.modbus_rtu.value_or(mode >= 2) && !device_.settings().gateway.serial_device.empty();
    const bool bacnet_ip = f.bacnet_ip.value_or(mode == 2);
    const bool mstp = f.bacnet_mstp.value_or(mode == 1) && !device_.settings().gateway.serial_device.empty();
    const bool snmp = f.snmp.value_or(mode == 3);
    const bool web = f.web.value_or(true);
#ifdef OPENBCPM_FACE_MODBUS
    if (modbus_tcp) faces_.push_back(std::make_unique<modbus::TcpFace>(io_, device_, device_.config().modbus));
    if (modbus_rtu) faces_.push_back(std::make_unique<modbus::RtuFace>(io_, device_));
#else
    (void)modbus_tcp;
    (void)modbus_rtu;
#endif
    // --- BACnet/IP face (src/protocols/bacnet) ---
#ifdef OPENBCPM_FACE_BACNET
    std::unique_ptr<Face> make_bacnet_ip_face(boost::asio::io_context&, Device&);  // protocols/bacnet/meter_face.hpp
    if (bacnet_ip) faces_.push_back(make_bacnet_ip_face(io_, device_));
#else
    (void)bacnet_ip;
#endif
    // --- end BACnet/IP face ---
    (void)mstp;
    // --- SNMP face (src/protocols/snmp) ---
#ifdef OPENBCPM_FACE_SNMP
    if (snmp) faces_.push_back(snmp::make_meter_snmp_face(io_, device_));
#else
    (void)snmp;
#endif
    // --- end SNMP face ---
    (void)web;
    // --- web face (src/web) ---
#ifdef OPENBCPM_FACE_WEB
    std::unique_ptr<Face> make_web_face(boost::asio::io_context&, Device&);  // src/web/web_face.hpp
    if (web) faces_.push_back(make_web_face(io_, device_));
#endif
    // --- end web face ---
}

Faces::~Faces() { stop(); }

void Faces::start() {
    for (auto& f : faces_) {
        f->start();
        spdlog::info("{} started", f->name());
    }
}

void Faces::stop() {
    for (auto it = faces_.rbegin(); it != faces_.rend(); ++it) (*it)->stop();
}

}  // namespace openbcpm
