// The register map against the BCPMSC point map itself: every register the
// reference lists is where it says, with its access, NV flag, float copy and
// scale register, and the map has nothing the reference does not in its ranges.
#include "points/catalogue.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "points/modbus_map.hpp"

using namespace openbcpm;
using namespace openbcpm::points;

namespace {

struct RefRow {
    uint32_t reg = 0;
    uint32_t float_msw = 0;
    std::string access, nv, channel, description, scale;
};

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

std::vector<RefRow> reference() {
    std::ifstream in(OPENBCPM_REFERENCE_MAP);
    std::vector<RefRow> rows;
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        const auto f = split_csv(line);
        RefRow r;
        r.reg = static_cast<uint32_t>(std::stoul(f.at(0)));
        r.float_msw = f.at(1).empty() ? 0 : static_cast<uint32_t>(std::stoul(f.at(1)));
        r.access = f.at(3);
        r.nv = f.at(4);
        r.channel = f.at(5);
        r.description = f.at(7);
        r.scale = f.at(8);
        rows.push_back(r);
    }
    return rows;
}

std::string squeeze(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == ' ' && !out.empty() && out.back() == ' ') continue;
        out += c;
    }
    return out;
}

// Firmware download (60005..60153) and EEPROM update (61000..61129) are the
// meter's factory tooling; openbcpm does not implement them (docs/modbus.md).
bool not_implemented(uint32_t reg) {
    return (reg >= 60005 && reg <= 60153) || (reg >= 61000 && reg <= 61129);
}

bool multi_phase_region(uint32_t reg) {
    return reg >= 4000 && reg <= 9999;
}

std::string access_of(const Point& p) {
    return std::string(access_name(p.access));
}

}  // namespace

TEST(PointMap, EveryReferenceRegisterIsWhereTheMapSays) {
    const auto rows = reference();
    ASSERT_GT(rows.size(), 2200u);
    const ModbusMap& map = ModbusMap::instance();
    int checked = 0;
    for (const RefRow& r : rows) {
        if (not_implemented(r.reg)) continue;
        const bool legacy = multi_phase_region(r.reg);
        const RegisterSlot* s = map.slot(r.reg, legacy);
        ASSERT_NE(s, nullptr) << "register " << r.reg << " (" << r.description << ") missing";
        EXPECT_FALSE(s->floating) << r.reg;
        const Point& p = *s->point;
        EXPECT_EQ(access_of(p), r.access) << r.reg << " " << p.id;
        EXPECT_EQ(p.nv ? "NV" : "", r.nv) << r.reg << " " << p.id;
        if (s->word == 0) {
            EXPECT_EQ(squeeze(p.integer.map_name).rfind(squeeze(r.description), 0), 0u)
                << r.reg << ": ours \"" << p.integer.map_name << "\", map \"" << r.description
                << "\"";
        } else {
            EXPECT_NE(r.description.find("LSW"), std::string::npos) << r.reg;
        }
        if (r.float_msw) {
            const RegisterSlot* f = map.slot(r.float_msw, legacy);
            ASSERT_NE(f, nullptr) << "float " << r.float_msw << " of " << r.reg;
            EXPECT_TRUE(f->floating);
            EXPECT_EQ(f->point, s->point) << r.reg;
            EXPECT_EQ(f->word, 0);
            const RegisterSlot* lsw = map.slot(r.float_msw + 1, legacy);
            ASSERT_NE(lsw, nullptr);
            EXPECT_EQ(lsw->word, 1);
        }
        if (!r.scale.empty() && s->word == 0) {
            const int scale = std::stoi(r.scale);
            if (scale < 0) {
                EXPECT_EQ(p.integer.fixed_scale, scale) << r.reg;
                EXPECT_EQ(p.integer.scale_reg, 0) << r.reg;
            } else {
                EXPECT_EQ(p.integer.scale_reg, scale) << r.reg << " " << p.id;
            }
        } else if (s->word == 0 && p.ref.q != Q::Setting) {
            EXPECT_EQ(p.integer.scale_reg, 0) << r.reg << " " << p.id;
        }
        ++checked;
    }
    EXPECT_GT(checked, 2200);
}

TEST(PointMap, NothingBeyondTheReferenceInItsRanges) {
    std::set<uint32_t> ref;
    for (const RefRow& r : reference()) {
        ref.insert(r.reg);
        if (r.float_msw) {
            ref.insert(r.float_msw);
            ref.insert(r.float_msw + 1);
        }
    }
    for (uint32_t reg = 8; reg <= 70; ++reg)
        ref.insert(reg);  // "7 through 70"
    const ModbusMap& map = ModbusMap::instance();
    // The reference's own ranges: common, 1PH, legacy 2PH/3PH, tail.
    auto in_reference_range = [](uint32_t reg) {
        return reg <= 999 || (reg >= 1000 && reg <= 2923) || reg >= 60000;
    };
    for (uint32_t reg = 1; reg < 65536; ++reg) {
        for (bool legacy : {false, true}) {
            if (!legacy && multi_phase_region(reg))
                continue;  // the logical circuit map lives there
            const bool ours = map.slot(reg, legacy) != nullptr;
            const bool theirs = ref.count(reg) > 0;
            if ((multi_phase_region(reg) || in_reference_range(reg)) && !not_implemented(reg)) {
                EXPECT_EQ(ours, theirs) << "register " << reg;
            }
        }
    }
}

TEST(PointMap, SectionSizesMatchTheMapsTotals) {
    // "Section #Registers": 1PH 1596, 2PH 1491, 3PH 1288.
    const ModbusMap& map = ModbusMap::instance();
    auto count = [&](uint32_t from, uint32_t to, bool legacy) {
        int n = 0;
        for (uint32_t r = from; r <= to; ++r)
            n += map.slot(r, legacy) ? 1 : 0;
        return n;
    };
    EXPECT_EQ(count(1000, 2999, false), 1596);
    EXPECT_EQ(count(4000, 6999, true), 1491);
    EXPECT_EQ(count(7000, 9999, true), 1288);
}

TEST(Catalogue, PointIdsAreUniqueAndSettingsResolve) {
    const auto& points = Catalogue::instance().points();
    std::set<std::string> ids;
    for (const Point& p : points) {
        EXPECT_TRUE(ids.insert(p.id).second) << p.id;
        if (p.write == WriteKind::Setting) {
            EXPECT_NE(find_setting(setting_key(p, 1)), nullptr) << p.id;
            EXPECT_NE(find_setting(setting_key(p, 2)), nullptr) << p.id;
        }
        EXPECT_EQ(Catalogue::instance().find(p.id), &p);
    }
    EXPECT_GT(points.size(), 4000u);
}
