#include "protocols/bacnet/bvll.hpp"

#include <fmt/format.h>

#include <charconv>

namespace openbcpm::bacnet {

namespace {

uint16_t be16(std::span<const uint8_t> b, size_t at) {
    return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}

void put_header(std::vector<uint8_t>& out, BvlcFunction f, size_t payload) {
    const size_t total = 4 + payload;
    out.push_back(kBvllTypeBip);
    out.push_back(static_cast<uint8_t>(f));
    out.push_back(static_cast<uint8_t>(total >> 8));
    out.push_back(static_cast<uint8_t>(total));
}

std::vector<uint8_t> header(BvlcFunction f, size_t payload) {
    std::vector<uint8_t> out;
    out.reserve(4 + payload);
    put_header(out, f, payload);
    return out;
}

void put_address(std::vector<uint8_t>& out, const BipAddress& a) {
    const auto b = a.bytes();
    out.insert(out.end(), b.begin(), b.end());
}

}  // namespace

std::optional<BipAddress> BipAddress::from_bytes(std::span<const uint8_t> b) {
    if (b.size() != 6) return std::nullopt;
    return BipAddress{{b[0], b[1], b[2], b[3]}, static_cast<uint16_t>((b[4] << 8) | b[5])};
}

std::string BipAddress::to_string() const {
    return fmt::format("{}.{}.{}.{}:{}", ip[0], ip[1], ip[2], ip[3], port);
}

namespace {
std::optional<std::array<uint8_t, 4>> parse_ipv4(std::string_view s) {
    std::array<uint8_t, 4> out{};
    for (int i = 0; i < 4; ++i) {
        const auto dot = i < 3 ? s.find('.') : s.size();
        if (dot == std::string_view::npos) return std::nullopt;
        const auto part = s.substr(0, dot);
        if (part.empty() || part.size() > 3) return std::nullopt;
        unsigned v = 0;
        const auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        if (ec != std::errc{} || p != part.data() + part.size() || v > 255) return std::nullopt;
        out[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
        s.remove_prefix(i < 3 ? dot + 1 : dot);
    }
    if (!s.empty()) return std::nullopt;
    return out;
}
}  // namespace

std::optional<BipAddress> BipAddress::parse(std::string_view ip, uint16_t port) {
    const auto a = parse_ipv4(ip);
    if (!a) return std::nullopt;
    return BipAddress{*a, port};
}

std::optional<Bvll> decode_bvll(std::span<const uint8_t> d) {
    if (d.size() < 4 || d[0] != kBvllTypeBip) return std::nullopt;
    if (be16(d, 2) != d.size()) return std::nullopt;
    Bvll m;
    m.function = static_cast<BvlcFunction>(d[1]);
    const auto body = d.subspan(4);
    switch (m.function) {
        case BvlcFunction::Result:
            if (body.size() != 2) return std::nullopt;
            m.result = be16(body, 0);
            return m;
        case BvlcFunction::WriteBdt:
        case BvlcFunction::ReadBdtAck:
            if (body.size() % 10 != 0) return std::nullopt;
            for (size_t i = 0; i < body.size(); i += 10) {
                BdtEntry e;
                e.address = *BipAddress::from_bytes(body.subspan(i, 6));
                for (size_t k = 0; k < 4; ++k)
                    e.mask[k] = body[i + 6 + k];
                m.bdt.push_back(e);
            }
            return m;
        case BvlcFunction::ReadBdt:
        case BvlcFunction::ReadFdt:
            if (!body.empty()) return std::nullopt;
            return m;
        case BvlcFunction::ForwardedNpdu:
            if (body.size() < 6) return std::nullopt;
            m.origin = *BipAddress::from_bytes(body.subspan(0, 6));
            m.npdu = body.subspan(6);
            return m;
        case BvlcFunction::RegisterForeignDevice:
            if (body.size() != 2) return std::nullopt;
            m.ttl = be16(body, 0);
            return m;
        case BvlcFunction::ReadFdtAck:
            if (body.size() % 10 != 0) return std::nullopt;
            for (size_t i = 0; i < body.size(); i += 10) {
                FdtEntry e;
                e.address = *BipAddress::from_bytes(body.subspan(i, 6));
                e.ttl = be16(body, i + 6);
                e.remaining = be16(body, i + 8);
                m.fdt.push_back(e);
            }
            return m;
        case BvlcFunction::DeleteFdtEntry:
            if (body.size() != 6) return std::nullopt;
            m.entry = *BipAddress::from_bytes(body);
            return m;
        case BvlcFunction::DistributeBroadcastToNetwork:
        case BvlcFunction::OriginalUnicastNpdu:
        case BvlcFunction::OriginalBroadcastNpdu:
            m.npdu = body;
            return m;
        case BvlcFunction::SecureBvll:
            return std::nullopt;
    }
    return std::nullopt;
}

std::vector<uint8_t> encode_bvll_npdu(BvlcFunction f, std::span<const uint8_t> npdu) {
    std::vector<uint8_t> out;
    out.reserve(4 + npdu.size());
    encode_bvll_npdu(out, f, npdu);
    return out;
}

void encode_bvll_npdu(std::vector<uint8_t>& out, BvlcFunction f, std::span<const uint8_t> npdu) {
    put_header(out, f, npdu.size());
    out.insert(out.end(), npdu.begin(), npdu.end());
}

std::vector<uint8_t> encode_forwarded_npdu(const BipAddress& origin,
                                           std::span<const uint8_t> npdu) {
    auto out = header(BvlcFunction::ForwardedNpdu, 6 + npdu.size());
    put_address(out, origin);
    out.insert(out.end(), npdu.begin(), npdu.end());
    return out;
}

std::vector<uint8_t> encode_bvlc_result(BvlcResult r) {
    auto out = header(BvlcFunction::Result, 2);
    out.push_back(static_cast<uint8_t>(static_cast<uint16_t>(r) >> 8));
    out.push_back(static_cast<uint8_t>(static_cast<uint16_t>(r)));
    return out;
}

std::vector<uint8_t> encode_register_foreign_device(uint16_t ttl) {
    auto out = header(BvlcFunction::RegisterForeignDevice, 2);
    out.push_back(static_cast<uint8_t>(ttl >> 8));
    out.push_back(static_cast<uint8_t>(ttl));
    return out;
}

std::vector<uint8_t> encode_read_bdt() {
    return header(BvlcFunction::ReadBdt, 0);
}
std::vector<uint8_t> encode_read_fdt() {
    return header(BvlcFunction::ReadFdt, 0);
}

namespace {
std::vector<uint8_t> encode_bdt(BvlcFunction f, std::span<const BdtEntry> bdt) {
    auto out = header(f, bdt.size() * 10);
    for (const auto& e : bdt) {
        put_address(out, e.address);
        out.insert(out.end(), e.mask.begin(), e.mask.end());
    }
    return out;
}
}  // namespace

std::vector<uint8_t> encode_read_bdt_ack(std::span<const BdtEntry> bdt) {
    return encode_bdt(BvlcFunction::ReadBdtAck, bdt);
}
std::vector<uint8_t> encode_write_bdt(std::span<const BdtEntry> bdt) {
    return encode_bdt(BvlcFunction::WriteBdt, bdt);
}

std::vector<uint8_t> encode_read_fdt_ack(std::span<const FdtEntry> fdt) {
    auto out = header(BvlcFunction::ReadFdtAck, fdt.size() * 10);
    for (const auto& e : fdt) {
        put_address(out, e.address);
        out.push_back(static_cast<uint8_t>(e.ttl >> 8));
        out.push_back(static_cast<uint8_t>(e.ttl));
        out.push_back(static_cast<uint8_t>(e.remaining >> 8));
        out.push_back(static_cast<uint8_t>(e.remaining));
    }
    return out;
}

std::vector<uint8_t> encode_delete_fdt_entry(const BipAddress& a) {
    auto out = header(BvlcFunction::DeleteFdtEntry, 6);
    put_address(out, a);
    return out;
}

BdtParse parse_bdt_ini(std::string_view text) {
    BdtParse result;
    int line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.starts_with("//")) continue;
        const auto fail = [&](const std::string& why) {
            result.error =
                fmt::format("bdt.ini line {}: {} (\"{}\"); expected ip,port,mask without spaces",
                            line_no, why, line);
            result.entries.clear();
            return result;
        };
        if (line.find_first_of(" \t") != std::string_view::npos)
            return fail("spaces are not allowed");
        const auto c1 = line.find(',');
        const auto c2 = c1 == std::string_view::npos ? c1 : line.find(',', c1 + 1);
        if (c2 == std::string_view::npos || line.find(',', c2 + 1) != std::string_view::npos) {
            return fail("three comma-separated fields needed");
        }
        const auto ip = parse_ipv4(line.substr(0, c1));
        if (!ip) return fail("bad IP address");
        const auto port_text = line.substr(c1 + 1, c2 - c1 - 1);
        unsigned port = 0;
        const auto [p, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (port_text.empty() || ec != std::errc{} || p != port_text.data() + port_text.size() ||
            port == 0 || port > 65535) {
            return fail("bad port");
        }
        const auto mask = parse_ipv4(line.substr(c2 + 1));
        if (!mask) return fail("bad subnet mask");
        // A broadcast distribution mask must be contiguous ones (Annex J.4.3.2).
        const uint32_t m = (uint32_t{(*mask)[0]} << 24) | (uint32_t{(*mask)[1]} << 16) |
                           (uint32_t{(*mask)[2]} << 8) | (*mask)[3];
        if ((~m & (~m + 1)) != 0) return fail("subnet mask is not contiguous");
        result.entries.push_back(BdtEntry{BipAddress{*ip, static_cast<uint16_t>(port)}, *mask});
    }
    return result;
}

}  // namespace openbcpm::bacnet
