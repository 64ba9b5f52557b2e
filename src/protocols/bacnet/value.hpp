// BACnet values and their tagged encoding (ASHRAE 135 clause 20.2): the
// primitive application types, context-tagged and constructed elements, and
// a strict reader and a writer over byte spans.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocols/bacnet/enums.hpp"

namespace openbcpm::bacnet {

struct Null {
    bool operator==(const Null&) const = default;
};
struct Enumerated {
    uint32_t value = 0;
    bool operator==(const Enumerated&) const = default;
};
struct ObjectId {
    uint16_t type = 0;
    uint32_t instance = 0;
    ObjectId() = default;
    constexpr ObjectId(uint16_t t, uint32_t i) : type(t), instance(i) {}
    constexpr ObjectId(ObjectType t, uint32_t i) : type(static_cast<uint16_t>(t)), instance(i) {}
    ObjectType object_type() const { return static_cast<ObjectType>(type); }
    uint32_t packed() const { return (uint32_t{type} << 22) | (instance & kMaxInstance); }
    static ObjectId unpack(uint32_t v) {
        return {static_cast<uint16_t>(v >> 22), v & kMaxInstance};
    }
    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads the defaulted <=>
    auto operator<=>(const ObjectId&) const = default;
};
// Date and Time: 0xFF in a field means "unspecified".
struct Date {
    uint8_t year = 0xFF;                               // years since 1900
    uint8_t month = 0xFF, day = 0xFF, weekday = 0xFF;  // weekday 1 = Monday
    bool operator==(const Date&) const = default;
};
struct Time {
    uint8_t hour = 0xFF, minute = 0xFF, second = 0xFF, hundredths = 0xFF;
    bool operator==(const Time&) const = default;
};
struct CharString {
    uint8_t charset = 0;  // 0 = ISO 10646 UTF-8
    std::string text;
    bool operator==(const CharString&) const = default;
};
// The first 64 bits inline (the flags of objects and events: copying them
// allocates nothing), more on the heap (the protocol's supported services
// and object types). Bits beyond size() are kept zero.
class BitString {
  public:
    BitString() = default;
    explicit BitString(size_t n) { resize(n); }
    BitString(std::initializer_list<bool> b) {
        resize(b.size());
        size_t i = 0;
        for (const bool v : b)
            set(i++, v);
    }
    size_t size() const { return size_; }
    bool get(size_t i) const { return i < size_ && ((word(i) >> (i % 64)) & 1U) != 0; }
    // Grows the string to hold bit i.
    void set(size_t i, bool v) {
        if (i >= size_) resize(i + 1);
        uint64_t& w = i < 64 ? first_ : more_[i / 64 - 1];
        const uint64_t bit = uint64_t{1} << (i % 64);
        w = v ? (w | bit) : (w & ~bit);
    }
    void resize(size_t n);
    bool operator==(const BitString&) const = default;

  private:
    uint64_t word(size_t i) const { return i < 64 ? first_ : more_[i / 64 - 1]; }
    size_t size_ = 0;
    uint64_t first_ = 0;          // bits 0..63
    std::vector<uint64_t> more_;  // bits 64.., 64 a word
};
using OctetString = std::vector<uint8_t>;

// Index of each alternative equals the application tag number (0..12).
using Primitive = std::variant<Null, bool, uint64_t, int64_t, float, double, OctetString,
                               CharString, BitString, Enumerated, Date, Time, ObjectId>;

enum class AppTag : uint8_t {
    kNull = 0,
    kBoolean = 1,
    kUnsigned = 2,
    kSigned = 3,
    kReal = 4,
    kDouble = 5,
    kOctetString = 6,
    kCharacterString = 7,
    kBitString = 8,
    kEnumerated = 9,
    kDate = 10,
    kTime = 11,
    kObjectId = 12,
};

// One encoded item of a property value or service parameter: an application
// tagged primitive, a context-tagged primitive (kept as raw content, its type
// is known only to whoever reads it) or a constructed (opening/closing) group.
struct Element {
    enum class Kind : uint8_t { Application, Context, Constructed };
    Kind kind = Kind::Application;
    uint8_t tag = 0;                // context tag number
    Primitive value;                // Application
    std::vector<uint8_t> data;      // Context: content octets
    std::vector<Element> children;  // Constructed

    static Element app(Primitive v) {
        Element e;
        e.value = std::move(v);
        return e;
    }
    static Element context(uint8_t tag, const Primitive& v);
    static Element constructed(uint8_t tag, std::vector<Element> children) {
        Element e;
        e.kind = Kind::Constructed;
        e.tag = tag;
        e.children = std::move(children);
        return e;
    }
    bool is_app() const { return kind == Kind::Application; }
    template <class T>
    const T* as() const {
        return kind == Kind::Application ? std::get_if<T>(&value) : nullptr;
    }
    bool operator==(const Element&) const = default;
};

// Thrown by the readers on malformed or unexpected input; the reason is what
// a Reject PDU would carry.
struct DecodeError {
    RejectReason reason = RejectReason::InvalidTag;
    const char* what = "";
};

struct Tag {
    enum class Form : uint8_t { Plain, Opening, Closing };
    uint8_t number = 0;
    bool context = false;
    Form form = Form::Plain;
    uint32_t length = 0;  // content length; for application Boolean: the value
    size_t header = 0;    // octets of the tag itself
};

class Writer {
  public:
    explicit Writer(std::vector<uint8_t>& out) : out_(out) {}
    std::vector<uint8_t>& bytes() { return out_; }

    void app(const Primitive& v);
    void app_null() { app(Null{}); }
    void app_bool(bool v) { app(v); }
    void app_unsigned(uint64_t v) { app(v); }
    void app_signed(int64_t v) { app(v); }
    void app_real(float v) { app(v); }
    void app_enum(uint32_t v) { app(Enumerated{v}); }
    void app_oid(ObjectId v) { app(v); }
    void app_string(std::string_view s) { app(CharString{0, std::string(s)}); }
    void app_bits(const BitString& b) { app(b); }

    void context(uint8_t tag, const Primitive& v);
    void ctx_unsigned(uint8_t tag, uint64_t v) { context(tag, v); }
    void ctx_signed(uint8_t tag, int64_t v) { context(tag, v); }
    void ctx_enum(uint8_t tag, uint32_t v) { context(tag, Enumerated{v}); }
    void ctx_bool(uint8_t tag, bool v) { context(tag, v); }
    void ctx_real(uint8_t tag, float v) { context(tag, v); }
    void ctx_oid(uint8_t tag, ObjectId v) { context(tag, v); }
    void ctx_string(uint8_t tag, std::string_view s) {
        context(tag, CharString{0, std::string(s)});
    }
    void ctx_bits(uint8_t tag, const BitString& b) { context(tag, b); }

    void open(uint8_t tag);
    void close(uint8_t tag);
    void element(const Element& e);
    void elements(std::span<const Element> es) {
        for (const auto& e : es)
            element(e);
    }
    void raw(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }

  private:
    void header(uint8_t number, bool context, size_t length);
    std::vector<uint8_t>& out_;
};

// Content octets of a primitive (no tag); Boolean gives one octet.
std::vector<uint8_t> encode_content(const Primitive& v);
// The same appended to `out`, and their count.
void append_content(std::vector<uint8_t>& out, const Primitive& v);
size_t content_size(const Primitive& v);
// Decodes content octets as application type `tag`; throws DecodeError.
Primitive decode_content(AppTag tag, std::span<const uint8_t> content);

class Reader {
  public:
    explicit Reader(std::span<const uint8_t> data) : data_(data) {}
    bool at_end() const { return pos_ >= data_.size(); }
    size_t offset() const { return pos_; }
    std::span<const uint8_t> rest() const { return data_.subspan(pos_); }

    std::optional<Tag> peek() const;  // nullopt at end; throws on a malformed tag
    bool peek_context(uint8_t n) const;
    bool peek_opening(uint8_t n) const;
    bool peek_closing(uint8_t n) const;
    bool peek_app(AppTag t) const;

    Primitive app();
    Primitive app(AppTag expected);
    uint64_t app_unsigned(uint64_t max = UINT32_MAX);
    int64_t app_signed();
    float app_real();
    bool app_bool();
    uint32_t app_enum();
    ObjectId app_oid();
    CharString app_string();
    BitString app_bits();
    Date app_date();
    Time app_time();

    // Context-tagged primitive with content decoded as application type t.
    Primitive context(uint8_t n, AppTag t);
    uint64_t ctx_unsigned(uint8_t n, uint64_t max = UINT32_MAX);
    int64_t ctx_signed(uint8_t n);
    uint32_t ctx_enum(uint8_t n);
    bool ctx_bool(uint8_t n);
    float ctx_real(uint8_t n);
    ObjectId ctx_oid(uint8_t n);
    CharString ctx_string(uint8_t n);
    BitString ctx_bits(uint8_t n);
    std::span<const uint8_t> ctx_raw(uint8_t n);

    void open(uint8_t n);
    void close(uint8_t n);
    // One element of any kind (a constructed one up to its closing tag).
    Element element();
    // Elements up to (not including) closing tag n.
    std::vector<Element> elements_until_closing(uint8_t n);
    // Elements to the end of the data.
    std::vector<Element> elements_to_end();

  private:
    Tag take(uint8_t number, bool context, Tag::Form form);
    std::span<const uint8_t> content(const Tag& t);
    Element element_at_depth(int depth);
    std::span<const uint8_t> data_;
    size_t pos_ = 0;
};

// Decodes one application-tagged value that must fill `data` exactly.
Primitive decode_single(std::span<const uint8_t> data);
std::vector<Element> decode_elements(std::span<const uint8_t> data);
std::vector<uint8_t> encode_elements(std::span<const Element> es);

// Helpers to interpret a context element's content as a given type.
Primitive context_as(const Element& e, AppTag t);

std::string to_string(const Primitive& v);

}  // namespace openbcpm::bacnet
