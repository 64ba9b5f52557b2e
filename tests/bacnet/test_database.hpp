// A small meter-like node for the BACnet tests, the test server and the
// benchmark: the router device with two AVs (as the guide's AV1/AV2), and
// two panel devices with analog inputs, values, an output and a
// notification class. Values live in TestMeter and change as tests write.
#pragma once

#include <array>
#include <memory>

#include "protocols/bacnet/point_database.hpp"
#include "protocols/bacnet/router.hpp"

namespace openbcpm::bacnet::testbed {

struct TestMeter {
    std::array<float, 2> load{10.0F, 20.0F};       // drives AI1 of each panel
    std::array<float, 2> relay{0.0F, 0.0F};        // AO1
    std::array<float, 2> ct_size{100.0F, 100.0F};  // AV2, 5..6000 accepted
    float device_id_offset = 50000.0F;
    float router_net = 50.0F;
};

struct TestNode {
    TestMeter meter;
    std::unique_ptr<PointDatabase> router_db;
    std::array<std::unique_ptr<PointDatabase>, 2> panel_db;
    RouterConfig config;  // databases wired
};

// `inputs_per_panel` analog inputs per panel (AI1 reports OUT_OF_RANGE
// events through NC1: high limit 80 A, low limit 5 A, deadband 2 A).
std::unique_ptr<TestNode> make_test_node(int inputs_per_panel = 40, uint16_t network = 50,
                                         uint32_t offset = 50000);

}  // namespace openbcpm::bacnet::testbed
