#include "protocols/mstp/face.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>

#include <array>
#include <atomic>
#include <boost/asio/write.hpp>
#include <cstddef>
#include <stdexcept>
#include <utility>

namespace openbcpm::mstp {

namespace asio = boost::asio;

class HandlerMemory {
  public:
    // Operations at once: the read, the write, the tick, the wake timer
    // and the wait it cancelled, with room to spare.
    static constexpr size_t kBlocks = 8;
    static constexpr size_t kBlockSize = 512;

    void* allocate(size_t size) {
        if (size <= kBlockSize) {
            for (size_t i = 0; i < kBlocks; ++i) {
                if (!used_[i].exchange(true, std::memory_order_acquire)) return blocks_[i].data();
            }
        }
        return ::operator new(size);  // larger than planned, or all in use
    }
    void deallocate(void* p) {
        for (size_t i = 0; i < kBlocks; ++i) {
            if (p == blocks_[i].data()) {
                used_[i].store(false, std::memory_order_release);
                return;
            }
        }
        ::operator delete(p);
    }

  private:
    struct alignas(std::max_align_t) Block {
        std::array<std::byte, kBlockSize> bytes;
        void* data() { return bytes.data(); }
    };
    std::array<Block, kBlocks> blocks_{};
    std::array<std::atomic<bool>, kBlocks> used_{};
};

namespace {

// The allocator asio finds on the face's handlers (their allocator_type).
template <class T>
class BlockAllocator {
  public:
    using value_type = T;
    explicit BlockAllocator(HandlerMemory* m) noexcept : memory_(m) {}
    template <class U>
    BlockAllocator(const BlockAllocator<U>& o) noexcept : memory_(o.memory()) {}
    T* allocate(size_t n) { return static_cast<T*>(memory_->allocate(sizeof(T) * n)); }
    void deallocate(T* p, size_t) noexcept { memory_->deallocate(p); }
    HandlerMemory* memory() const noexcept { return memory_; }
    template <class U>
    bool operator==(const BlockAllocator<U>& o) const noexcept {
        return memory_ == o.memory();
    }

  private:
    HandlerMemory* memory_;
};

template <class Handler>
struct MemoryHandler {
    std::shared_ptr<HandlerMemory> memory;
    Handler handler;
    using allocator_type = BlockAllocator<std::byte>;
    allocator_type get_allocator() const noexcept { return allocator_type(memory.get()); }
    template <class... Args>
    void operator()(Args&&... args) {
        handler(std::forward<Args>(args)...);
    }
};

}  // namespace

template <class Handler>
auto MstpFace::with_memory(Handler handler) {
    return MemoryHandler<Handler>{memory_, std::move(handler)};
}

MstpFace::MstpFace(asio::io_context& io, bacnet::VirtualRouter& router, MstpOptions options)
    : router_(router),
      options_(std::move(options)),
      port_(io),
      wake_(io),
      tick_(io),
      memory_(std::make_shared<HandlerMemory>()) {}

MstpFace::~MstpFace() {
    close();
}

void MstpFace::start() {
    if (running_) return;
    if (options_.device.empty()) throw std::runtime_error("MS/TP: no serial device configured");
    if (options_.mac > kMaxMasterAddress)
        throw std::runtime_error(fmt::format("MS/TP: MAC address {} is not 0..127", options_.mac));
    if (options_.baud == 0) throw std::runtime_error("MS/TP: baud rate 0");
    boost::system::error_code ec;
    port_.open(options_.device, ec);
    if (ec) {
        throw std::runtime_error(
            fmt::format("MS/TP: cannot open {}: {}", options_.device, ec.message()));
    }
    try {
        set_mstp_line(port_.native_handle(), options_.baud);
        if (options_.rs485_rts) set_rs485_rts(port_.native_handle());
    } catch (const std::system_error& e) {
        port_.close(ec);
        throw std::runtime_error(fmt::format("MS/TP: {}: {}", options_.device, e.what()));
    }
    pending_.clear();
    pending_frames_ = 0;
    writing_ = false;
    reading_ = false;
    NodeConfig c;
    c.station = options_.mac;
    c.max_master = options_.max_master;
    c.max_info_frames = options_.max_info_frames;
    c.baud = options_.baud;
    c.timing = options_.timing;
    c.max_queue = options_.max_queue;
    c.discard_echo = options_.discard_echo;
    link_ = std::make_unique<MstpLink>(c, [this](std::span<const uint8_t> o) { transmit(o); });
    router_.attach(*link_);
    running_ = true;
    const auto now = Clock::now();
    link_->node().start(now);
    read_next();
    schedule_tick();
    // The announcements wait in the queue for our first token.
    router_.start(now);
    rearm();
}

void MstpFace::stop() {
    close();
}

void MstpFace::close() noexcept {
    if (!running_) return;
    running_ = false;
    router_.detach();
    try {
        wake_.cancel();
        tick_.cancel();
    } catch (const boost::system::system_error&) {
        // A timer that cannot be cancelled fires into !running_ and stops.
    }
    boost::system::error_code ec;
    port_.cancel(ec);
    port_.close(ec);
    armed_at_ = Clock::time_point::max();
}

void MstpFace::set_max_master(uint8_t max_master) {
    options_.max_master = max_master;
    if (link_) link_->node().set_max_master(max_master);
}

void MstpFace::set_max_info_frames(uint8_t max_info_frames) {
    options_.max_info_frames = max_info_frames;
    if (link_) link_->node().set_max_info_frames(max_info_frames);
}

void MstpFace::read_next() {
    if (!running_ || reading_) return;
    reading_ = true;
    port_.async_read_some(
        asio::buffer(buffer_), with_memory([this](boost::system::error_code ec, size_t n) {
            // An aborted read may outlive the face: touch nothing then.
            if (ec == asio::error::operation_aborted) return;
            reading_ = false;
            if (!running_) return;
            if (ec) {
                // The device went away (a pty whose other side closed, a USB
                // adapter unplugged): the tick tries again.
                ++read_errors_;
                return;
            }
            link_->node().receive(std::span<const uint8_t>(buffer_.data(), n), Clock::now());
            rearm();
            read_next();
        }));
}

void MstpFace::rearm() {
    if (!running_) return;
    const auto due = link_->node().next_deadline();
    if (due == armed_at_ || due == Clock::time_point::max()) return;
    armed_at_ = due;
    wake_.expires_at(due);
    wake_.async_wait(with_memory([this](boost::system::error_code ec) {
        if (ec || !running_) return;
        armed_at_ = Clock::time_point::max();
        // Octets already in the driver arrived before this timeout: the
        // pending read delivers them first, and re-arms (after a stall of
        // the process both are ready at once, in no set order).
        if (octets_waiting()) return;
        link_->node().poll(Clock::now());
        rearm();
    }));
}

bool MstpFace::octets_waiting() {
    int n = 0;
    return reading_ && ::ioctl(port_.native_handle(), FIONREAD, &n) == 0 && n > 0;
}

void MstpFace::schedule_tick() {
    tick_.expires_after(options_.tick);
    tick_.async_wait(with_memory([this](boost::system::error_code ec) {
        if (ec || !running_) return;
        const auto now = Clock::now();
        if (options_.on_tick) options_.on_tick(now);
        router_.tick(now);
        if (!reading_) read_next();
        rearm();
        schedule_tick();
    }));
}

void MstpFace::transmit(std::span<const uint8_t> octets) {
    pending_.insert(pending_.end(), octets.begin(), octets.end());
    ++pending_frames_;
    if (!writing_) write_next();
}

void MstpFace::write_next() {
    if (pending_.empty() || !running_) {
        writing_ = false;
        return;
    }
    writing_ = true;
    // The frames decided while the last write went out, in one write.
    std::swap(in_flight_, pending_);
    pending_.clear();
    in_flight_frames_ = std::exchange(pending_frames_, 0);
    asio::async_write(port_, asio::buffer(in_flight_),
                      with_memory([this](boost::system::error_code ec, size_t) {
                          if (ec == asio::error::operation_aborted || !running_) return;
                          // The frames are lost, as on a noisy line.
                          if (ec) write_errors_ += in_flight_frames_;
                          write_next();
                      }));
}

MstpOptions mstp_options_from_settings(const GatewaySettings& g) {
    MstpOptions o;
    o.device = g.serial_device;
    o.baud = static_cast<uint32_t>(g.upstream_baud);
    o.mac = static_cast<uint8_t>(g.mstp_mac_addr);
    o.max_master = static_cast<uint8_t>(g.mstp_max_master);
    return o;
}

}  // namespace openbcpm::mstp
