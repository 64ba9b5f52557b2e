// OBJECT IDENTIFIER values as SNMP uses them: at most 128 sub-identifiers,
// each 0..2^32-1, ordered lexicographically (the order GetNext walks).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openbcpm::snmp {

inline constexpr size_t kMaxSubIds = 128;  // RFC 2578 section 3.5

class Oid {
  public:
    Oid() = default;
    Oid(std::initializer_list<uint32_t> arcs) : arcs_(arcs) {}
    explicit Oid(std::vector<uint32_t> arcs) : arcs_(std::move(arcs)) {}

    // "1.3.6.1.2.1.1.1.0" (a leading dot is allowed); nullopt when malformed.
    static std::optional<Oid> parse(std::string_view dotted);
    std::string to_string() const;

    size_t size() const { return arcs_.size(); }
    bool empty() const { return arcs_.empty(); }
    uint32_t operator[](size_t i) const { return arcs_[i]; }
    const std::vector<uint32_t>& arcs() const { return arcs_; }

    bool starts_with(const Oid& prefix) const;
    // The arcs after `prefix` (the instance part of a name); call only when starts_with(prefix).
    Oid suffix_after(const Oid& prefix) const;
    Oid operator+(const Oid& tail) const;
    Oid child(uint32_t arc) const;
    Oid& push_back(uint32_t arc) {
        arcs_.push_back(arc);
        return *this;
    }

    friend bool operator==(const Oid&, const Oid&) = default;
    friend std::strong_ordering operator<=>(const Oid& a, const Oid& b) {
        return a.arcs_ <=> b.arcs_;
    }

  private:
    std::vector<uint32_t> arcs_;
};

// True when every name under `subtree` sorts before `name` (so a walk past
// `name` can skip the whole subtree).
bool subtree_before(const Oid& subtree, const Oid& name);

}  // namespace openbcpm::snmp
