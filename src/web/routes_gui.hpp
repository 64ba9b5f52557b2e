// What the operator's GUI needs beyond the plain API: the event history
// filtered by panel, channel and level, a page at a time; the latch clears of
// a channel or a panel, and a panel's settings as CSV, both turned into a
// request for the one write path (points::WriteRequest). Pure functions of the
// store, the settings and the request; the web server's route handlers only
// wrap them (submit, audit, answer after the write is applied).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "points/write_plan.hpp"
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

// A change the GUI asks for, as a request for the write path, or why not.
struct GuiWrite {
    bool ok = true;
    points::WriteRequest request;
    std::vector<int> lines;  // the CSV line of each item (imports)
    std::string detail;      // for the audit log
    std::string error;       // when !ok (400)
};

// POST /api/alarms/clear {"panel": p} clears every latch of the panel, channel
// and L-L voltage latches (the Global Reset register 295 written with 31010);
// {"panel": p, "channel": c} clears channel c's latches (a 0 written to its
// event status register, 177 + c); {"panel": p, "voltage": "ab"|"bc"|"ca"}
// the latches of that L-L voltage (a 0 to register 241..243).
GuiWrite alarm_clear(const nlohmann::json& body, const Settings& settings);

// A panel's settings as CSV: "key,value" and a line per setting of the panel
// (channels of this model only), in the settings table's order; text quoted
// when it needs to be.
std::string settings_csv(const Settings& settings, int panel);

// The lines of such a CSV (the header optional, blank lines skipped) as one
// request: every key must be a setting of `panel`, each at most once. The
// write path then judges the values all together (all or nothing).
GuiWrite settings_csv_request(std::string_view csv, const Settings& settings, int panel);

}  // namespace openbcpm::web::gui
