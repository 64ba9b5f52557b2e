#include "web/bdt.hpp"

#include <gtest/gtest.h>

using namespace openbcpm::web;

TEST(BdtIni, ParsesTheGuidesExample) {
    const char* text =
        "// Bdt.ini\n"
        "// The format of this table must be (without the forward slashes - they are\n"
        "// comment indicators):\n"
        "//\n"
        "//BBMD IP_Address , BBMD port , BBMD subnet Mask\n"
        "//\n"
        "147.26.116.217,47808,255.255.255.255\n"
        "172.16.17.198,47808,255.255.255.255\n";
    BdtFile f = parse_bdt_ini(text);
    ASSERT_TRUE(f.ok()) << f.error;
    ASSERT_EQ(f.entries.size(), 2u);
    EXPECT_EQ(f.entries[0].address, (std::array<uint8_t, 4>{147, 26, 116, 217}));
    EXPECT_EQ(f.entries[1].port, 47808);
    EXPECT_EQ(f.entries[1].mask, (std::array<uint8_t, 4>{255, 255, 255, 255}));
}

TEST(BdtIni, AcceptsCrLfAndBlankLines) {
    BdtFile f = parse_bdt_ini("\r\n10.0.0.1,47809,255.255.0.0\r\n\r\n");
    ASSERT_TRUE(f.ok()) << f.error;
    EXPECT_EQ(f.entries.at(0).port, 47809);
}

TEST(BdtIni, RefusesWithLineAndReason) {
    struct Case {
        const char* text;
        int line;
        const char* why;
    };
    for (const Case& c : {Case{"10.0.0.1, 47808,255.255.255.255\n", 1, "spaces"},
                          Case{"// x\n10.0.0.1,47808\n", 2, "three fields"},
                          Case{"10.0.0.1,47808,255.255.255.255,1\n", 1, "three fields"},
                          Case{"10.0.0.256,47808,255.255.255.255\n", 1, "IP address"},
                          Case{"10.0.0,47808,255.255.255.255\n", 1, "IP address"},
                          Case{"10.0.0.01,47808,255.255.255.255\n", 1, "IP address"},
                          Case{"10.0.0.1,0,255.255.255.255\n", 1, "port"},
                          Case{"10.0.0.1,65536,255.255.255.255\n", 1, "port"},
                          Case{"10.0.0.1,47808,255.0.255.0\n", 1, "contiguous"},
                          Case{"10.0.0.1,47808,255.255.255.x\n", 1, "mask"},
                          Case{"// only comments\n", 1, "no BBMD entries"}}) {
        BdtFile f = parse_bdt_ini(c.text);
        EXPECT_FALSE(f.ok()) << c.text;
        EXPECT_EQ(f.line, c.line) << c.text;
        EXPECT_NE(f.error.find(c.why), std::string::npos) << c.text << " -> " << f.error;
        EXPECT_TRUE(f.entries.empty());
    }
}

TEST(BdtIni, RefusesOversizedFiles) {
    std::string big(kMaxBdtBytes + 1, '/');
    EXPECT_FALSE(parse_bdt_ini(big).ok());
    std::string many;
    for (size_t i = 0; i <= kMaxBdtEntries; ++i)
        many += "10.0.0.1,47808,255.255.255.255\n";
    EXPECT_FALSE(parse_bdt_ini(many).ok());
}
