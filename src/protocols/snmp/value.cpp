#include "protocols/snmp/value.hpp"

#include <cstdio>

namespace openbcpm::snmp {

std::string_view to_string(ErrorStatus s) {
    switch (s) {
        case ErrorStatus::NoError:
            return "noError";
        case ErrorStatus::TooBig:
            return "tooBig";
        case ErrorStatus::NoSuchName:
            return "noSuchName";
        case ErrorStatus::BadValue:
            return "badValue";
        case ErrorStatus::ReadOnly:
            return "readOnly";
        case ErrorStatus::GenErr:
            return "genErr";
        case ErrorStatus::NoAccess:
            return "noAccess";
        case ErrorStatus::WrongType:
            return "wrongType";
        case ErrorStatus::WrongLength:
            return "wrongLength";
        case ErrorStatus::WrongEncoding:
            return "wrongEncoding";
        case ErrorStatus::WrongValue:
            return "wrongValue";
        case ErrorStatus::NoCreation:
            return "noCreation";
        case ErrorStatus::InconsistentValue:
            return "inconsistentValue";
        case ErrorStatus::ResourceUnavailable:
            return "resourceUnavailable";
        case ErrorStatus::CommitFailed:
            return "commitFailed";
        case ErrorStatus::UndoFailed:
            return "undoFailed";
        case ErrorStatus::AuthorizationError:
            return "authorizationError";
        case ErrorStatus::NotWritable:
            return "notWritable";
        case ErrorStatus::InconsistentName:
            return "inconsistentName";
    }
    return "unknown";
}

namespace {

std::string quoted(const std::string& bytes) {
    std::string s = "\"";
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7F && c != '"' && c != '\\') {
            s += c;
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02X", u);
            s += hex;
        }
    }
    return s + "\"";
}

struct Printer {
    std::string operator()(Null) const { return "NULL"; }
    std::string operator()(int32_t v) const { return "INTEGER: " + std::to_string(v); }
    std::string operator()(const std::string& v) const { return "OCTET STRING: " + quoted(v); }
    std::string operator()(const Oid& v) const { return "OID: " + v.to_string(); }
    std::string operator()(const IpAddress& v) const {
        return "IpAddress: " + std::to_string(v.octets[0]) + "." + std::to_string(v.octets[1]) +
               "." + std::to_string(v.octets[2]) + "." + std::to_string(v.octets[3]);
    }
    std::string operator()(Counter32 v) const { return "Counter32: " + std::to_string(v.value); }
    std::string operator()(Gauge32 v) const { return "Gauge32: " + std::to_string(v.value); }
    std::string operator()(TimeTicks v) const { return "TimeTicks: " + std::to_string(v.value); }
    std::string operator()(const Opaque& v) const { return "Opaque: " + quoted(v.bytes); }
    std::string operator()(Counter64 v) const { return "Counter64: " + std::to_string(v.value); }
    std::string operator()(NoSuchObject) const { return "noSuchObject"; }
    std::string operator()(NoSuchInstance) const { return "noSuchInstance"; }
    std::string operator()(EndOfMibView) const { return "endOfMibView"; }
};

}  // namespace

std::string to_string(const Value& v) {
    return std::visit(Printer{}, v);
}

}  // namespace openbcpm::snmp
