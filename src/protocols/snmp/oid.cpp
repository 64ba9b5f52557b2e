#include "protocols/snmp/oid.hpp"

#include <algorithm>
#include <charconv>

namespace openbcpm::snmp {

std::optional<Oid> Oid::parse(std::string_view dotted) {
    if (!dotted.empty() && dotted.front() == '.') dotted.remove_prefix(1);
    if (dotted.empty()) return std::nullopt;
    std::vector<uint32_t> arcs;
    while (true) {
        const size_t dot = dotted.find('.');
        const std::string_view part = dotted.substr(0, dot);
        uint32_t arc = 0;
        const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), arc);
        if (part.empty() || ec != std::errc() || end != part.data() + part.size())
            return std::nullopt;
        arcs.push_back(arc);
        if (arcs.size() > kMaxSubIds) return std::nullopt;
        if (dot == std::string_view::npos) break;
        dotted.remove_prefix(dot + 1);
    }
    return Oid(std::move(arcs));
}

std::string Oid::to_string() const {
    std::string s;
    for (size_t i = 0; i < arcs_.size(); ++i) {
        if (i) s += '.';
        s += std::to_string(arcs_[i]);
    }
    return s;
}

bool Oid::starts_with(const Oid& prefix) const {
    return prefix.size() <= size() &&
           std::equal(prefix.arcs_.begin(), prefix.arcs_.end(), arcs_.begin());
}

Oid Oid::suffix_after(const Oid& prefix) const {
    return Oid(std::vector<uint32_t>(arcs_.begin() + static_cast<std::ptrdiff_t>(prefix.size()),
                                     arcs_.end()));
}

void Oid::assign(const Oid& prefix, std::span<const uint32_t> tail) {
    arcs_.assign(prefix.arcs_.begin(), prefix.arcs_.end());
    arcs_.insert(arcs_.end(), tail.begin(), tail.end());
}

Oid Oid::operator+(const Oid& tail) const {
    Oid r = *this;
    r.arcs_.insert(r.arcs_.end(), tail.arcs_.begin(), tail.arcs_.end());
    return r;
}

Oid Oid::child(uint32_t arc) const {
    Oid r = *this;
    r.arcs_.push_back(arc);
    return r;
}

bool subtree_before(const Oid& subtree, const Oid& name) {
    // Every extension of `subtree` is below `name` exactly when the two differ
    // within the subtree's arcs and the subtree's arc is the smaller there.
    const size_t n = std::min(subtree.size(), name.size());
    for (size_t i = 0; i < n; ++i) {
        if (subtree[i] != name[i]) return subtree[i] < name[i];
    }
    return false;  // one is a prefix of the other
}

}  // namespace openbcpm::snmp
