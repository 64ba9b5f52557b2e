// A bounded single-producer single-consumer queue: no locks, no allocation
// after construction. Used between the acquisition thread and the event loop.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>

namespace openbcpm {

template <class T, size_t N>
class SpscQueue {
    static_assert((N & (N - 1)) == 0, "capacity must be a power of two");

  public:
    SpscQueue() : slots_(std::make_unique<std::array<T, N>>()) {}

    // Producer side. Returns false (and drops nothing already queued) when full.
    bool push(const T& value) {
        const size_t head = head_.load(std::memory_order_relaxed);
        if (head - tail_.load(std::memory_order_acquire) == N) return false;
        (*slots_)[head & (N - 1)] = value;
        head_.store(head + 1, std::memory_order_release);
        return true;
    }

    // Consumer side.
    bool pop(T& out) {
        const size_t tail = tail_.load(std::memory_order_relaxed);
        if (tail == head_.load(std::memory_order_acquire)) return false;
        out = (*slots_)[tail & (N - 1)];
        tail_.store(tail + 1, std::memory_order_release);
        return true;
    }

    bool empty() const {
        return tail_.load(std::memory_order_acquire) == head_.load(std::memory_order_acquire);
    }

  private:
    std::unique_ptr<std::array<T, N>> slots_;
    alignas(64) std::atomic<size_t> head_{0};
    alignas(64) std::atomic<size_t> tail_{0};
};

}  // namespace openbcpm
