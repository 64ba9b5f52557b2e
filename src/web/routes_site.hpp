// GET /api/site's body (routes_site.cpp), apart so that it is tested alone.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/site.hpp"

namespace openbcpm::web {

// /metrics?scope=site carries the series of at most this many meters (about
// 100 KB each): meters=A-B picks them, by default the first ones.
inline constexpr size_t kSiteMetricsMaxMeters = 50;

// The site's shape and its meters (in the order given) as GET /api/site
// answers them; `self` is the meter whose address is `self_address`, links in
// the scheme of the request (`tls`).
nlohmann::json site_json(const SiteShape& shape, const std::vector<SiteMeter>& meters,
                         const std::string& self_address, bool tls);

}  // namespace openbcpm::web
