#include "points/export.hpp"

#include <sstream>

#include "points/modbus_map.hpp"

namespace openbcpm::points {

namespace {

std::string_view repr_name(Repr r, bool floating) {
    if (floating) return "float32";
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
    return "uint16";
}

std::string_view variant_name(MapVariant v) {
    switch (v) {
        case MapVariant::Always:
            return "";
        case MapVariant::LogicalByType:
            return "62017 bit 3 clear";
        case MapVariant::Legacy:
            return "62017 bit 3 set";
    }
    return "";
}

struct Row {
    uint32_t reg;
    const Point* point;
    bool floating;
    int words;
    std::string scale;
    std::string description;
};

// One row per value (its first register), in register order.
std::vector<Row> rows() {
    std::vector<Row> out;
    for (const auto& [reg, slot] : ModbusMap::instance().layout()) {
        if (slot.word != 0) continue;
        const Point& p = *slot.point;
        const ModbusBinding& b = slot.floating ? p.floating : p.integer;
        Row r{reg, &p, slot.floating, b.words, "", b.map_name.empty() ? p.name : b.map_name};
        if (!slot.floating && p.ref.q != Q::Setting) {
            if (b.scale_reg)
                r.scale = "reg " + std::to_string(b.scale_reg);
            else if (b.fixed_scale)
                r.scale = std::to_string(b.fixed_scale);
        }
        if (slot.floating) r.description = p.name + " (float)";
        out.push_back(std::move(r));
    }
    return out;
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

}  // namespace

std::string pointmap_csv() {
    std::ostringstream os;
    os << "register,words,type,access,nv,scale,unit,point,map,description\n";
    for (const Row& r : rows()) {
        const Point& p = *r.point;
        const ModbusBinding& b = r.floating ? p.floating : p.integer;
        os << r.reg << ',' << r.words << ',' << repr_name(b.repr, r.floating) << ','
           << (r.floating ? "R" : access_name(p.access)) << ',' << (p.nv ? "NV" : "") << ','
           << r.scale << ',' << unit_symbol(p.unit) << ',' << p.id << ',' << variant_name(b.variant)
           << ',' << csv_field(r.description) << '\n';
    }
    return os.str();
}

nlohmann::json pointmap_json() {
    nlohmann::json out = nlohmann::json::array();
    for (const Row& r : rows()) {
        const Point& p = *r.point;
        const ModbusBinding& b = r.floating ? p.floating : p.integer;
        nlohmann::json j{{"register", r.reg},
                         {"words", r.words},
                         {"type", repr_name(b.repr, r.floating)},
                         {"access", r.floating ? "R" : access_name(p.access)},
                         {"nv", p.nv},
                         {"unit", unit_symbol(p.unit)},
                         {"point", p.id},
                         {"description", r.description}};
        if (!r.scale.empty()) j["scale"] = r.scale;
        if (b.variant != MapVariant::Always) j["map"] = variant_name(b.variant);
        out.push_back(std::move(j));
    }
    return out;
}

}  // namespace openbcpm::points
