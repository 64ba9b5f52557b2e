// Read-only queries of the operator's GUI that the plain API does not answer:
// the event history filtered by panel, channel and level, a page at a time.
// Pure functions of the store and the request's query; the web server's route
// handler only wraps them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "web/http_parse.hpp"

namespace openbcpm {
class Store;
}

namespace openbcpm::web::gui {

struct QueryResult {
    bool ok = true;
    nlohmann::json body;
    std::string error;  // when !ok: what is wrong with the query (400)
};

// GET /api/events/query?panel=&channel=&voltage=&level=&before=&limit=
// panel 1..panels; channel 1..46 or voltage ab|bc|ca; level one of hh, h, l,
// ll, off, nl-high, nl-low, over, under; before: only events with a smaller id
// (the next page); limit 1..500 (50). Newest first, each with its unit, the
// number of matching events and the `before` of the next page (null at the end).
QueryResult events_query(Store* store, const Fields& query, int panels);

}  // namespace openbcpm::web::gui
