// Hands the newest value from one writer thread to one reader thread without
// locks or allocation: three slots, the writer fills one, publishes it by
// swapping it with the middle slot, the reader swaps the middle one out.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

namespace openbcpm {

template <class T>
class TripleBuffer {
  public:
    TripleBuffer() : slots_(std::make_unique<std::array<T, 3>>()) {}

    // Writer: the slot to fill, then publish().
    T& write_slot() { return (*slots_)[write_]; }
    void publish() {
        const uint8_t prev =
            middle_.exchange(static_cast<uint8_t>(write_ | kFresh), std::memory_order_acq_rel);
        write_ = prev & kIndex;
    }

    // Reader: takes the newest published value if there is one; returns whether it did.
    bool fetch() {
        if ((middle_.load(std::memory_order_relaxed) & kFresh) == 0) return false;
        const uint8_t prev = middle_.exchange(read_, std::memory_order_acq_rel);
        read_ = prev & kIndex;
        return true;
    }
    const T& read_slot() const { return (*slots_)[read_]; }
    // The reader owns its slot until the next fetch(), and may amend it.
    T& read_slot() { return (*slots_)[read_]; }

  private:
    static constexpr uint8_t kIndex = 0x3;
    static constexpr uint8_t kFresh = 0x4;
    std::unique_ptr<std::array<T, 3>> slots_;
    uint8_t write_ = 0;
    uint8_t read_ = 1;
    std::atomic<uint8_t> middle_{2};
};

}  // namespace openbcpm
