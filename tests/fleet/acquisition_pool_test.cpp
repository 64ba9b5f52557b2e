// The shared acquisition threads (src/device/acquisition_pool.cpp): many
// meters on few threads keep real time, a write wakes its meter's thread at
// once, and a meter leaves the pool without disturbing the others.
#include "device/acquisition_pool.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "device/device.hpp"

namespace openbcpm {
namespace {

using clock = std::chrono::steady_clock;

std::vector<std::unique_ptr<Device>> meters(int n, double speed) {
    Config cfg = default_config();
    cfg.simulation.speed = speed;
    std::vector<std::unique_ptr<Device>> out;
    for (int k = 0; k < n; ++k) {
        cfg.simulation.seed = static_cast<uint64_t>(k + 1);
        out.push_back(std::make_unique<Device>(cfg, std::nullopt));
    }
    return out;
}

TEST(AcquisitionPool, ManyMetersOnTwoThreadsKeepTheirOwnClock) {
    AcquisitionPool pool(2);
    EXPECT_EQ(pool.threads(), 2);
    auto devices = meters(12, 10.0);  // 10x real time: 12 x 100 blocks a second
    for (auto& d : devices)
        d->start(&pool);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    // Each meter went on (about 15 simulated seconds on a quiet machine; a
    // sanitizer build among other tests gets through far fewer), none stalled
    // and none ran ahead of its own clock.
    for (auto& d : devices) {
        const double t = d->snapshot().time;
        EXPECT_GT(t, 1.0);
        EXPECT_LT(t, 20.0);
    }
    // One leaves; the others keep going.
    devices[3]->stop();
    const double left_at = devices[3]->snapshot().time;
    const double other = devices[4]->snapshot().time;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(devices[3]->snapshot().time, left_at);
    EXPECT_GT(devices[4]->snapshot().time, other + 0.2);
    for (auto& d : devices)
        d->stop();
}

TEST(AcquisitionPool, AWriteWakesItsThreadNotTheNextBlock) {
    AcquisitionPool pool(1);
    // 0.01x real time: a block every 10 s. Without the wake the write would
    // wait for the next block.
    auto devices = meters(3, 0.01);
    for (auto& d : devices)
        d->start(&pool);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the first block is done
    points::WriteRequest request;
    points::WriteItem item;
    item.setting = find_setting("panel.1.breaker_size.3");
    ASSERT_NE(item.setting, nullptr);
    item.value = int64_t{40};
    request.items.push_back(item);
    const auto sent = clock::now();
    const points::SubmitResult r = devices[1]->submit(request);
    ASSERT_TRUE(r.ok()) << r.result.message;
    ASSERT_NE(r.ticket, 0u);
    while (!devices[1]->applied(r.ticket) && clock::now() - sent < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    EXPECT_TRUE(devices[1]->applied(r.ticket));
    EXPECT_LT(clock::now() - sent, std::chrono::seconds(2));
    for (auto& d : devices)
        d->stop();
}

TEST(AcquisitionPool, DefaultThreadsLeaveACore) {
    const int n = AcquisitionPool::default_threads();
    EXPECT_GE(n, 1);
    const unsigned cores = std::thread::hardware_concurrency();
    if (cores > 1) {
        EXPECT_EQ(n, static_cast<int>(cores) - 1);
    }
    AcquisitionPool pool(0);
    EXPECT_EQ(pool.threads(), n);
}

}  // namespace
}  // namespace openbcpm
