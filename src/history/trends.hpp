// Trends: the meter's history of a few quantities (docs/trends.md).
//
// In memory, a preallocated ring of the last metering windows (one row per
// window: its time and one float per series, about an hour); on disk, one
// row per minute of every series' min/avg/max in its own SQLite file
// (<state-dir>/trends.sqlite), pruned by age and by a row bound that keeps
// the file's size bounded. The recorder is fed published snapshots on the
// event loop and takes each window once, by its sequence number. A storage
// failure is logged once and never stops the recording in memory.
//
// Depends on core and metering only (not on the faces).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metering/snapshot.hpp"

struct sqlite3;

namespace openbcpm::history {

// What a series reads from a snapshot.
enum class Quantity : uint8_t {
    ChannelCurrent,  // p<P>.ch<C>.current, A
    ChannelKw,       // p<P>.ch<C>.kw, kW
    PanelKw,         // p<P>.kw, the mains' total kW
    PanelKwh,        // p<P>.kwh, the mains' total kWh
    PanelPf,         // p<P>.pf, the mains' power factor
    VoltageLn,       // v.an, v.bn, v.cn (index 0..2), V
    VoltageLl,       // v.ab, v.bc, v.ca, V
    Frequency,       // frequency, Hz
};

struct SeriesDef {
    std::string key;  // p1.ch3.current, p1.kw, v.an, frequency
    std::string unit;
    Quantity quantity{};
    int panel = 0;    // 1-based; 0 for meter-wide series
    int channel = 0;  // 1-based; 0 for panel or meter-wide series
    int index = 0;    // phase index of a voltage
};

// Every series recorded for a snapshot: current and kW of each channel the
// model has, each present panel's kW, kWh and PF, the voltages and frequency.
std::vector<SeriesDef> series_of(const MeterSnapshot& s);
double value_of(const SeriesDef& def, const MeterSnapshot& s);

// The ring of windows: `capacity` rows of a time and one float per series,
// allocated once; the oldest row goes when a new one comes to a full ring.
class WindowRing {
  public:
    WindowRing(size_t capacity, size_t series);
    size_t capacity() const { return capacity_; }
    size_t size() const { return size_; }
    size_t series() const { return series_; }
    // Row i, 0 the oldest.
    double time(size_t i) const { return times_[slot(i)]; }
    float value(size_t i, size_t series) const { return values_[slot(i) * series_ + series]; }
    // Room for the newest row: its values are written through the pointer.
    float* push(double time);
    // The first row whose time is >= t (size() when none).
    size_t lower_bound(double t) const;
    size_t bytes() const { return times_.capacity() * sizeof(double) + values_.capacity() * 4; }

  private:
    size_t slot(size_t i) const { return (head_ + i) % capacity_; }
    size_t capacity_;
    size_t series_;
    size_t head_ = 0;  // the oldest row's slot
    size_t size_ = 0;
    std::vector<double> times_;
    std::vector<float> values_;
};

// One minute of every series: min, avg, max, and how many windows made it.
struct MinuteRow {
    int64_t minute = 0;  // Unix seconds of the minute's start (a multiple of 60)
    uint32_t windows = 0;
    std::vector<float> min, avg, max;
};

// Folds windows into minutes.
class MinuteAggregator {
  public:
    explicit MinuteAggregator(size_t series);
    // Adds a window at Unix time t; a window of a later minute first ends the
    // one being built, which is returned.
    std::optional<MinuteRow> add(double t, const float* values);
    // The minute being built, if any window is in it (a stop writes it).
    std::optional<MinuteRow> take();

  private:
    size_t series_;
    int64_t minute_ = INT64_MIN;
    uint32_t count_ = 0;
    std::vector<double> sum_;
    std::vector<float> min_, max_;
};

struct TrendStoreOptions {
    int days = 30;                                    // minutes older than this are pruned
    uint64_t max_bytes = 128ull * 1024ull * 1024ull;  // the minute rows' bound
};

// The SQLite file of minute rows. Each row names its layout (the series keys
// it was written with), so a changed model still reads back by key.
class TrendStore {
  public:
    TrendStore(std::filesystem::path file, TrendStoreOptions options);
    ~TrendStore();
    TrendStore(const TrendStore&) = delete;
    TrendStore& operator=(const TrendStore&) = delete;

    bool ok() const { return db_ != nullptr && error_.empty(); }
    const std::string& error() const { return error_; }  // the first failure, if any
    uint64_t failures() const { return failures_; }
    // Rows kept at most: max_bytes over one row's size for `series` series.
    uint64_t max_rows(size_t series) const;
    // The newest and the oldest minute stored, if any (cheap: the key's ends).
    std::optional<int64_t> newest() const;
    std::optional<int64_t> oldest() const;
    // One transaction: the rows, then pruning by age and by the row bound.
    bool write(const std::vector<SeriesDef>& layout, const std::vector<MinuteRow>& rows);
    // Rows with from <= minute <= to, oldest first, of the series `keys`
    // (NaN where a row's layout has no such key); at most `limit` rows.
    struct Rows {
        std::vector<int64_t> minute;
        std::vector<uint32_t> windows;
        std::vector<std::vector<float>> min, avg, max;  // [key][row]
    };
    Rows read(const std::vector<std::string>& keys, int64_t from, int64_t to, size_t limit);
    uint64_t rows() const;  // counts them all (a scan: diagnostics and tests)
    const std::filesystem::path& file() const { return file_; }
    // The file's size on disk with its write-ahead log (0 when absent).
    uint64_t file_bytes() const;
    const TrendStoreOptions& options() const { return options_; }

  private:
    bool fail(std::string_view what);
    std::optional<int64_t> scalar(const char* sql) const;  // one integer, if any
    int64_t layout_id(const std::vector<SeriesDef>& layout);
    std::filesystem::path file_;
    TrendStoreOptions options_;
    sqlite3* db_ = nullptr;
    std::string error_;
    uint64_t failures_ = 0;
    std::string layout_text_;
    int64_t layout_id_ = -1;
};

// Metering windows of 0.2 s (12 cycles at 60 Hz, 10 at 50 Hz).
inline constexpr size_t kWindowsPerMinute = 300;

struct TrendOptions {
    size_t windows = 60 * kWindowsPerMinute;  // the ring: an hour
    std::filesystem::path file;               // empty: memory only
    TrendStoreOptions store{};
};

// The answer to a query: one time axis, per series min/avg/max.
struct TrendResult {
    std::vector<std::string> keys, units;
    std::vector<double> t;                          // Unix seconds (a minute row: its start)
    std::vector<uint32_t> windows;                  // windows behind each point
    std::vector<std::vector<float>> min, avg, max;  // [key][point]
    size_t from_memory = 0, from_minutes = 0;
};

class TrendRecorder {
  public:
    explicit TrendRecorder(TrendOptions options);
    ~TrendRecorder();
    // Takes the snapshot's window unless already taken. `wall` is the host's
    // Unix time: the first window is anchored to it (never before the newest
    // stored minute), later ones follow the meter's own time, so a simulator
    // running faster than real time fills minutes faster too.
    void record(const MeterSnapshot& s, double wall);
    // Writes the minutes ended since the last flush, in one transaction.
    void flush();
    // Ends the minute being built and writes it (a clean stop).
    void finish();

    const std::vector<SeriesDef>& series() const { return series_; }
    const SeriesDef* find(std::string_view key) const;
    // The newest window's time (0 before the first).
    double now() const { return last_time_; }
    const WindowRing* ring() const { return ring_.get(); }
    const TrendStore* store() const { return store_.get(); }
    size_t memory_bytes() const { return ring_ ? ring_->bytes() : 0; }

    // Points of `keys` (known series) within [from, to]: minute rows from
    // SQLite before the ring's oldest window, the ring's windows after; more
    // than max_points are merged into max_points buckets (min of mins, mean
    // weighted by windows, max of maxes); max_points 0 merges nothing.
    TrendResult query(const std::vector<std::string>& keys, double from, double to,
                      size_t max_points);

  private:
    TrendOptions options_;
    std::vector<SeriesDef> series_;
    std::unique_ptr<WindowRing> ring_;
    std::unique_ptr<MinuteAggregator> minutes_;
    std::unique_ptr<TrendStore> store_;
    std::vector<MinuteRow> pending_;
    std::vector<float> row_;
    bool started_ = false;
    uint64_t last_sequence_ = 0;
    double anchor_wall_ = 0.0, anchor_meter_ = 0.0, last_time_ = 0.0;
};

}  // namespace openbcpm::history
