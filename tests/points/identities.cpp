#include "identities.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace openbcpm::test {

namespace {

using points::MapVariant;
using points::Point;
using points::Repr;

std::string type_name(Repr r) {
    switch (r) {
        case Repr::Int16:
            return "int16";
        case Repr::Uint16:
            return "uint16";
        case Repr::Int32:
            return "int32";
        case Repr::Float32:
            return "float32";
        case Repr::Text:
            return "ascii";
    }
    return "?";
}

std::string variant_name(MapVariant v) {
    switch (v) {
        case MapVariant::Always:
            return "always";
        case MapVariant::LogicalByType:
            return "by-type";
        case MapVariant::Legacy:
            return "legacy";
    }
    return "?";
}

std::string object_text(const bacnet::MeterObject& o) {
    return bacnet::object_type_abbreviation(o.type) + std::to_string(o.instance);
}

// Panel 1's OID and descriptor with the panel written as N.
std::string panel_generic_oid(const snmp::Oid& oid) {
    const snmp::Oid panel = snmp::meter::panel_oid(1);
    if (!oid.starts_with(panel)) return oid.to_string();
    return snmp::meter::oids::kPanels.to_string() + ".N" +
           (oid.size() > panel.size() ? "." + oid.suffix_after(panel).to_string() : "");
}

std::string panel_generic_name(const std::string& name) {
    if (name == "panel1") return "panelN";
    return name.rfind("p1", 0) == 0 ? "pN" + name.substr(2) : name;
}

// The same OID and name on panel 2.
snmp::Oid on_panel2(const snmp::Oid& oid) {
    std::vector<uint32_t> arcs = oid.arcs();
    arcs.at(snmp::meter::oids::kPanels.size()) = 2;
    return snmp::Oid(std::move(arcs));
}

// "ch10.kw" after "ch9.kw": digits compare as numbers.
bool natural_less(const std::string& a, const std::string& b) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (std::isdigit(static_cast<unsigned char>(a[i])) &&
            std::isdigit(static_cast<unsigned char>(b[j]))) {
            size_t ie = i, je = j;
            while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie])))
                ++ie;
            while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je])))
                ++je;
            const auto na = std::stoull(a.substr(i, ie - i));
            const auto nb = std::stoull(b.substr(j, je - j));
            if (na != nb) return na < nb;
            i = ie;
            j = je;
            continue;
        }
        if (a[i] != b[j]) return a[i] < b[j];
        ++i;
        ++j;
    }
    return a.size() - i < b.size() - j;
}

int device_rank(const std::string& d) {
    if (d == "panel") return 0;
    if (d == "router") return 1;
    if (d == "class") return 2;
    return 3;
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
        if (c == '"') q += '"';
        q += c;
    }
    return q + "\"";
}

std::vector<std::string> split_csv(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                cur += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                cur += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

constexpr const char* kHeader =
    "point,device,modbus,words,type,variant,float,bacnet,bacnet_name,snmp_oid,snmp_name";

std::vector<std::string> fields(const IdentityRow& r) {
    return {r.point,    r.device, r.modbus,      r.words,    r.type,     r.variant,
            r.floating, r.bacnet, r.bacnet_name, r.snmp_oid, r.snmp_name};
}

}  // namespace

std::string IdentityRow::value() const {
    std::string out;
    const auto add = [&](const char* label, const std::string& v) {
        if (v.empty()) return;
        if (!out.empty()) out += ", ";
        out += std::string(label) + " " + v;
    };
    add("Modbus", modbus.empty() ? "" : modbus + " (" + words + " " + type + ", " + variant + ")");
    add("float", floating);
    add("BACnet", bacnet.empty() ? "" : bacnet + " \"" + bacnet_name + "\"");
    add("SNMP", snmp_oid.empty() ? "" : snmp_oid + " " + snmp_name);
    return out.empty() ? "(none)" : out;
}

IdentitySources meter_sources() {
    return {&points::Catalogue::instance().points(), &bacnet::panel_object_table(),
            &bacnet::router_object_table(), &snmp::meter::MeterMib::instance()};
}

std::vector<IdentityRow> identities(const IdentitySources& s) {
    std::vector<IdentityRow> rows;
    std::map<const Point*, size_t> row_of;
    for (const Point& p : *s.points) {
        IdentityRow r;
        r.point = p.id;
        r.device = "panel";
        if (p.integer.reg) {
            r.modbus = std::to_string(p.integer.reg);
            r.words = std::to_string(p.integer.words);
            r.type = type_name(p.integer.repr);
            r.variant = variant_name(p.integer.variant);
        }
        if (p.floating.reg) {
            r.floating = std::to_string(p.floating.reg);
            if (p.integer.reg && p.floating.variant != p.integer.variant)
                r.floating += " (" + variant_name(p.floating.variant) + ")";
        }
        row_of[&p] = rows.size();
        rows.push_back(std::move(r));
    }
    const auto row = [&](const Point* p) -> IdentityRow& {
        auto it = row_of.find(p);
        if (it == row_of.end()) throw std::logic_error("object of a point outside the catalogue");
        return rows[it->second];
    };
    for (const bacnet::MeterObject& o : *s.panel_objects) {
        if (!o.point) throw std::logic_error("panel object without a point: " + o.name);
        IdentityRow& r = row(o.point);
        if (!r.bacnet.empty()) throw std::logic_error("two objects for point " + r.point);
        r.bacnet = object_text(o);
        r.bacnet_name = o.name;
    }
    for (const bacnet::MeterObject& o : *s.router_objects) {
        IdentityRow r;
        r.point = o.point ? o.point->id : o.setting_key;
        r.device = "router";
        r.bacnet = object_text(o);
        r.bacnet_name = o.name;
        rows.push_back(std::move(r));
    }
    for (const bacnet::MeterClass& c : bacnet::panel_classes()) {
        IdentityRow r;
        r.point = c.name;
        r.device = "class";
        r.bacnet = "NC" + std::to_string(c.instance);
        r.bacnet_name = c.name;
        rows.push_back(std::move(r));
    }

    // SNMP: panel 1's instances, after checking that panel 2 mirrors them.
    const snmp::meter::MeterMib& mib = *s.mib;
    std::map<std::pair<std::string, std::string>, std::string> panel2;  // (oid, name) -> point
    for (const auto& o : mib.objects()) {
        if (o.panel != 2) continue;
        for (size_t i = 0; i < o.rows.size(); ++i) {
            const uint32_t index = o.column ? static_cast<uint32_t>(i + 1) : 0;
            panel2[{o.oid.child(index).to_string(), o.name}] = o.rows[i] ? o.rows[i]->id : "";
        }
    }
    const auto add_mib = [&](const std::string& name, const snmp::Oid& oid) {
        if (name.rfind("p2", 0) == 0 || name == "panel2") return;
        IdentityRow r;
        r.point = panel_generic_name(name);
        r.device = "mib";
        r.snmp_oid = panel_generic_oid(oid);
        r.snmp_name = r.point;
        rows.push_back(std::move(r));
    };
    for (const auto& o : mib.objects()) {
        if (o.panel != 1) continue;
        if (o.notify_only) {
            add_mib(o.name, o.oid);
            continue;
        }
        for (size_t i = 0; i < o.rows.size(); ++i) {
            if (!o.rows[i]) continue;
            const uint32_t index = o.column ? static_cast<uint32_t>(i + 1) : 0;
            const snmp::Oid instance = o.oid.child(index);
            const std::string twin = "p2" + o.name.substr(2);
            auto it = panel2.find({on_panel2(instance).to_string(), twin});
            if (it == panel2.end() || it->second != o.rows[i]->id)
                throw std::logic_error("panel 2's MIB does not mirror panel 1 at " + o.name);
            IdentityRow& r = row(o.rows[i]);
            if (!r.snmp_oid.empty()) throw std::logic_error("two OIDs for point " + r.point);
            r.snmp_oid = panel_generic_oid(instance);
            r.snmp_name = panel_generic_name(o.name);
        }
    }
    for (const auto& t : mib.tables()) {
        add_mib(t.name, t.oid);
        add_mib(t.entry, t.oid.child(1));
        add_mib(t.index, t.oid.child(1).child(1));
    }
    add_mib("bcpme", snmp::meter::oids::kBcpme);
    add_mib("bcpmeMIB", snmp::meter::oids::kModule);
    for (const auto& n : mib.nodes())
        add_mib(n.name, n.oid);
    for (const auto& n : mib.notifications())
        add_mib(n.name, n.oid);

    std::sort(rows.begin(), rows.end(), [](const IdentityRow& a, const IdentityRow& b) {
        const int da = device_rank(a.device), db = device_rank(b.device);
        if (da != db) return da < db;
        return natural_less(a.point, b.point);
    });
    return rows;
}

std::string to_csv(const std::vector<IdentityRow>& rows) {
    std::string out = std::string(kHeader) + "\n";
    for (const IdentityRow& r : rows) {
        bool first = true;
        for (const std::string& f : fields(r)) {
            if (!first) out += ',';
            out += csv_field(f);
            first = false;
        }
        out += '\n';
    }
    return out;
}

std::vector<IdentityRow> parse_csv(const std::string& text) {
    std::vector<IdentityRow> rows;
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || line != kHeader)
        throw std::runtime_error("identities: the first line is not the header");
    int number = 1;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty()) continue;
        const auto f = split_csv(line);
        if (f.size() != 11)
            throw std::runtime_error("identities line " + std::to_string(number) + ": " +
                                     std::to_string(f.size()) + " fields");
        rows.push_back({f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]});
    }
    return rows;
}

IdentityDiff compare(const std::vector<IdentityRow>& golden,
                     const std::vector<IdentityRow>& current) {
    std::map<std::string, const IdentityRow*> now;
    for (const IdentityRow& r : current)
        now[r.key()] = &r;
    IdentityDiff d;
    std::set<std::string> known;
    for (const IdentityRow& g : golden) {
        known.insert(g.key());
        auto it = now.find(g.key());
        if (it == now.end()) {
            d.removed.push_back(g.key() + ": was " + g.value());
        } else if (fields(*it->second) != fields(g)) {
            d.moved.push_back(g.key() + ": was " + g.value() + "; now " + it->second->value());
        }
    }
    for (const IdentityRow& r : current) {
        if (!known.count(r.key())) d.added.push_back(r.key() + ": " + r.value());
    }
    return d;
}

std::vector<std::string> shared_identities(const std::vector<IdentityRow>& rows) {
    std::map<std::string, std::vector<std::string>> owners;
    std::map<std::string, std::set<std::string>> descriptor_objects, object_descriptors;
    std::set<std::string> keys;
    for (const IdentityRow& r : rows) {
        if (!keys.insert(r.key()).second) owners["row " + r.key()].push_back(r.point);
        if (!r.modbus.empty()) {
            // Each word, in each map that holds it (a register of both maps
            // is in both).
            const int first = std::stoi(r.modbus), words = std::stoi(r.words);
            for (int w = 0; w < words; ++w) {
                for (const char* v : {"by-type", "legacy"}) {
                    if (r.variant != "always" && r.variant != v) continue;
                    owners["Modbus register " + std::to_string(first + w) + " (" + v + ")"]
                        .push_back(r.point);
                }
            }
        }
        if (!r.floating.empty()) {
            const int first = std::stoi(r.floating);
            for (int w = 0; w < 2; ++w) {
                for (const char* v : {"by-type", "legacy"}) {
                    if (r.variant != "always" && !r.variant.empty() && r.variant != v) continue;
                    owners["Modbus register " + std::to_string(first + w) + " (" + v + ")"]
                        .push_back(r.point);
                }
            }
        }
        const std::string device = r.device == "class" ? "panel" : r.device;
        if (!r.bacnet.empty()) {
            owners["BACnet " + r.bacnet + " of the " + device + " device"].push_back(r.point);
            owners["BACnet name \"" + r.bacnet_name + "\" of the " + device + " device"].push_back(
                r.point);
        }
        if (!r.snmp_oid.empty()) {
            owners["SNMP " + r.snmp_oid].push_back(r.point);
            // The rows of a table column share its descriptor; a descriptor
            // names one OBJECT-TYPE, an OBJECT-TYPE has one descriptor.
            const std::string object =
                r.device == "mib" ? r.snmp_oid : r.snmp_oid.substr(0, r.snmp_oid.rfind('.'));
            descriptor_objects[r.snmp_name].insert(object);
            object_descriptors[object].insert(r.snmp_name);
        }
    }
    std::vector<std::string> out;
    const auto report = [&](const std::string& identity, const auto& who) {
        if (who.size() < 2) return;
        std::string line = identity + ":";
        for (const std::string& w : who)
            line += " " + w;
        out.push_back(line);
    };
    for (const auto& [identity, who] : owners)
        report(identity, who);
    for (const auto& [name, objects] : descriptor_objects)
        report("SNMP descriptor " + name, objects);
    for (const auto& [object, names] : object_descriptors)
        report("SNMP OBJECT-TYPE " + object, names);
    return out;
}

}  // namespace openbcpm::test
