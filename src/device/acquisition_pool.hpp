// The acquisition threads: M threads share the meters of a process. Each
// thread owns a list of devices and loops over them: drain a device's
// commands, meter the block that is due, publish; then sleep until the
// earliest device is due again or a command wakes it (docs/fleet.md).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace openbcpm {

class Device;

class AcquisitionPool {
  public:
    // threads >= 1; 0 means the number of cores - 1, at least 1.
    explicit AcquisitionPool(int threads);
    ~AcquisitionPool();
    AcquisitionPool(const AcquisitionPool&) = delete;
    AcquisitionPool& operator=(const AcquisitionPool&) = delete;

    static int default_threads();
    int threads() const { return static_cast<int>(workers_.size()); }

    // The device joins the thread with the fewest devices and is metered from
    // its next pass. remove() returns once no thread of the pool touches it.
    void add(Device& device);
    void remove(Device& device);
    // Wakes the thread that owns `slot` (what add() gave the device).
    void wake(size_t slot);

  private:
    struct Worker {
        std::mutex mutex;
        std::condition_variable wake;     // the thread sleeps here
        std::condition_variable changed;  // remove() waits here for the next pass
        bool woken = false;               // a command came (under mutex)
        bool stop = false;
        uint64_t passes = 0;           // completed passes (under mutex)
        std::vector<Device*> devices;  // the thread's own list
        std::vector<Device*> joining, leaving;
        size_t count = 0;  // devices, for the placement
        std::thread thread;
    };
    void run(Worker& w);

    std::mutex placement_;
    std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace openbcpm
