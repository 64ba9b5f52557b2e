// A station address (MAC) as BACnet carries it: 0 to 255 octets (DLEN and
// SLEN are one octet, clause 6.2.2), held inline so that addressing a request
// or its answer allocates nothing. Empty means a broadcast.
#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <vector>

namespace openbcpm::bacnet {

class MacAddress {
  public:
    using value_type = uint8_t;
    using const_iterator = const uint8_t*;
    using iterator = const uint8_t*;
    static constexpr size_t kCapacity = 255;

    MacAddress() = default;
    // Copies the octets in use only (an NPDU header holds two of these).
    MacAddress(const MacAddress& o) : size_(o.size_) {
        std::copy_n(o.bytes_.begin(), size_, bytes_.begin());
    }
    MacAddress& operator=(const MacAddress& o) {
        if (this == &o) return *this;
        size_ = o.size_;
        std::copy_n(o.bytes_.begin(), size_, bytes_.begin());
        return *this;
    }
    MacAddress(std::initializer_list<uint8_t> b) { assign(b.begin(), b.end()); }
    template <class It>
    MacAddress(It first, It last) {
        assign(first, last);
    }
    explicit MacAddress(std::span<const uint8_t> b) { assign(b.begin(), b.end()); }

    // Throws std::length_error beyond 255 octets (no NPDU can carry that).
    template <class It>
    void assign(It first, It last) {
        const auto n = static_cast<size_t>(std::distance(first, last));
        if (n > kCapacity) throw std::length_error("MAC address longer than 255 octets");
        std::copy(first, last, bytes_.begin());
        size_ = static_cast<uint8_t>(n);
    }

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const uint8_t* data() const { return bytes_.data(); }
    const uint8_t* begin() const { return bytes_.data(); }
    const uint8_t* end() const { return bytes_.data() + size_; }
    uint8_t operator[](size_t i) const { return bytes_[i]; }
    std::vector<uint8_t> to_vector() const { return {begin(), end()}; }

    bool operator==(const MacAddress& o) const {
        return size_ == o.size_ && std::equal(begin(), end(), o.begin());
    }
    std::strong_ordering operator<=>(const MacAddress& o) const {
        return std::lexicographical_compare_three_way(begin(), end(), o.begin(), o.end());
    }

  private:
    uint8_t size_ = 0;
    std::array<uint8_t, kCapacity> bytes_;  // NOLINT: only the first size_ are read
};

}  // namespace openbcpm::bacnet
