// Modbus TCP load tool: N masters, each on its own connection, read 125
// holding registers back to back for a fixed time; prints requests per second
// and the p50/p99 latency. Usage: modbus_load PORT CLIENTS SECONDS [UNIT] [ADDRESS]
#include <modbus/modbus.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: modbus_load PORT CLIENTS SECONDS [UNIT] [ADDRESS]\n");
        return 2;
    }
    const int port = std::atoi(argv[1]);
    const int clients = std::atoi(argv[2]);
    const double seconds = std::atof(argv[3]);
    const int unit = argc > 4 ? std::atoi(argv[4]) : 1;
    const int address =
        argc > 5 ? std::atoi(argv[5]) : 1999;  // registers 2000..2124: channel floats
    std::vector<std::vector<double>> latencies(static_cast<size_t>(clients));
    std::atomic<int> errors{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(clients));
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            modbus_t* ctx = modbus_new_tcp("127.0.0.1", port);
            modbus_set_slave(ctx, unit);
            modbus_set_response_timeout(ctx, 5, 0);
            if (modbus_connect(ctx) != 0) {
                ++errors;
                modbus_free(ctx);
                return;
            }
            uint16_t regs[125];
            while (!go.load())
                std::this_thread::yield();
            const auto end =
                std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
            auto& lat = latencies[static_cast<size_t>(c)];
            while (std::chrono::steady_clock::now() < end) {
                const auto t0 = std::chrono::steady_clock::now();
                if (modbus_read_registers(ctx, address, 125, regs) != 125) ++errors;
                lat.push_back(
                    std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                        .count());
            }
            modbus_close(ctx);
            modbus_free(ctx);
        });
    }
    go = true;
    for (auto& t : threads)
        t.join();
    std::vector<double> all;
    for (const auto& l : latencies)
        all.insert(all.end(), l.begin(), l.end());
    std::sort(all.begin(), all.end());
    auto pct = [&](double p) {
        return all.empty()
                   ? 0.0
                   : all[std::min(all.size() - 1,
                                  static_cast<size_t>(p * static_cast<double>(all.size())))];
    };
    std::printf("clients %d: %.0f req/s, p50 %.0f us, p99 %.0f us, max %.0f us, errors %d\n",
                clients, static_cast<double>(all.size()) / seconds, pct(0.50), pct(0.99),
                all.empty() ? 0.0 : all.back(), errors.load());
    return errors.load() == 0 ? 0 : 1;
}
