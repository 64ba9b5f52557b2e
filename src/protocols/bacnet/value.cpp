#include "protocols/bacnet/value.hpp"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cstring>

namespace openbcpm::bacnet {

namespace {

constexpr int kMaxDepth = 16;  // nesting of constructed values we accept

void put_be(std::vector<uint8_t>& out, uint64_t v, size_t n) {
    for (size_t i = n; i-- > 0;)
        out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

size_t unsigned_size(uint64_t v) {
    size_t n = 1;
    while (n < 8 && (v >> (8 * n)) != 0)
        ++n;
    return n;
}

size_t signed_size(int64_t v) {
    size_t n = 1;
    while (n < 8) {
        const int64_t lo = -(int64_t{1} << (8 * n - 1));
        const int64_t hi = (int64_t{1} << (8 * n - 1)) - 1;
        if (v >= lo && v <= hi) break;
        ++n;
    }
    return n;
}

uint64_t get_be(std::span<const uint8_t> b) {
    uint64_t v = 0;
    for (uint8_t x : b)
        v = (v << 8) | x;
    return v;
}

}  // namespace

void BitString::resize(size_t n) {
    for (size_t i = n; i < size_ && i < 64; ++i)  // bits beyond the size stay zero
        first_ &= ~(uint64_t{1} << i);
    more_.resize(n > 64 ? (n - 64 + 63) / 64 : 0, 0);
    if (n > 64 && n % 64 != 0) more_.back() &= (uint64_t{1} << (n % 64)) - 1;
    size_ = n;
}

size_t content_size(const Primitive& v) {
    return std::visit(
        [](const auto& x) -> size_t {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, Null>) {
                return 0;
            } else if constexpr (std::is_same_v<T, bool>) {
                return 1;
            } else if constexpr (std::is_same_v<T, uint64_t>) {
                return unsigned_size(x);
            } else if constexpr (std::is_same_v<T, int64_t>) {
                return signed_size(x);
            } else if constexpr (std::is_same_v<T, float>) {
                return 4;
            } else if constexpr (std::is_same_v<T, double>) {
                return 8;
            } else if constexpr (std::is_same_v<T, OctetString>) {
                return x.size();
            } else if constexpr (std::is_same_v<T, CharString>) {
                return 1 + x.text.size();
            } else if constexpr (std::is_same_v<T, BitString>) {
                return 1 + (x.size() + 7) / 8;
            } else if constexpr (std::is_same_v<T, Enumerated>) {
                return unsigned_size(x.value);
            } else {  // Date, Time, ObjectId
                return 4;
            }
        },
        v);
}

std::vector<uint8_t> encode_content(const Primitive& v) {
    std::vector<uint8_t> out;
    append_content(out, v);
    return out;
}

void append_content(std::vector<uint8_t>& out, const Primitive& v) {
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, Null>) {
            } else if constexpr (std::is_same_v<T, bool>) {
                out.push_back(x ? 1 : 0);
            } else if constexpr (std::is_same_v<T, uint64_t>) {
                put_be(out, x, unsigned_size(x));
            } else if constexpr (std::is_same_v<T, int64_t>) {
                put_be(out, static_cast<uint64_t>(x), signed_size(x));
            } else if constexpr (std::is_same_v<T, float>) {
                put_be(out, std::bit_cast<uint32_t>(x), 4);
            } else if constexpr (std::is_same_v<T, double>) {
                put_be(out, std::bit_cast<uint64_t>(x), 8);
            } else if constexpr (std::is_same_v<T, OctetString>) {
                out.insert(out.end(), x.begin(), x.end());
            } else if constexpr (std::is_same_v<T, CharString>) {
                out.push_back(x.charset);
                out.insert(out.end(), x.text.begin(), x.text.end());
            } else if constexpr (std::is_same_v<T, BitString>) {
                const size_t n = x.size();
                const size_t octets = (n + 7) / 8;
                out.push_back(static_cast<uint8_t>(octets * 8 - n));
                for (size_t o = 0; o < octets; ++o) {
                    uint8_t b = 0;
                    for (size_t i = 0; i < 8; ++i) {
                        const size_t k = o * 8 + i;
                        if (x.get(k)) b |= static_cast<uint8_t>(0x80u >> i);
                    }
                    out.push_back(b);
                }
            } else if constexpr (std::is_same_v<T, Enumerated>) {
                put_be(out, x.value, unsigned_size(x.value));
            } else if constexpr (std::is_same_v<T, Date>) {
                const std::array<uint8_t, 4> b{x.year, x.month, x.day, x.weekday};
                out.insert(out.end(), b.begin(), b.end());
            } else if constexpr (std::is_same_v<T, Time>) {
                const std::array<uint8_t, 4> b{x.hour, x.minute, x.second, x.hundredths};
                out.insert(out.end(), b.begin(), b.end());
            } else if constexpr (std::is_same_v<T, ObjectId>) {
                put_be(out, x.packed(), 4);
            }
        },
        v);
}

Primitive decode_content(AppTag tag, std::span<const uint8_t> c) {
    const auto bad = [](const char* what) { return DecodeError{RejectReason::InvalidTag, what}; };
    switch (tag) {
        case AppTag::kNull:
            if (!c.empty()) throw bad("null with content");
            return Null{};
        case AppTag::kBoolean:
            if (c.size() != 1 || c[0] > 1) throw bad("boolean content");
            return c[0] != 0;
        case AppTag::kUnsigned:
            if (c.empty() || c.size() > 8) throw bad("unsigned length");
            return get_be(c);
        case AppTag::kSigned: {
            if (c.empty() || c.size() > 8) throw bad("signed length");
            uint64_t v = get_be(c);
            if (c.size() < 8 && (c[0] & 0x80)) v |= ~uint64_t{0} << (8 * c.size());
            return static_cast<int64_t>(v);
        }
        case AppTag::kReal:
            if (c.size() != 4) throw bad("real length");
            return std::bit_cast<float>(static_cast<uint32_t>(get_be(c)));
        case AppTag::kDouble:
            if (c.size() != 8) throw bad("double length");
            return std::bit_cast<double>(get_be(c));
        case AppTag::kOctetString:
            return OctetString(c.begin(), c.end());
        case AppTag::kCharacterString:
            if (c.empty()) throw bad("character string without charset");
            return CharString{c[0], std::string(c.begin() + 1, c.end())};
        case AppTag::kBitString: {
            if (c.empty() || c[0] > 7 || (c.size() == 1 && c[0] != 0)) throw bad("bit string");
            BitString b;
            const size_t n = (c.size() - 1) * 8 - c[0];
            b.resize(n);
            for (size_t k = 0; k < n; ++k)
                b.set(k, (c[1 + k / 8] & (0x80u >> (k % 8))) != 0);
            return b;
        }
        case AppTag::kEnumerated:
            if (c.empty() || c.size() > 4) throw bad("enumerated length");
            return Enumerated{static_cast<uint32_t>(get_be(c))};
        case AppTag::kDate:
            if (c.size() != 4) throw bad("date length");
            return Date{c[0], c[1], c[2], c[3]};
        case AppTag::kTime:
            if (c.size() != 4) throw bad("time length");
            return Time{c[0], c[1], c[2], c[3]};
        case AppTag::kObjectId:
            if (c.size() != 4) throw bad("object identifier length");
            return ObjectId::unpack(static_cast<uint32_t>(get_be(c)));
    }
    throw bad("unknown application tag");
}

Element Element::context(uint8_t tag, const Primitive& v) {
    Element e;
    e.kind = Kind::Context;
    e.tag = tag;
    e.data = encode_content(v);
    return e;
}

// --- Writer ---

void Writer::header(uint8_t number, bool context, size_t length) {
    uint8_t first = context ? 0x08 : 0x00;
    const bool extended_tag = number > 14;
    first |= static_cast<uint8_t>((extended_tag ? 15 : number) << 4);
    if (length <= 4) {
        out_.push_back(static_cast<uint8_t>(first | length));
        if (extended_tag) out_.push_back(number);
        return;
    }
    out_.push_back(static_cast<uint8_t>(first | 5));
    if (extended_tag) out_.push_back(number);
    if (length <= 253) {
        out_.push_back(static_cast<uint8_t>(length));
    } else if (length <= 0xFFFF) {
        out_.push_back(254);
        put_be(out_, length, 2);
    } else {
        out_.push_back(255);
        put_be(out_, length, 4);
    }
}

void Writer::app(const Primitive& v) {
    const auto tag = static_cast<uint8_t>(v.index());
    if (const bool* b = std::get_if<bool>(&v)) {
        out_.push_back(static_cast<uint8_t>(0x10 | (*b ? 1 : 0)));
        return;
    }
    header(tag, false, content_size(v));
    append_content(out_, v);
}

void Writer::context(uint8_t tag, const Primitive& v) {
    header(tag, true, content_size(v));
    append_content(out_, v);
}

void Writer::open(uint8_t tag) {
    if (tag > 14) {
        out_.push_back(0xFE);
        out_.push_back(tag);
    } else {
        out_.push_back(static_cast<uint8_t>((tag << 4) | 0x0E));
    }
}

void Writer::close(uint8_t tag) {
    if (tag > 14) {
        out_.push_back(0xFF);
        out_.push_back(tag);
    } else {
        out_.push_back(static_cast<uint8_t>((tag << 4) | 0x0F));
    }
}

void Writer::element(const Element& e) {
    switch (e.kind) {
        case Element::Kind::Application:
            app(e.value);
            break;
        case Element::Kind::Context:
            header(e.tag, true, e.data.size());
            raw(e.data);
            break;
        case Element::Kind::Constructed:
            open(e.tag);
            elements(e.children);
            close(e.tag);
            break;
    }
}

// --- Reader ---

std::optional<Tag> Reader::peek() const {
    if (pos_ >= data_.size()) return std::nullopt;
    const auto bad = [](const char* what) { return DecodeError{RejectReason::InvalidTag, what}; };
    size_t p = pos_;
    const uint8_t first = data_[p++];
    Tag t;
    t.number = first >> 4;
    t.context = (first & 0x08) != 0;
    const uint8_t lvt = first & 0x07;
    if (t.number == 15) {
        if (p >= data_.size()) throw bad("truncated extended tag");
        t.number = data_[p++];
        if (t.number == 255) throw bad("reserved tag number");
    }
    if (t.context && lvt == 6) {
        t.form = Tag::Form::Opening;
    } else if (t.context && lvt == 7) {
        t.form = Tag::Form::Closing;
    } else if (lvt == 5) {
        if (p >= data_.size()) throw bad("truncated length");
        const uint8_t l = data_[p++];
        if (l == 254) {
            if (p + 2 > data_.size()) throw bad("truncated length");
            t.length = static_cast<uint32_t>(get_be(data_.subspan(p, 2)));
            p += 2;
        } else if (l == 255) {
            if (p + 4 > data_.size()) throw bad("truncated length");
            t.length = static_cast<uint32_t>(get_be(data_.subspan(p, 4)));
            p += 4;
        } else {
            t.length = l;
        }
    } else if (!t.context && lvt > 5) {
        throw bad("application tag with opening/closing form");
    } else {
        t.length = lvt;
    }
    t.header = p - pos_;
    const bool app_boolean = !t.context && t.number == 1;
    if (t.form == Tag::Form::Plain && !app_boolean && t.length > data_.size() - p) {
        throw DecodeError{RejectReason::InvalidTag, "content past the end"};
    }
    if (!t.context && t.number > 12) throw bad("reserved application tag");
    return t;
}

bool Reader::peek_context(uint8_t n) const {
    const auto t = peek();
    return t && t->context && t->form == Tag::Form::Plain && t->number == n;
}
bool Reader::peek_opening(uint8_t n) const {
    const auto t = peek();
    return t && t->form == Tag::Form::Opening && t->number == n;
}
bool Reader::peek_closing(uint8_t n) const {
    const auto t = peek();
    return t && t->form == Tag::Form::Closing && t->number == n;
}
bool Reader::peek_app(AppTag a) const {
    const auto t = peek();
    return t && !t->context && t->number == static_cast<uint8_t>(a);
}

Tag Reader::take(uint8_t number, bool context, Tag::Form form) {
    const auto t = peek();
    if (!t) throw DecodeError{RejectReason::MissingRequiredParameter, "missing parameter"};
    if (t->number != number || t->context != context || t->form != form) {
        throw DecodeError{RejectReason::InvalidTag, "unexpected tag"};
    }
    pos_ += t->header;
    return *t;
}

std::span<const uint8_t> Reader::content(const Tag& t) {
    auto c = data_.subspan(pos_, t.length);
    pos_ += t.length;
    return c;
}

Primitive Reader::app() {
    const auto t = peek();
    if (!t) throw DecodeError{RejectReason::MissingRequiredParameter, "missing value"};
    if (t->context) throw DecodeError{RejectReason::InvalidTag, "expected application tag"};
    return app(static_cast<AppTag>(t->number));
}

Primitive Reader::app(AppTag expected) {
    const auto t = peek();
    if (!t) throw DecodeError{RejectReason::MissingRequiredParameter, "missing value"};
    if (t->context || t->number != static_cast<uint8_t>(expected)) {
        throw DecodeError{RejectReason::InvalidParameterDataType, "unexpected datatype"};
    }
    pos_ += t->header;
    if (expected == AppTag::kBoolean) {
        if (t->length > 1) throw DecodeError{RejectReason::InvalidTag, "boolean value"};
        return t->length == 1;
    }
    return decode_content(expected, content(*t));
}

namespace {
template <class T>
T get(Primitive p) {
    return std::get<T>(std::move(p));
}
uint64_t check_max(uint64_t v, uint64_t max) {
    if (v > max) throw DecodeError{RejectReason::ParameterOutOfRange, "value too large"};
    return v;
}
}  // namespace

uint64_t Reader::app_unsigned(uint64_t max) {
    return check_max(get<uint64_t>(app(AppTag::kUnsigned)), max);
}
int64_t Reader::app_signed() {
    return get<int64_t>(app(AppTag::kSigned));
}
float Reader::app_real() {
    return get<float>(app(AppTag::kReal));
}
bool Reader::app_bool() {
    return get<bool>(app(AppTag::kBoolean));
}
uint32_t Reader::app_enum() {
    return get<Enumerated>(app(AppTag::kEnumerated)).value;
}
ObjectId Reader::app_oid() {
    return get<ObjectId>(app(AppTag::kObjectId));
}
CharString Reader::app_string() {
    return get<CharString>(app(AppTag::kCharacterString));
}
BitString Reader::app_bits() {
    return get<BitString>(app(AppTag::kBitString));
}
Date Reader::app_date() {
    return get<Date>(app(AppTag::kDate));
}
Time Reader::app_time() {
    return get<Time>(app(AppTag::kTime));
}

Primitive Reader::context(uint8_t n, AppTag t) {
    const Tag tag = take(n, true, Tag::Form::Plain);
    return decode_content(t, content(tag));
}
uint64_t Reader::ctx_unsigned(uint8_t n, uint64_t max) {
    return check_max(get<uint64_t>(context(n, AppTag::kUnsigned)), max);
}
int64_t Reader::ctx_signed(uint8_t n) {
    return get<int64_t>(context(n, AppTag::kSigned));
}
uint32_t Reader::ctx_enum(uint8_t n) {
    return get<Enumerated>(context(n, AppTag::kEnumerated)).value;
}
bool Reader::ctx_bool(uint8_t n) {
    return get<bool>(context(n, AppTag::kBoolean));
}
float Reader::ctx_real(uint8_t n) {
    return get<float>(context(n, AppTag::kReal));
}
ObjectId Reader::ctx_oid(uint8_t n) {
    return get<ObjectId>(context(n, AppTag::kObjectId));
}
CharString Reader::ctx_string(uint8_t n) {
    return get<CharString>(context(n, AppTag::kCharacterString));
}
BitString Reader::ctx_bits(uint8_t n) {
    return get<BitString>(context(n, AppTag::kBitString));
}
std::span<const uint8_t> Reader::ctx_raw(uint8_t n) {
    const Tag tag = take(n, true, Tag::Form::Plain);
    return content(tag);
}

void Reader::open(uint8_t n) {
    take(n, true, Tag::Form::Opening);
}
void Reader::close(uint8_t n) {
    take(n, true, Tag::Form::Closing);
}

Element Reader::element() {
    return element_at_depth(0);
}

Element Reader::element_at_depth(int depth) {
    if (depth > kMaxDepth) throw DecodeError{RejectReason::Other, "nesting too deep"};
    const auto t = peek();
    if (!t) throw DecodeError{RejectReason::MissingRequiredParameter, "missing value"};
    if (t->form == Tag::Form::Closing)
        throw DecodeError{RejectReason::InvalidTag, "unbalanced closing tag"};
    if (t->form == Tag::Form::Opening) {
        pos_ += t->header;
        Element e;
        e.kind = Element::Kind::Constructed;
        e.tag = t->number;
        while (!peek_closing(t->number)) {
            if (at_end())
                throw DecodeError{RejectReason::MissingRequiredParameter, "missing closing tag"};
            e.children.push_back(element_at_depth(depth + 1));
        }
        pos_ += peek()->header;
        return e;
    }
    if (t->context) {
        pos_ += t->header;
        Element e;
        e.kind = Element::Kind::Context;
        e.tag = t->number;
        const auto c = content(*t);
        e.data.assign(c.begin(), c.end());
        return e;
    }
    return Element::app(app());
}

std::vector<Element> Reader::elements_until_closing(uint8_t n) {
    std::vector<Element> out;
    while (!peek_closing(n)) {
        if (at_end())
            throw DecodeError{RejectReason::MissingRequiredParameter, "missing closing tag"};
        out.push_back(element());
    }
    return out;
}

std::vector<Element> Reader::elements_to_end() {
    std::vector<Element> out;
    while (!at_end())
        out.push_back(element());
    return out;
}

Primitive decode_single(std::span<const uint8_t> data) {
    Reader r(data);
    Primitive p = r.app();
    if (!r.at_end()) throw DecodeError{RejectReason::TooManyArguments, "trailing data"};
    return p;
}

std::vector<Element> decode_elements(std::span<const uint8_t> data) {
    Reader r(data);
    return r.elements_to_end();
}

std::vector<uint8_t> encode_elements(std::span<const Element> es) {
    std::vector<uint8_t> out;
    Writer w(out);
    w.elements(es);
    return out;
}

Primitive context_as(const Element& e, AppTag t) {
    if (e.kind != Element::Kind::Context)
        throw DecodeError{RejectReason::InvalidTag, "expected context tag"};
    return decode_content(t, e.data);
}

std::string to_string(const Primitive& v) {
    return std::visit(
        [](const auto& x) -> std::string {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, Null>)
                return "null";
            else if constexpr (std::is_same_v<T, bool>)
                return x ? "true" : "false";
            else if constexpr (std::is_arithmetic_v<T>)  // the integers, REAL and Double
                return fmt::format("{}", x);
            else if constexpr (std::is_same_v<T, OctetString>)
                return fmt::format("octets[{}]", x.size());
            else if constexpr (std::is_same_v<T, CharString>)
                return x.text;
            else if constexpr (std::is_same_v<T, BitString>) {
                std::string s;
                for (size_t i = 0; i < x.size(); ++i)
                    s += x.get(i) ? '1' : '0';
                return s;
            } else if constexpr (std::is_same_v<T, Enumerated>)
                return fmt::format("enum {}", x.value);
            else if constexpr (std::is_same_v<T, Date>)
                return fmt::format("date {}-{}-{}", 1900 + x.year, x.month, x.day);
            else if constexpr (std::is_same_v<T, Time>)
                return fmt::format("time {}:{}:{}.{}", x.hour, x.minute, x.second, x.hundredths);
            else
                return fmt::format("({}, {})", x.type, x.instance);
        },
        v);
}

}  // namespace openbcpm::bacnet
