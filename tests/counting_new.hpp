// Counts allocations for the tests that prove a path allocates nothing, by
// replacing the global allocation functions: include it in exactly one source
// file of the test executable, set `counting`, read `allocations`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>
#include <thread>

// The replacements pair malloc with free; GCC, inlining them into callers'
// constructors, takes the pair for operator new with free.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};

// The two phases of a test whose clients run on threads of their own while
// the face's io_context runs on the test's thread: the clients warm the face
// up, then make the requests that are counted, and only those are.
class CountedPhase {
  public:
    explicit CountedPhase(int clients = 1) : clients_(clients) {}
    // On a client's thread: its warm-up is done; returns once counting has begun.
    void warm_done() {
        ++warmed_;
        while (!begun_.load())
            std::this_thread::yield();
    }
    // On a client's thread: its counted requests are done.
    void done() { ++finished_; }
    // On a client's thread, instead of both: it could not start.
    void gave_up() {
        ++warmed_;
        ++finished_;
    }
    // On the test's thread: serves the warm-up until every client is warm.
    template <class Io>
    void serve_warm_up(Io& io) {
        while (warmed_.load() < clients_)
            io.run_for(std::chrono::milliseconds(1));
    }
    // Then serves the counted requests to the end: the allocations made meanwhile.
    template <class Io>
    long count(Io& io) {
        serve_warm_up(io);
        allocations = 0;
        counting = true;
        begun_ = true;
        while (finished_.load() < clients_)
            io.run_for(std::chrono::milliseconds(1));
        counting = false;
        return allocations.load();
    }

  private:
    const int clients_;
    std::atomic<int> warmed_{0};
    std::atomic<int> finished_{0};
    std::atomic<bool> begun_{false};
};
}  // namespace

void* operator new(std::size_t n) {
    if (counting.load(std::memory_order_relaxed))
        allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
// The other forms too (the standard library's temporary buffers use the
// nothrow one): every block is malloc'ed here, so every one is freed here.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    if (counting.load(std::memory_order_relaxed))
        allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n) {
    return operator new(n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
    return operator new(n, t);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
