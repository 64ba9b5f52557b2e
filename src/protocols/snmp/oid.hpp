// OBJECT IDENTIFIER values as SNMP uses them: at most 128 sub-identifiers,
// each 0..2^32-1, ordered lexicographically (the order GetNext walks).
#pragma once

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
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
    std::span<const uint32_t> span() const { return arcs_; }
    // The arcs after the first `n` (n <= size()): an instance part without a copy.
    std::span<const uint32_t> tail(size_t n) const { return span().subspan(n); }

    bool starts_with(const Oid& prefix) const;
    // The arcs after `prefix` (the instance part of a name); call only when starts_with(prefix).
    Oid suffix_after(const Oid& prefix) const;
    Oid operator+(const Oid& tail) const;
    Oid child(uint32_t arc) const;
    Oid& push_back(uint32_t arc) {
        arcs_.push_back(arc);
        return *this;
    }
    // Reuse of storage (no allocation once it has held as many arcs): an
    // empty OID, or `prefix` followed by `tail`.
    void clear() { arcs_.clear(); }
    void assign(const Oid& prefix, std::span<const uint32_t> tail = {});

    friend bool operator==(const Oid&, const Oid&) = default;
    friend std::strong_ordering operator<=>(const Oid& a, const Oid& b) {
        return a.arcs_ <=> b.arcs_;
    }

  private:
    std::vector<uint32_t> arcs_;
};

// Lexicographic order of two arc sequences (as Oid's operator<=>).
inline std::strong_ordering compare_arcs(std::span<const uint32_t> a, std::span<const uint32_t> b) {
    return std::lexicographical_compare_three_way(a.begin(), a.end(), b.begin(), b.end());
}

// True when every name under `subtree` sorts before `name` (so a walk past
// `name` can skip the whole subtree).
bool subtree_before(const Oid& subtree, const Oid& name);

}  // namespace openbcpm::snmp
