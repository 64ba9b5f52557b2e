// A site: many meters in one process (the [fleet] configuration section), as
// the faces see it. The web face serves the site page, GET /api/site and the
// site-level Prometheus metrics from it; the fleet runtime (src/app)
// implements it, and a meter of a site answers MeterModel::site() with it.
// A single meter has no site (MeterModel::site() is null) and nothing of this
// appears on its faces.
//
// Threads: a Site is called from the event loop of any of its meters. The
// fleet may run its meters on several event loops, and a MeterModel may only
// be used on its own loop (its snapshot is a single-reader triple buffer), so
// the Site never hands out another meter's model on the caller's thread:
//  * meters() returns copies of each meter's status, which the fleet keeps
//    (e.g. each meter's loop refreshes its own entry with site_meter_status()
//    under the site's lock, or the fleet computes them on the one loop it
//    runs). Cheap: 500 meters are 500 small structs.
//  * visit() runs a function with each meter's model on that meter's own
//    loop, and then `done` on the caller's loop: the site-level metrics.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/settings.hpp"
#include "events/event_state.hpp"
#include "metering/snapshot.hpp"

namespace openbcpm {

class MeterModel;

// One meter of the site, as the site page, GET /api/site and `openbcpm site`
// list it. Identity from the meter's settings, readings from one snapshot.
struct SiteMeter {
    int index = 0;        // k, 0-based: meter k of the [fleet] section
    std::string address;  // N1_IP_Address: every face of meter k binds to it
    int web_port = 443;   // the meter's own GUI is at <scheme>://address:web_port/
    uint32_t serial_number = 0;
    std::string model;  // "BCPME84"
    int panels = 0;
    std::string location;  // panel 1's location
    // BACnet: the virtual router's device instance (= device_id_offset); the
    // panels' are device_id_offset + Modbus address of the panel.
    uint32_t device_id_offset = 0;
    int modbus_address = 1;  // panel 1's unit; panel 2 answers at +1
    int latched_events = 0;  // site_latched_events()
    double kw = 0.0;         // mains real power, over the panels
    double kwh = 0.0;        // mains real energy, over the panels
    bool running = false;    // false: configured in this process but not running (failed to start)
};

// This process's part of a site: `count` meters in all, of which this process
// runs those with k mod shards == shard (--shard K/N; 0/1 unsharded).
struct SiteShape {
    int count = 0;
    int shard = 0;
    int shards = 1;
};

class Site {
  public:
    virtual ~Site() = default;
    virtual SiteShape shape() const = 0;
    // The meters this process runs, by index. Values as of each meter's
    // newest snapshot the fleet has looked at (at most a second old).
    virtual std::vector<SiteMeter> meters() const = 0;
    // Runs fn(meter, model) once for each running meter of this process, in
    // index order or not, each on the thread that may use that model (calls
    // for different meters may run at the same time on different loops), then
    // `done` once on the caller's event loop. With one loop for every meter
    // this is a plain loop followed by done().
    virtual void visit(std::function<void(const SiteMeter&, MeterModel&)> fn,
                       std::function<void()> done) = 0;
};

// Latched events of a meter: its channels with a latching event bit set
// (HH, H, L, LL, OFF: registers 178..223) and its L-L voltages with a latched
// over/under-voltage (241..243), over the model's panels. The same count
// from a live snapshot (the site page) and from a stored one (openbcpm site).
inline int site_latched_events(const ModelInfo& model, const MeterSnapshot& snap) {
    int n = 0;
    for (int p = 1; p <= model.panels; ++p) {
        const PanelEvents& e = snap.panel[static_cast<size_t>(p - 1)].events;
        for (int ch = 1; ch <= kChannelsPerPanel; ++ch) {
            if (model.has_channel(ch) &&
                (e.status[static_cast<size_t>(ch - 1)] & event_bits::kLatchingMask))
                ++n;
        }
        for (uint16_t v : e.voltage_status) {
            if (v & (event_bits::kVoltageHighLatching | event_bits::kVoltageLowLatching)) ++n;
        }
    }
    return n;
}

// Every field of a SiteMeter but index and running, from a meter's settings
// and one snapshot (call it on the meter's own loop).
inline void fill_site_meter_status(SiteMeter& m, const Settings& s, const MeterSnapshot& snap) {
    m.address = s.gateway.ip_address;
    m.web_port = s.gateway.web_port;
    m.serial_number = s.identity.serial_number;
    m.model = s.model.model_name();
    m.panels = s.model.panels;
    m.location = s.panels[0].location;
    m.device_id_offset = static_cast<uint32_t>(s.gateway.device_id_offset);
    m.modbus_address = s.gateway.modbus_address;
    m.latched_events = site_latched_events(s.model, snap);
    m.kw = 0.0;
    m.kwh = 0.0;
    for (int p = 1; p <= s.model.panels; ++p) {
        m.kw += snap.panel[static_cast<size_t>(p - 1)].mains.kw;
        m.kwh += snap.panel[static_cast<size_t>(p - 1)].mains.kwh;
    }
}

}  // namespace openbcpm
