// Pinned identities: every Modbus register, BACnet object and SNMP OID a
// client may have stored is where tests/points/identities.csv says. A new
// point adds rows (recorded with the command below); a row that moves or
// disappears fails, because it breaks every BMS database that holds it.
#include "identities.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace openbcpm;
using namespace openbcpm::test;

namespace {

constexpr const char* kGolden = OPENBCPM_IDENTITIES_FILE;
constexpr const char* kAddCommand = "OPENBCPM_ADD_IDENTITIES=1 build/tests/points/identities_tests";

std::string read_file(const char* path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string listed(const std::vector<std::string>& lines, size_t most = 40) {
    std::string out;
    for (size_t i = 0; i < lines.size() && i < most; ++i)
        out += "  " + lines[i] + "\n";
    if (lines.size() > most) out += "  ... and " + std::to_string(lines.size() - most) + " more\n";
    return out;
}

}  // namespace

TEST(Identities, AreWhereTheyWerePublished) {
    const auto current = identities(meter_sources());
    const std::string text = read_file(kGolden);
    const bool add = std::getenv("OPENBCPM_ADD_IDENTITIES") != nullptr;
    ASSERT_TRUE(!text.empty() || add) << kGolden << " is missing or empty";
    const auto golden = text.empty() ? std::vector<IdentityRow>{} : parse_csv(text);
    const IdentityDiff d = compare(golden, current);
    EXPECT_TRUE(d.moved.empty())
        << d.moved.size()
        << " identities moved (a BMS, SCADA or NMS that stored them now reads or writes something "
           "else):\n"
        << listed(d.moved)
        << "Give them back their pinned values in src/points/catalogue.cpp. A deliberate move "
           "(a published identity was wrong) is a breaking change: edit the line of "
           "tests/points/identities.csv by hand and say why in docs/decisions.md.";
    EXPECT_TRUE(d.removed.empty())
        << d.removed.size() << " identities disappeared:\n"
        << listed(d.removed)
        << "A published point stays (docs/decisions.md, Pinned identities); if its removal is "
           "deliberate, delete its line of tests/points/identities.csv by hand and say why in "
           "docs/decisions.md.";
    if (!d.added.empty() && add && d.moved.empty() && d.removed.empty()) {
        std::ofstream(kGolden) << to_csv(current);
        std::cout << "recorded " << d.added.size() << " new identities in " << kGolden << "\n";
        return;
    }
    EXPECT_TRUE(d.added.empty())
        << d.added.size() << " identities are not in tests/points/identities.csv yet:\n"
        << listed(d.added)
        << "If these are new points with the pins you gave them, record them with\n  "
        << kAddCommand << "\n(it only adds rows; it refuses while anything moved or disappeared)";
}

TEST(Identities, NoTwoPointsShareOne) {
    const auto shared = shared_identities(identities(meter_sources()));
    EXPECT_TRUE(shared.empty()) << "identities with more than one owner:\n" << listed(shared);
}

// The comparison itself: a moved, a removed and an added identity are each
// reported with the point they belong to.
TEST(Identities, ComparisonReportsMovedRemovedAndAdded) {
    const auto golden = identities(meter_sources());
    auto current = golden;
    auto find = [&](const std::string& point) -> IdentityRow& {
        for (IdentityRow& r : current)
            if (r.point == point && r.device == "panel") return r;
        throw std::logic_error("no row " + point);
    };
    find("user_defined").bacnet = "AV165";
    find("ch5.current").snmp_oid += "0";
    const std::string removed = find("ch7.kw").key();
    std::erase_if(current, [&](const IdentityRow& r) { return r.key() == removed; });
    IdentityRow added = golden.front();
    added.point = "ch1.new_quantity";
    current.push_back(added);
    const IdentityDiff d = compare(golden, current);
    ASSERT_EQ(d.moved.size(), 2U);
    EXPECT_EQ(d.moved[0].rfind("ch5.current (panel)", 0), 0U) << d.moved[0];
    EXPECT_EQ(d.moved[1].rfind("user_defined (panel)", 0), 0U) << d.moved[1];
    EXPECT_NE(d.moved[1].find("now Modbus 62017 (1 uint16, always), BACnet AV165"),
              std::string::npos)
        << d.moved[1];
    ASSERT_EQ(d.removed.size(), 1U);
    EXPECT_EQ(d.removed[0].rfind("ch7.kw (panel)", 0), 0U) << d.removed[0];
    ASSERT_EQ(d.added.size(), 1U);
    EXPECT_EQ(d.added[0].rfind("ch1.new_quantity (panel)", 0), 0U) << d.added[0];
    // The file format reads back what it wrote.
    const auto round_trip = parse_csv(to_csv(golden));
    EXPECT_TRUE(compare(golden, round_trip).moved.empty());
    EXPECT_EQ(round_trip.size(), golden.size());
}

TEST(Identities, SharedIdentitiesAreFound) {
    auto rows = identities(meter_sources());
    auto at = [&](const std::string& point) -> IdentityRow& {
        for (IdentityRow& r : rows)
            if (r.point == point && r.device == "panel") return r;
        throw std::logic_error("no row " + point);
    };
    at("ch2.current").bacnet = at("ch1.current").bacnet;
    at("ch2.kw").snmp_oid = at("ch1.kw").snmp_oid;
    const auto shared = shared_identities(rows);
    ASSERT_EQ(shared.size(), 2U) << listed(shared);
    EXPECT_NE(shared[0].find("ch1.current ch2.current"), std::string::npos) << shared[0];
    EXPECT_NE(shared[1].find("ch1.kw ch2.kw"), std::string::npos) << shared[1];
}
