// GET /api/site's body (routes_site.cpp), apart so that it is tested alone.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/site.hpp"

namespace openbcpm::web {

// The site's shape and its meters (in the order given) as GET /api/site
// answers them; `self` is the meter whose address is `self_address`, links in
// the scheme of the request (`tls`).
nlohmann::json site_json(const SiteShape& shape, const std::vector<SiteMeter>& meters,
                         const std::string& self_address, bool tls);

}  // namespace openbcpm::web
