#include "device/acquisition_pool.hpp"

#include <pthread.h>

#include <algorithm>
#include <memory>
#include <string>

#include "device/device.hpp"

namespace openbcpm {

int AcquisitionPool::default_threads() {
    const unsigned cores = std::thread::hardware_concurrency();
    return cores > 1 ? static_cast<int>(cores - 1) : 1;
}

AcquisitionPool::AcquisitionPool(int threads) {
    if (threads <= 0) threads = default_threads();
    for (int i = 0; i < threads; ++i)
        workers_.push_back(std::make_unique<Worker>());
    for (size_t i = 0; i < workers_.size(); ++i) {
        workers_[i]->thread = std::thread([this, worker = workers_[i].get()] { run(*worker); });
        // "acquisition-N" (15 characters at most): top -H and /proc/PID/task show them apart.
        const std::string name = "acquisition-" + std::to_string(i);
        pthread_setname_np(workers_[i]->thread.native_handle(), name.substr(0, 15).c_str());
    }
}

AcquisitionPool::~AcquisitionPool() {
    for (auto& w : workers_) {
        {
            std::lock_guard lock(w->mutex);
            w->stop = true;
        }
        w->wake.notify_one();
    }
    for (auto& w : workers_)
        w->thread.join();
}

void AcquisitionPool::add(Device& device) {
    size_t slot = 0;
    {
        std::lock_guard lock(placement_);
        for (size_t i = 1; i < workers_.size(); ++i) {
            if (workers_[i]->count < workers_[slot]->count) slot = i;
        }
        ++workers_[slot]->count;
    }
    device.acquisition_slot_ = slot;
    device.acquisition_pool_ = this;
    Worker& w = *workers_[slot];
    {
        std::lock_guard lock(w.mutex);
        w.joining.push_back(&device);
        w.woken = true;
    }
    w.wake.notify_one();
}

void AcquisitionPool::remove(Device& device) {
    Worker& w = *workers_.at(device.acquisition_slot_);
    {
        std::unique_lock lock(w.mutex);
        w.leaving.push_back(&device);
        w.woken = true;
        w.wake.notify_one();
        // The pass under way (if any) may still hold the device; the end of
        // the next pass, which takes it off the list first, is the end of it.
        const uint64_t until = w.passes + 1;
        w.changed.wait(lock, [&] { return w.passes >= until || w.stop; });
    }
    std::lock_guard lock(placement_);
    --w.count;
}

void AcquisitionPool::wake(size_t slot) {
    Worker& w = *workers_[slot];
    {
        std::lock_guard lock(w.mutex);
        w.woken = true;
    }
    w.wake.notify_one();
}

void AcquisitionPool::run(Worker& w) {
    using clock = std::chrono::steady_clock;
    std::vector<Device*> devices;
    for (;;) {
        // One pass: each device takes its commands and meters what is due.
        auto next = clock::time_point::max();
        for (Device* d : devices)
            next = std::min(next, d->acquisition_step());
        std::unique_lock lock(w.mutex);
        // Who joins and who leaves, between passes (never inside one).
        if (!w.joining.empty() || !w.leaving.empty()) {
            for (Device* d : w.leaving) {
                std::erase(devices, d);
                std::erase(w.joining, d);
            }
            w.leaving.clear();
            for (Device* d : w.joining) {
                d->acquisition_begin();
                devices.push_back(d);
            }
            w.joining.clear();
            next = clock::now();  // the newcomers' first pass now
        }
        ++w.passes;
        w.changed.notify_all();
        if (w.stop) return;
        if (devices.empty()) {
            w.wake.wait(lock, [&] { return w.woken || w.stop; });
        } else if (next > clock::now()) {
            w.wake.wait_until(lock, next, [&] { return w.woken || w.stop; });
        }
        w.woken = false;
    }
}

}  // namespace openbcpm
