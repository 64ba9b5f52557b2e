#include "web/bdt.hpp"

#include <charconv>
#include <optional>

namespace openbcpm::web {

namespace {

std::optional<unsigned> decimal(std::string_view s, unsigned max) {
    if (s.empty() || s.size() > 5) return std::nullopt;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    unsigned v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    if (v > max) return std::nullopt;
    return v;
}

std::optional<std::array<uint8_t, 4>> ipv4(std::string_view s) {
    std::array<uint8_t, 4> out{};
    for (size_t i = 0; i < 4; ++i) {
        const size_t dot = i < 3 ? s.find('.') : s.size();
        if (dot == std::string_view::npos) return std::nullopt;
        auto v = decimal(s.substr(0, dot), 255);
        // "010" is ambiguous (octal in some parsers): refuse leading zeros.
        if (!v || (dot > 1 && s[0] == '0')) return std::nullopt;
        out[i] = static_cast<uint8_t>(*v);
        s = i < 3 ? s.substr(dot + 1) : std::string_view{};
    }
    return out;
}

}  // namespace

BdtFile parse_bdt_ini(std::string_view text) {
    BdtFile f;
    if (text.size() > kMaxBdtBytes) {
        f.error = "the file is larger than 64 KiB";
        return f;
    }
    int number = 0;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(start, end - start);
        start = end + 1;
        ++number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.substr(0, 2) == "//") continue;
        auto fail = [&](std::string why) {
            f.error = std::move(why);
            f.line = number;
            f.entries.clear();
            return f;
        };
        for (unsigned char c : line) {
            if (c == ' ' || c == '\t') return fail("spaces are not allowed (use IP,port,mask)");
            if (c < 0x20 || c > 0x7e) return fail("only printable ASCII characters are allowed");
        }
        const size_t c1 = line.find(',');
        const size_t c2 = c1 == std::string_view::npos ? c1 : line.find(',', c1 + 1);
        if (c2 == std::string_view::npos || line.find(',', c2 + 1) != std::string_view::npos) {
            return fail("expected exactly three fields: IP_Address,port,subnet_mask");
        }
        BdtEntry e;
        auto address = ipv4(line.substr(0, c1));
        if (!address) return fail("the BBMD IP address is not a.b.c.d");
        auto port = decimal(line.substr(c1 + 1, c2 - c1 - 1), 65535);
        if (!port || *port == 0) return fail("the BBMD port must be 1 to 65535");
        auto mask = ipv4(line.substr(c2 + 1));
        if (!mask) return fail("the BBMD subnet mask is not a.b.c.d");
        // A broadcast distribution mask is a run of ones followed by zeros.
        const uint32_t m = (uint32_t{(*mask)[0]} << 24) | (uint32_t{(*mask)[1]} << 16) |
                           (uint32_t{(*mask)[2]} << 8) | uint32_t{(*mask)[3]};
        if ((~m & (~m + 1)) != 0) return fail("the subnet mask is not contiguous");
        if (f.entries.size() >= kMaxBdtEntries) return fail("more than 128 BBMD entries");
        e.address = *address;
        e.port = static_cast<uint16_t>(*port);
        e.mask = *mask;
        f.entries.push_back(e);
    }
    if (f.entries.empty()) {
        f.error = "no BBMD entries (the table must list every BBMD, this meter included)";
        f.line = number;
    }
    return f;
}

}  // namespace openbcpm::web
