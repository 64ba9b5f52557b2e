// What the store's safety costs on a full 2-panel database: opening it with
// the start-up check (integrity_check and every row's checksum), one backup
// (online backup, check of the copy, rotation), and one energy checkpoint.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "storage/store.hpp"

using namespace openbcpm;

namespace {

struct Scratch {
    Scratch() {
        char tmpl[] = "/tmp/openbcpm-bench-XXXXXX";
        path = ::mkdtemp(tmpl);
        Store store(path);
        MeterSnapshot s;
        for (auto& p : s.panel) {
            for (auto& c : p.channel) {
                c.kwh = 12.5;
                c.max_current = 3.0;
            }
        }
        store.checkpoint(s);
        std::vector<EventRecord> events(10000);  // a full event history
        store.append_events(events.data(), events.size(), 1700000000, 10000);
        store.save_text("web.audit", std::string(150000, 'a'));  // ~1000 audit entries
    }
    ~Scratch() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    std::filesystem::path path;
};

void BM_StoreOpenWithIntegrityCheck(benchmark::State& state) {
    Scratch scratch;
    for (auto _ : state) {
        Store store(scratch.path);
        benchmark::DoNotOptimize(store.created());
    }
    state.counters["db_kib"] =
        static_cast<double>(std::filesystem::file_size(scratch.path / Store::kFileName) / 1024);
}
BENCHMARK(BM_StoreOpenWithIntegrityCheck)->Unit(benchmark::kMillisecond);

void BM_StoreBackup(benchmark::State& state) {
    Scratch scratch;
    Store store(scratch.path);
    for (auto _ : state) {
        if (!store.backup()) state.SkipWithError("backup failed");
    }
}
BENCHMARK(BM_StoreBackup)->Unit(benchmark::kMillisecond);

void BM_StoreCheckpoint(benchmark::State& state) {
    Scratch scratch;
    Store store(scratch.path);
    MeterSnapshot s;
    double kwh = 0.0;
    for (auto _ : state) {
        kwh += 0.001;
        for (auto& p : s.panel) {
            for (auto& c : p.channel)
                c.kwh = kwh;
        }
        store.checkpoint(s);
    }
}
BENCHMARK(BM_StoreCheckpoint)->Unit(benchmark::kMillisecond);

}  // namespace
