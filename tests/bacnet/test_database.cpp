#include "test_database.hpp"

#include <fmt/format.h>

namespace openbcpm::bacnet::testbed {

std::unique_ptr<TestNode> make_test_node(int inputs_per_panel, uint16_t network, uint32_t offset) {
    auto node = std::make_unique<TestNode>();
    TestMeter* m = &node->meter;

    std::vector<AnalogPoint> router_points;
    {
        AnalogPoint p;
        p.type = ObjectType::AnalogValue;
        p.instance = 1;
        p.name = "DeviceID_Offset";
        p.description = "Default BACnet Device ID numbers";
        p.units = units::kNoUnits;
        p.value = [m] { return m->device_id_offset; };
        p.write = [m](float v) {
            if (v < 0.0F || v > 4194057.0F) return false;
            m->device_id_offset = v;
            return true;
        };
        router_points.push_back(p);
        p.instance = 2;
        p.name = "Virt_Router_Net";
        p.description = "BACnet network number of the virtual router";
        p.value = [m] { return m->router_net; };
        p.write = [m](float v) {
            if (v < 1.0F || v > 65534.0F) return false;
            m->router_net = v;
            return true;
        };
        router_points.push_back(p);
    }
    node->router_db =
        std::make_unique<PointDatabase>(router_points, std::vector<NotificationClassDef>{});

    for (int panel = 0; panel < 2; ++panel) {
        std::vector<AnalogPoint> points;
        for (int i = 1; i <= inputs_per_panel; ++i) {
            AnalogPoint p;
            p.type = ObjectType::AnalogInput;
            p.instance = static_cast<uint32_t>(i);
            p.name = fmt::format("Panel{}_Current_{}", panel + 1, i);
            p.description = fmt::format("Branch circuit {} current", i);
            p.units = units::kAmperes;
            p.cov_increment = 1.0F;
            if (i == 1) {
                p.value = [m, panel] { return m->load[static_cast<size_t>(panel)]; };
                EventReporting r;
                r.notification_class = 1;
                r.high_limit = 80.0F;
                r.low_limit = 5.0F;
                r.deadband = 2.0F;
                p.reporting = r;
            } else {
                const float fixed = 0.5F * static_cast<float>(i) + static_cast<float>(panel);
                p.value = [fixed] { return fixed; };
            }
            points.push_back(std::move(p));
        }
        {
            AnalogPoint p;
            p.type = ObjectType::AnalogValue;
            p.instance = 1;
            p.name = fmt::format("Panel{}_Load", panel + 1);
            p.description = "Simulated load of circuit 1 (A)";
            p.units = units::kAmperes;
            p.value = [m, panel] { return m->load[static_cast<size_t>(panel)]; };
            p.write = [m, panel](float v) {
                if (v < 0.0F || v > 200.0F) return false;
                m->load[static_cast<size_t>(panel)] = v;
                return true;
            };
            points.push_back(p);
            p.instance = 2;
            p.name = fmt::format("Panel{}_CT_Size", panel + 1);
            p.description = "CT size of circuit 1 (A)";
            p.min_value = 5.0F;
            p.max_value = 6000.0F;
            p.value = [m, panel] { return m->ct_size[static_cast<size_t>(panel)]; };
            p.write = [m, panel](float v) {
                m->ct_size[static_cast<size_t>(panel)] = v;
                return true;
            };
            points.push_back(p);
        }
        {
            AnalogPoint p;
            p.type = ObjectType::AnalogOutput;
            p.instance = 1;
            p.name = fmt::format("Panel{}_Relay", panel + 1);
            p.description = "Test output";
            p.units = units::kPercent;
            p.min_value = 0.0F;
            p.max_value = 100.0F;
            p.value = [m, panel] { return m->relay[static_cast<size_t>(panel)]; };
            p.write = [m, panel](float v) {
                m->relay[static_cast<size_t>(panel)] = v;
                return true;
            };
            points.push_back(p);
        }
        NotificationClassDef nc;
        nc.instance = 1;
        nc.name = fmt::format("Panel{}_Alarms", panel + 1);
        nc.description = "Over-threshold events";
        nc.priority = {100, 100, 200};
        nc.ack_required = BitString{true, false, false};
        node->panel_db[static_cast<size_t>(panel)] = std::make_unique<PointDatabase>(
            std::move(points), std::vector<NotificationClassDef>{nc});
    }

    RouterConfig& c = node->config;
    c.virtual_network = network;
    c.router.instance = offset;
    c.router.name = "BCPME_Gateway";
    c.router.model_name = "BCPME84";
    c.router.firmware_revision = "1030";
    c.router.application_software_version = "openbcpm test";
    c.router.database = node->router_db.get();
    for (int panel = 0; panel < 2; ++panel) {
        DeviceConfig d;
        d.instance = offset + static_cast<uint32_t>(panel + 1);
        d.name = fmt::format("BCPME_{}", panel + 1);
        d.description = fmt::format("Panel {}", panel + 1);
        d.location = "Test bench";
        d.model_name = "BCPME84";
        d.firmware_revision = "1030";
        d.application_software_version = "openbcpm test";
        d.mac = static_cast<uint8_t>(panel + 1);
        d.database = node->panel_db[static_cast<size_t>(panel)].get();
        c.panels.push_back(d);
    }
    return node;
}

}  // namespace openbcpm::bacnet::testbed
