#include "app/faces.hpp"

#include <spdlog/spdlog.h>

// Each face library defines OPENBCPM_FACE_<NAME> for the executable that links it.
#ifdef OPENBCPM_FACE_MODBUS
#include "protocols/modbus/rtu_face.hpp"
#include "protocols/modbus/tcp_face.hpp"
#endif
#ifdef OPENBCPM_FACE_BACNET
#include "protocols/bacnet/meter_face.hpp"
#endif
#ifdef OPENBCPM_FACE_MSTP
#include "protocols/mstp/meter_face.hpp"
#endif
#ifdef OPENBCPM_FACE_SNMP
#include "protocols/snmp/meter_face.hpp"
#endif
#ifdef OPENBCPM_FACE_WEB
#include "web/web_face.hpp"
#endif

namespace openbcpm {

Faces::Faces(boost::asio::io_context& io, Device& device) : io_(io), device_(device) {
    const FacesConfig& f = device_.config().faces;
    const GatewaySettings& g = device_.settings().gateway;
    const int mode = g.protocol_mode;
    const bool serial = !g.serial_device.empty();
    // The guide's Protocol_Mode table: Modbus TCP in every mode, BACnet MS/TP on
    // RS-485 in mode 1, Modbus RTU on RS-485 in modes 2..4, BACnet/IP in mode 2,
    // SNMP in mode 3. [faces] may switch any of them on or off explicitly. The
    // serial faces need a serial device; only one of them can have it.
    const bool modbus_tcp = f.modbus_tcp.value_or(true);
    const bool mstp = f.bacnet_mstp.value_or(mode == 1) && serial;
    const bool modbus_rtu = f.modbus_rtu.value_or(mode >= 2) && serial && !mstp;
    const bool bacnet_ip = f.bacnet_ip.value_or(mode == 2);
    const bool snmp = f.snmp.value_or(mode == 3);
    const bool web = f.web.value_or(true);
    [[maybe_unused]] auto unavailable = [](bool wanted, const char* face) {
        if (wanted) spdlog::warn("{} is not built into this binary", face);
    };
#ifdef OPENBCPM_FACE_MODBUS
    if (modbus_tcp)
        faces_.push_back(std::make_unique<modbus::TcpFace>(io_, device_, device_.config().modbus));
    if (modbus_rtu) faces_.push_back(std::make_unique<modbus::RtuFace>(io_, device_));
#else
    unavailable(modbus_tcp || modbus_rtu, "Modbus");
#endif
#ifdef OPENBCPM_FACE_BACNET
    if (bacnet_ip) faces_.push_back(make_bacnet_ip_face(io_, device_));
#else
    unavailable(bacnet_ip, "BACnet/IP");
#endif
#ifdef OPENBCPM_FACE_MSTP
    if (mstp) faces_.push_back(make_mstp_face(io_, device_));
#else
    unavailable(mstp, "BACnet MS/TP");
#endif
#ifdef OPENBCPM_FACE_SNMP
    if (snmp) faces_.push_back(snmp::make_meter_snmp_face(io_, device_));
#else
    unavailable(snmp, "SNMP");
#endif
#ifdef OPENBCPM_FACE_WEB
    if (web) faces_.push_back(make_web_face(io_, device_));
#else
    unavailable(web, "The web GUI");
#endif
}

Faces::~Faces() {
    stop();
}

void Faces::start() {
    for (auto& f : faces_) {
        f->start();
        spdlog::info("{} started", f->name());
    }
}

void Faces::stop() {
    for (auto it = faces_.rbegin(); it != faces_.rend(); ++it)
        (*it)->stop();
}

}  // namespace openbcpm
