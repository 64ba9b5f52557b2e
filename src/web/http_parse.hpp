// The web face's own request parsing: pure functions over the bytes of a
// request (no I/O, no state), so that the fuzz target reaches all of them.
// Every parser has hard limits and answers nullopt for malformed input.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace openbcpm::web {

// Name/value pairs in their order of appearance (a name may repeat).
using Fields = std::vector<std::pair<std::string, std::string>>;

inline constexpr size_t kMaxFields = 256;
inline constexpr size_t kMaxParts = 16;
inline constexpr size_t kMaxJsonDepth = 16;

// %XX decoding; '+' is a space when `plus_is_space` (form bodies, query strings).
// Refuses truncated or non-hex escapes.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

// application/x-www-form-urlencoded (a body or a query string).
std::optional<Fields> parse_urlencoded(std::string_view body);

// The first value of `name`, if any.
std::optional<std::string> field(const Fields& fields, std::string_view name);

// Splits a request target into its path and decoded query fields.
struct Target {
    std::string path;
    Fields query;
};
std::optional<Target> parse_target(std::string_view target);

// A Cookie request header: "a=1; b=2". Malformed pairs are skipped, as
// browsers do; quoted values lose their quotes.
Fields parse_cookies(std::string_view header);

// The media type of a Content-Type value, lower-cased, without parameters.
std::string media_type(std::string_view content_type);
// A parameter of a Content-Type value (boundary=..., charset=...), unquoted.
std::optional<std::string> content_type_param(std::string_view content_type, std::string_view name);

// One part of a multipart/form-data body.
struct Part {
    std::string name;
    std::optional<std::string> filename;
    std::string content_type;
    std::string data;
};
// multipart/form-data (RFC 7578) with the given boundary. nullopt when the
// body does not follow the format (missing closing delimiter, bad headers, ...).
std::optional<std::vector<Part>> parse_multipart(std::string_view body, std::string_view boundary);
const Part* find_part(const std::vector<Part>& parts, std::string_view name);

// A JSON request body that must be an object, nested at most kMaxJsonDepth deep.
std::optional<nlohmann::json> parse_json_object(std::string_view body);

// A request body decoded by its Content-Type, as the server does before any
// handler sees it.
// clang-tidy reports json's default constructor as a throwing call in the
// implicit constructors; it allocates nothing for null.
// NOLINTNEXTLINE(bugprone-exception-escape)
struct DecodedBody {
    enum class Kind { Empty, Form, Multipart, Json, Unsupported, Malformed };
    Kind kind = Kind::Empty;
    Fields form;
    std::vector<Part> parts;
    nlohmann::json json;
};
DecodedBody decode_body(std::string_view content_type, std::string_view body);

// Constant-time comparison for tokens.
bool equal_tokens(std::string_view a, std::string_view b);

}  // namespace openbcpm::web
