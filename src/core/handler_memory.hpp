// Memory for a face's asynchronous operations. Asio allocates each operation
// through its completion handler's associated allocator, and Boost 1.74
// recycles one block per thread: too few for a face with a read, a write and
// timers in flight, which would then allocate per request. HandlerMemory
// keeps `Blocks` places of `BlockSize` bytes for them (the heap only beyond:
// more operations at once, or a larger one), and with_memory(memory, f) gives
// the handler f that allocator. The handler shares the memory, so an
// operation the io_context destroys after its face is gone still gives its
// place back. Used by one event loop thread.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <new>
#include <utility>

namespace openbcpm {

template <size_t Blocks, size_t BlockSize>
class HandlerMemory {
  public:
    void* allocate(size_t size) {
        if (size <= BlockSize) {
            for (size_t i = 0; i < Blocks; ++i) {
                if (!used_[i]) {
                    used_[i] = true;
                    return blocks_[i].bytes.data();
                }
            }
        }
        return ::operator new(size);
    }
    void deallocate(void* p) noexcept {
        for (size_t i = 0; i < Blocks; ++i) {
            if (p == blocks_[i].bytes.data()) {
                used_[i] = false;
                return;
            }
        }
        ::operator delete(p);
    }

  private:
    struct alignas(std::max_align_t) Block {
        std::array<std::byte, BlockSize> bytes;
    };
    std::array<Block, Blocks> blocks_{};
    std::array<bool, Blocks> used_{};
};

// The allocator Asio finds on such a handler. Asio deallocates an operation
// while the handler moved out of it is alive, so the memory it points to is.
template <class T, class Memory>
class HandlerAllocator {
  public:
    using value_type = T;
    explicit HandlerAllocator(Memory* memory) noexcept : memory_(memory) {}
    template <class U>
    HandlerAllocator(const HandlerAllocator<U, Memory>& other) noexcept : memory_(other.memory()) {}
    T* allocate(size_t n) { return static_cast<T*>(memory_->allocate(sizeof(T) * n)); }
    void deallocate(T* p, size_t) noexcept { memory_->deallocate(p); }
    Memory* memory() const noexcept { return memory_; }
    template <class U>
    bool operator==(const HandlerAllocator<U, Memory>& other) const noexcept {
        return memory_ == other.memory();
    }

  private:
    Memory* memory_;
};

template <class Memory, class Handler>
struct MemoryHandler {
    std::shared_ptr<Memory> memory;
    Handler handler;
    using allocator_type = HandlerAllocator<std::byte, Memory>;
    allocator_type get_allocator() const noexcept { return allocator_type(memory.get()); }
    template <class... Args>
    void operator()(Args&&... args) {
        handler(std::forward<Args>(args)...);
    }
};

template <class Memory, class Handler>
MemoryHandler<Memory, Handler> with_memory(const std::shared_ptr<Memory>& memory, Handler handler) {
    return {memory, std::move(handler)};
}

}  // namespace openbcpm
