#include "protocols/snmp/ber.hpp"

#include <algorithm>

namespace openbcpm::snmp::ber {

std::optional<Tlv> Reader::next() {
    size_t p = pos_;
    const size_t n = in_.size();
    if (p >= n) return std::nullopt;
    const uint8_t t = in_[p++];
    if ((t & 0x1F) == 0x1F) return std::nullopt;  // multi-octet tags: not used by SNMP
    if (p >= n) return std::nullopt;
    size_t length = in_[p++];
    if (length & 0x80) {
        const size_t octets = length & 0x7F;
        // 0x80 is the indefinite form, which SNMP forbids (RFC 3417 section 8).
        if (octets == 0 || octets > kMaxLengthOctets || octets > n - p) return std::nullopt;
        length = 0;
        for (size_t i = 0; i < octets; ++i)
            length = (length << 8) | in_[p++];
    }
    if (length > n - p) return std::nullopt;
    pos_ = p + length;
    return Tlv{t, in_.subspan(p, length)};
}

std::optional<std::span<const uint8_t>> Reader::next(uint8_t expected) {
    const size_t saved = pos_;
    auto tlv = next();
    if (!tlv || tlv->tag != expected) {
        pos_ = saved;
        return std::nullopt;
    }
    return tlv->content;
}

std::optional<int32_t> decode_integer32(std::span<const uint8_t> c) {
    if (c.empty() || c.size() > 4) return std::nullopt;
    // Sign-extend from the first octet, then shift the rest in.
    int64_t v = c[0] < 0x80 ? int64_t{c[0]} : int64_t{c[0]} - 256;
    for (size_t i = 1; i < c.size(); ++i)
        v = v * 256 + c[i];
    return static_cast<int32_t>(v);
}

namespace {

// Unsigned types are INTEGER encodings that must not be negative; one extra
// leading zero octet makes room for the top bit.
std::optional<uint64_t> decode_unsigned(std::span<const uint8_t> c, size_t width) {
    if (c.empty() || c.size() > width + 1) return std::nullopt;
    if (c[0] & 0x80) return std::nullopt;  // negative
    if (c.size() == width + 1 && c[0] != 0) return std::nullopt;
    uint64_t v = 0;
    for (const uint8_t b : c)
        v = (v << 8) | b;
    return v;
}

}  // namespace

std::optional<uint32_t> decode_unsigned32(std::span<const uint8_t> c) {
    auto v = decode_unsigned(c, 4);
    if (!v) return std::nullopt;
    return static_cast<uint32_t>(*v);
}

std::optional<uint64_t> decode_unsigned64(std::span<const uint8_t> c) {
    return decode_unsigned(c, 8);
}

bool decode_oid(std::span<const uint8_t> c, Oid& arcs) {
    arcs.clear();
    if (c.empty()) return false;
    size_t i = 0;
    bool first = true;
    while (i < c.size()) {
        // X.690 8.19.2: a sub-identifier's first octet is never 0x80.
        if (c[i] == 0x80) return false;
        uint64_t v = 0;
        while (true) {
            if (i >= c.size()) return false;  // last octet still says "more"
            const uint8_t b = c[i++];
            v = (v << 7) | (b & 0x7F);
            // The first sub-identifier carries two arcs (X*40+Y), so it may exceed 2^32-1 by 80.
            if (v > 0xFFFFFFFFull + 80) return false;
            if (!(b & 0x80)) break;
        }
        if (first) {
            const uint32_t x = v < 40 ? 0 : (v < 80 ? 1 : 2);
            const uint64_t y = v - 40ull * x;
            if (y > 0xFFFFFFFFull) return false;
            arcs.push_back(x);
            arcs.push_back(static_cast<uint32_t>(y));
            first = false;
        } else {
            if (v > 0xFFFFFFFFull) return false;
            arcs.push_back(static_cast<uint32_t>(v));
        }
        if (arcs.size() > kMaxSubIds) return false;
    }
    return true;
}

std::optional<Oid> decode_oid(std::span<const uint8_t> c) {
    Oid o;
    if (!decode_oid(c, o)) return std::nullopt;
    return o;
}

bool is_value_tag(uint8_t t) {
    switch (t) {
        case tag::kInteger:
        case tag::kOctetString:
        case tag::kNull:
        case tag::kObjectId:
        case tag::kIpAddress:
        case tag::kCounter32:
        case tag::kGauge32:
        case tag::kTimeTicks:
        case tag::kOpaque:
        case tag::kCounter64:
        case tag::kNoSuchObject:
        case tag::kNoSuchInstance:
        case tag::kEndOfMibView:
            return true;
        default:
            return false;
    }
}

bool decode_value(const Tlv& tlv, Value& out) {
    const auto c = tlv.content;
    // An OCTET STRING or OID the value already holds keeps its storage.
    const auto octets = [&](std::string& s) {
        s.assign(c.begin(), c.end());
        return true;
    };
    const auto set = [&](auto v) {
        out = v;
        return true;
    };
    switch (tlv.tag) {
        case tag::kInteger:
            if (auto v = decode_integer32(c)) return set(*v);
            return false;
        case tag::kOctetString:
            if (auto* s = std::get_if<std::string>(&out)) return octets(*s);
            return octets(out.emplace<std::string>());
        case tag::kNull:
            if (c.empty()) return set(Null{});
            return false;
        case tag::kObjectId:
            if (auto* o = std::get_if<Oid>(&out)) return decode_oid(c, *o);
            return decode_oid(c, out.emplace<Oid>());
        case tag::kIpAddress: {
            if (c.size() != 4) return false;
            IpAddress a;
            std::copy(c.begin(), c.end(), a.octets.begin());
            return set(a);
        }
        case tag::kCounter32:
            if (auto v = decode_unsigned32(c)) return set(Counter32{*v});
            return false;
        case tag::kGauge32:
            if (auto v = decode_unsigned32(c)) return set(Gauge32{*v});
            return false;
        case tag::kTimeTicks:
            if (auto v = decode_unsigned32(c)) return set(TimeTicks{*v});
            return false;
        case tag::kOpaque:
            if (auto* o = std::get_if<Opaque>(&out)) return octets(o->bytes);
            return octets(out.emplace<Opaque>().bytes);
        case tag::kCounter64:
            if (auto v = decode_unsigned64(c)) return set(Counter64{*v});
            return false;
        case tag::kNoSuchObject:
            if (c.empty()) return set(NoSuchObject{});
            return false;
        case tag::kNoSuchInstance:
            if (c.empty()) return set(NoSuchInstance{});
            return false;
        case tag::kEndOfMibView:
            if (c.empty()) return set(EndOfMibView{});
            return false;
        default:
            return false;
    }
}

std::optional<Value> decode_value(const Tlv& tlv) {
    Value v;
    if (!decode_value(tlv, v)) return std::nullopt;
    return v;
}

// ---- Encoding ----

size_t length_size(size_t n) {
    if (n < 0x80) return 1;
    size_t octets = 0;
    for (size_t v = n; v; v >>= 8)
        ++octets;
    return 1 + octets;
}

namespace {

size_t signed_content_size(int64_t v) {
    // The fewest octets whose two's complement holds v.
    size_t n = 1;
    for (; n < 8; ++n) {
        const int64_t limit = int64_t{1} << (8 * n - 1);
        if (v >= -limit && v < limit) break;
    }
    return n;
}

size_t unsigned_content_size(uint64_t v) {
    // As a non-negative INTEGER: the top bit of the first octet must be clear.
    size_t n = 1;
    while (n < 9 && (v >> (8 * n - 1)) != 0)
        ++n;
    return n;
}

size_t arc_size(uint64_t v) {
    size_t n = 1;
    while (v >>= 7)
        ++n;
    return n;
}

uint64_t first_subid(const Oid& o) {
    const uint64_t x = o.size() > 0 ? o[0] : 0;
    const uint64_t y = o.size() > 1 ? o[1] : 0;
    return x * 40 + y;
}

size_t oid_content_size(const Oid& o) {
    size_t n = arc_size(first_subid(o));
    for (size_t i = 2; i < o.size(); ++i)
        n += arc_size(o[i]);
    return n;
}

size_t value_content_size(const Value& v) {
    struct Size {
        size_t operator()(Null) const { return 0; }
        size_t operator()(int32_t x) const { return signed_content_size(x); }
        size_t operator()(const std::string& x) const { return x.size(); }
        size_t operator()(const Oid& x) const { return oid_content_size(x); }
        size_t operator()(const IpAddress&) const { return 4; }
        size_t operator()(Counter32 x) const { return unsigned_content_size(x.value); }
        size_t operator()(Gauge32 x) const { return unsigned_content_size(x.value); }
        size_t operator()(TimeTicks x) const { return unsigned_content_size(x.value); }
        size_t operator()(const Opaque& x) const { return x.bytes.size(); }
        size_t operator()(Counter64 x) const { return unsigned_content_size(x.value); }
        size_t operator()(NoSuchObject) const { return 0; }
        size_t operator()(NoSuchInstance) const { return 0; }
        size_t operator()(EndOfMibView) const { return 0; }
    };
    return std::visit(Size{}, v);
}

}  // namespace

size_t integer_size(int64_t v) {
    return tlv_size(signed_content_size(v));
}
size_t encoded_size(const Value& v) {
    return tlv_size(value_content_size(v));
}
size_t encoded_size(const VarBind& vb) {
    return tlv_size(tlv_size(oid_content_size(vb.name)) + encoded_size(vb.value));
}

void Writer::header(uint8_t t, size_t length) {
    out_.push_back(t);
    if (length < 0x80) {
        out_.push_back(static_cast<uint8_t>(length));
        return;
    }
    const size_t octets = length_size(length) - 1;
    out_.push_back(static_cast<uint8_t>(0x80 | octets));
    for (size_t i = octets; i-- > 0;)
        out_.push_back(static_cast<uint8_t>(length >> (8 * i)));
}

void Writer::integer(int64_t v, uint8_t t) {
    const size_t n = signed_content_size(v);
    header(t, n);
    for (size_t i = n; i-- > 0;)
        out_.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
}

void Writer::unsigned_integer(uint64_t v, uint8_t t) {
    const size_t n = unsigned_content_size(v);
    header(t, n);
    for (size_t i = n; i-- > 0;)
        out_.push_back(i >= 8 ? 0 : static_cast<uint8_t>(v >> (8 * i)));
}

void Writer::octets(std::string_view bytes, uint8_t t) {
    header(t, bytes.size());
    out_.insert(out_.end(), bytes.begin(), bytes.end());
}

void Writer::null(uint8_t t) {
    header(t, 0);
}

void Writer::oid(const Oid& o) {
    header(tag::kObjectId, oid_content_size(o));
    const auto arc = [&](uint64_t v) {
        for (size_t i = arc_size(v); i-- > 0;) {
            const auto b = static_cast<uint8_t>((v >> (7 * i)) & 0x7F);
            out_.push_back(i ? static_cast<uint8_t>(b | 0x80) : b);
        }
    };
    arc(first_subid(o));
    for (size_t i = 2; i < o.size(); ++i)
        arc(o[i]);
}

void Writer::value(const Value& v) {
    struct Write {
        Writer& w;
        void operator()(Null) const { w.null(); }
        void operator()(int32_t x) const { w.integer(x); }
        void operator()(const std::string& x) const { w.octets(x); }
        void operator()(const Oid& x) const { w.oid(x); }
        void operator()(const IpAddress& x) const {
            w.octets(std::string_view(reinterpret_cast<const char*>(x.octets.data()), 4),
                     tag::kIpAddress);
        }
        void operator()(Counter32 x) const { w.unsigned_integer(x.value, tag::kCounter32); }
        void operator()(Gauge32 x) const { w.unsigned_integer(x.value, tag::kGauge32); }
        void operator()(TimeTicks x) const { w.unsigned_integer(x.value, tag::kTimeTicks); }
        void operator()(const Opaque& x) const { w.octets(x.bytes, tag::kOpaque); }
        void operator()(Counter64 x) const { w.unsigned_integer(x.value, tag::kCounter64); }
        void operator()(NoSuchObject) const { w.null(tag::kNoSuchObject); }
        void operator()(NoSuchInstance) const { w.null(tag::kNoSuchInstance); }
        void operator()(EndOfMibView) const { w.null(tag::kEndOfMibView); }
    };
    std::visit(Write{*this}, v);
}

void Writer::varbind(const VarBind& vb) {
    // Sizes are known up front, so no length needs patching.
    header(tag::kSequence, tlv_size(oid_content_size(vb.name)) + encoded_size(vb.value));
    oid(vb.name);
    value(vb.value);
}

size_t Writer::begin(uint8_t t) {
    out_.push_back(t);
    out_.push_back(0);
    return out_.size() - 1;
}

void Writer::end(size_t mark) {
    const size_t length = out_.size() - mark - 1;
    if (length < 0x80) {
        out_[mark] = static_cast<uint8_t>(length);
        return;
    }
    // Long form: open up room after the placeholder octet.
    const size_t octets = length_size(length) - 1;
    out_.insert(out_.begin() + static_cast<std::ptrdiff_t>(mark) + 1, octets, uint8_t{0});
    out_[mark] = static_cast<uint8_t>(0x80 | octets);
    for (size_t i = 0; i < octets; ++i)
        out_[mark + 1 + i] = static_cast<uint8_t>(length >> (8 * (octets - 1 - i)));
}

}  // namespace openbcpm::snmp::ber
