// What the web face's route files share: the request context and small
// helpers for JSON bodies and refusals. Internal to src/web (routes*.cpp).
#pragma once

#include <fmt/format.h>

#include <boost/beast/http/status.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/settings.hpp"
#include "points/write_plan.hpp"
#include "web/http_parse.hpp"
#include "web/server.hpp"

namespace openbcpm::web {

namespace route_util {

inline constexpr std::string_view kCookie = "bcpm_session";
inline constexpr std::string_view kJson = "application/json";

inline std::string lower_ascii(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

inline std::optional<int64_t> json_int(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end()) return std::nullopt;
    if (it->is_number_integer()) return it->get<int64_t>();
    if (it->is_number_unsigned()) {
        const auto u = it->get<uint64_t>();
        if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
        return static_cast<int64_t>(u);
    }
    return std::nullopt;
}

inline std::optional<double> json_number(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number()) return std::nullopt;
    const double v = it->get<double>();
    if (!std::isfinite(v)) return std::nullopt;
    return v;
}

inline std::optional<std::string> json_string(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

inline nlohmann::json setting_value_json(const SettingValue& v) {
    if (const auto* i = std::get_if<int64_t>(&v)) return *i;
    return std::get<std::string>(v);
}

// A JSON value to a setting value of the definition's type; nullopt when the type is wrong.
inline std::optional<SettingValue> setting_value_of(const SettingDef& def,
                                                    const nlohmann::json& v) {
    if (def.is_string) {
        if (!v.is_string()) return std::nullopt;
        return SettingValue{v.get<std::string>()};
    }
    if (v.is_number_integer()) return SettingValue{v.get<int64_t>()};
    if (v.is_number_unsigned() && v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
        return SettingValue{static_cast<int64_t>(v.get<uint64_t>())};
    }
    return std::nullopt;
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A refused setting: 503 when it was valid but could not be stored (the
// storage fails; nothing changed, try later), else 400.
inline http::status status_of(const WriteResult& r) {
    return r.error == WriteError::StorageFailed ? http::status::service_unavailable
                                                : http::status::bad_request;
}

inline http::status status_of(points::Refusal r) {
    switch (r) {
        case points::Refusal::StorageFailed:
            return http::status::service_unavailable;  // valid, not stored: nothing changed
        case points::Refusal::AccessDenied:
            return http::status::forbidden;
        default:
            return http::status::bad_request;
    }
}

// A JSON value as written to a setting: a number that is not a whole one is
// judged by the write path (refused with the settings table's range), text
// as text; anything else is no value.
inline std::optional<points::WriteValue> write_value_of(const nlohmann::json& v) {
    if (v.is_string()) return points::WriteValue{v.get<std::string>()};
    if (v.is_number_integer()) return points::WriteValue{v.get<int64_t>()};
    if (v.is_number_unsigned()) {
        if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
        return points::WriteValue{static_cast<int64_t>(v.get<uint64_t>())};
    }
    if (v.is_number_float()) return points::WriteValue{v.get<double>()};
    return std::nullopt;
}

inline std::string write_value_text(const points::WriteValue& v) {
    if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
    if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
    return std::get<std::string>(v);
}

}  // namespace route_util

struct WebServer::Context {
    Request& request;
    const Connection& connection;
    Target target;
    Session* session = nullptr;
    std::string token;                         // the session cookie
    bool bearer = false;                       // authenticated by the metrics/API read token
    std::optional<Fields> form;                // parsed form fields, when the body is a form
    std::optional<std::vector<Part>> parts;    // parsed multipart parts
    std::optional<nlohmann::json> json;        // parsed JSON object body
    const PasswordVerdict* verdict = nullptr;  // the password work this request asked for, done
    std::string user() const { return session ? session->user : std::string(); }
};

}  // namespace openbcpm::web
