#include "web/http_parse.hpp"

#include <algorithm>
#include <cctype>

namespace openbcpm::web {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// Splits "a; b=c; d=\"e;f\"" at the semicolons that are outside quotes.
std::vector<std::string_view> split_params(std::string_view s) {
    std::vector<std::string_view> out;
    bool quoted = false;
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '"') quoted = !quoted;
        if (s[i] == '\\' && quoted && i + 1 < s.size()) {
            ++i;
            continue;
        }
        if (s[i] == ';' && !quoted) {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    out.push_back(s.substr(start));
    return out;
}

std::string unquote(std::string_view v) {
    v = trim(v);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        std::string out;
        for (size_t i = 1; i + 1 < v.size(); ++i) {
            if (v[i] == '\\' && i + 2 < v.size()) ++i;
            out.push_back(v[i]);
        }
        return out;
    }
    return std::string(v);
}

std::optional<std::string> param_of(std::string_view header_value, std::string_view name,
                                    bool skip_first) {
    auto params = split_params(header_value);
    for (size_t i = skip_first ? 1 : 0; i < params.size(); ++i) {
        std::string_view p = trim(params[i]);
        const size_t eq = p.find('=');
        if (eq == std::string_view::npos) continue;
        if (iequals(trim(p.substr(0, eq)), name)) return unquote(p.substr(eq + 1));
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) return std::nullopt;
            const int hi = hex_value(in[i + 1]);
            const int lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::optional<Fields> parse_urlencoded(std::string_view body) {
    Fields fields;
    size_t start = 0;
    while (start <= body.size()) {
        size_t end = body.find('&', start);
        if (end == std::string_view::npos) end = body.size();
        const std::string_view pair = body.substr(start, end - start);
        if (!pair.empty()) {
            if (fields.size() >= kMaxFields) return std::nullopt;
            const size_t eq = pair.find('=');
            auto name = percent_decode(pair.substr(0, eq), true);
            auto value = percent_decode(
                eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
            if (!name || !value) return std::nullopt;
            fields.emplace_back(std::move(*name), std::move(*value));
        }
        start = end + 1;
    }
    return fields;
}

std::optional<std::string> field(const Fields& fields, std::string_view name) {
    for (const auto& [k, v] : fields) {
        if (k == name) return v;
    }
    return std::nullopt;
}

std::optional<Target> parse_target(std::string_view target) {
    // Origin-form only: "/path?query". Absolute and authority forms are not ours.
    if (target.empty() || target.front() != '/') return std::nullopt;
    const size_t q = target.find('?');
    Target t;
    auto path = percent_decode(target.substr(0, q), false);
    if (!path) return std::nullopt;
    // A decoded NUL or a dot-segment has no business in our paths.
    if (path->find('\0') != std::string::npos || path->find("/..") != std::string::npos)
        return std::nullopt;
    t.path = std::move(*path);
    if (q != std::string_view::npos) {
        std::string_view query = target.substr(q + 1);
        const size_t hash = query.find('#');
        if (hash != std::string_view::npos) query = query.substr(0, hash);
        auto fields = parse_urlencoded(query);
        if (!fields) return std::nullopt;
        t.query = std::move(*fields);
    }
    return t;
}

Fields parse_cookies(std::string_view header) {
    Fields out;
    size_t start = 0;
    while (start < header.size() && out.size() < kMaxFields) {
        size_t end = header.find(';', start);
        if (end == std::string_view::npos) end = header.size();
        const std::string_view pair = trim(header.substr(start, end - start));
        const size_t eq = pair.find('=');
        if (eq != std::string_view::npos && eq > 0) {
            std::string_view value = trim(pair.substr(eq + 1));
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
                value = value.substr(1, value.size() - 2);
            }
            out.emplace_back(std::string(trim(pair.substr(0, eq))), std::string(value));
        }
        start = end + 1;
    }
    return out;
}

std::string media_type(std::string_view content_type) {
    const size_t semi = content_type.find(';');
    return lower(trim(content_type.substr(0, semi)));
}

std::optional<std::string> content_type_param(std::string_view content_type,
                                              std::string_view name) {
    return param_of(content_type, name, true);
}

std::optional<std::vector<Part>> parse_multipart(std::string_view body, std::string_view boundary) {
    // RFC 2046: 1..70 characters, no trailing space.
    if (boundary.empty() || boundary.size() > 70 || boundary.back() == ' ') return std::nullopt;
    const std::string delimiter = "--" + std::string(boundary);
    std::vector<Part> parts;

    // The preamble ends at the first delimiter, at the start of the body or of a line.
    size_t pos = 0;
    if (body.substr(0, delimiter.size()) != delimiter) {
        pos = body.find("\r\n" + delimiter);
        if (pos == std::string_view::npos) return std::nullopt;
        pos += 2;
    }
    const std::string next_delimiter = "\r\n" + delimiter;
    while (true) {
        pos += delimiter.size();
        if (body.substr(pos, 2) == "--") return parts;  // close delimiter; the epilogue is ignored
        // Transport padding, then CRLF.
        while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t'))
            ++pos;
        if (body.substr(pos, 2) != "\r\n") return std::nullopt;
        pos += 2;
        if (parts.size() >= kMaxParts) return std::nullopt;

        Part part;
        bool has_disposition = false;
        // Header lines up to an empty line.
        while (true) {
            const size_t eol = body.find("\r\n", pos);
            if (eol == std::string_view::npos) return std::nullopt;
            const std::string_view line = body.substr(pos, eol - pos);
            pos = eol + 2;
            if (line.empty()) break;
            const size_t colon = line.find(':');
            if (colon == std::string_view::npos || colon == 0) return std::nullopt;
            const std::string_view name = trim(line.substr(0, colon));
            const std::string_view value = trim(line.substr(colon + 1));
            if (iequals(name, "content-disposition")) {
                if (media_type(value) != "form-data") return std::nullopt;
                auto n = param_of(value, "name", true);
                if (!n) return std::nullopt;
                part.name = std::move(*n);
                part.filename = param_of(value, "filename", true);
                has_disposition = true;
            } else if (iequals(name, "content-type")) {
                part.content_type = std::string(value);
            }
        }
        if (!has_disposition) return std::nullopt;
        const size_t end = body.find(next_delimiter, pos);
        if (end == std::string_view::npos) return std::nullopt;
        part.data = std::string(body.substr(pos, end - pos));
        parts.push_back(std::move(part));
        pos = end + 2;
    }
}

const Part* find_part(const std::vector<Part>& parts, std::string_view name) {
    for (const Part& p : parts) {
        if (p.name == name) return &p;
    }
    return nullptr;
}

std::optional<nlohmann::json> parse_json_object(std::string_view body) {
    bool too_deep = false;
    const nlohmann::json::parser_callback_t limit =
        [&too_deep](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
            if (depth > static_cast<int>(kMaxJsonDepth)) too_deep = true;
            return !too_deep;
        };
    nlohmann::json j =
        nlohmann::json::parse(body.begin(), body.end(), limit, /*allow_exceptions=*/false);
    if (too_deep || j.is_discarded() || !j.is_object()) return std::nullopt;
    return j;
}

DecodedBody decode_body(std::string_view content_type, std::string_view body) {
    DecodedBody d;
    const std::string type = media_type(content_type);
    if (type == "application/x-www-form-urlencoded") {
        auto f = parse_urlencoded(body);
        d.kind = f ? DecodedBody::Kind::Form : DecodedBody::Kind::Malformed;
        if (f) d.form = std::move(*f);
    } else if (type == "multipart/form-data") {
        auto boundary = content_type_param(content_type, "boundary");
        auto parts = boundary ? parse_multipart(body, *boundary) : std::nullopt;
        d.kind = parts ? DecodedBody::Kind::Multipart : DecodedBody::Kind::Malformed;
        if (parts) d.parts = std::move(*parts);
    } else if (type == "application/json") {
        auto j = parse_json_object(body);
        d.kind = j ? DecodedBody::Kind::Json : DecodedBody::Kind::Malformed;
        if (j) d.json = std::move(*j);
    } else if (!body.empty()) {
        d.kind = DecodedBody::Kind::Unsupported;
    }
    return d;
}

bool equal_tokens(std::string_view a, std::string_view b) {
    if (a.size() != b.size() || a.empty()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

}  // namespace openbcpm::web
