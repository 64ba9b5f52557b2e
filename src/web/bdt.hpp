// bdt.ini, the BBMD broadcast distribution table the guide has the user
// upload through File Transfer: `//` comment lines, then exactly one
// `IP_Address,port,subnet_mask` line per BBMD (no spaces), the meter included.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace openbcpm::web {

struct BdtEntry {
    std::array<uint8_t, 4> address{};
    uint16_t port = 47808;
    std::array<uint8_t, 4> mask{};
};

struct BdtFile {
    std::vector<BdtEntry> entries;
    std::string error;  // empty when the file is valid
    int line = 0;       // 1-based line of the error
    bool ok() const { return error.empty(); }
};

inline constexpr size_t kMaxBdtBytes = 64 * 1024;
inline constexpr size_t kMaxBdtEntries = 128;

BdtFile parse_bdt_ini(std::string_view text);

}  // namespace openbcpm::web
