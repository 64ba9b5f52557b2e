// Exports of the point catalogue's views: the Modbus point map as CSV or JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace openbcpm::points {

std::string pointmap_csv();
nlohmann::json pointmap_json();

}  // namespace openbcpm::points
