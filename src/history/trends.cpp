#include "history/trends.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

namespace openbcpm::history {

// --- The series ---

std::vector<SeriesDef> series_of(const MeterSnapshot& s) {
    std::vector<SeriesDef> out;
    for (int p = 1; p <= kMaxPanels; ++p) {
        const PanelReadings& panel = s.panel[static_cast<size_t>(p - 1)];
        if (!panel.present) continue;
        for (int ch = 1; ch <= kChannelsPerPanel; ++ch) {
            if (!panel.channel[static_cast<size_t>(ch - 1)].present) continue;
            out.push_back(
                {fmt::format("p{}.ch{}.current", p, ch), "A", Quantity::ChannelCurrent, p, ch, 0});
            out.push_back({fmt::format("p{}.ch{}.kw", p, ch), "kW", Quantity::ChannelKw, p, ch, 0});
        }
        out.push_back({fmt::format("p{}.kw", p), "kW", Quantity::PanelKw, p, 0, 0});
        out.push_back({fmt::format("p{}.kwh", p), "kWh", Quantity::PanelKwh, p, 0, 0});
        out.push_back({fmt::format("p{}.pf", p), "", Quantity::PanelPf, p, 0, 0});
    }
    const char* ln[] = {"v.an", "v.bn", "v.cn"};
    const char* ll[] = {"v.ab", "v.bc", "v.ca"};
    for (int i = 0; i < 3; ++i)
        out.push_back({ln[i], "V", Quantity::VoltageLn, 0, 0, i});
    for (int i = 0; i < 3; ++i)
        out.push_back({ll[i], "V", Quantity::VoltageLl, 0, 0, i});
    out.push_back({"frequency", "Hz", Quantity::Frequency, 0, 0, 0});
    return out;
}

double value_of(const SeriesDef& d, const MeterSnapshot& s) {
    const auto idx = [](int n) { return static_cast<size_t>(n - 1); };
    switch (d.quantity) {
        case Quantity::ChannelCurrent:
            return s.panel[idx(d.panel)].channel[idx(d.channel)].current;
        case Quantity::ChannelKw:
            return s.panel[idx(d.panel)].channel[idx(d.channel)].kw;
        case Quantity::PanelKw:
            return s.panel[idx(d.panel)].mains.kw;
        case Quantity::PanelKwh:
            return s.panel[idx(d.panel)].mains.kwh;
        case Quantity::PanelPf:
            return s.panel[idx(d.panel)].mains.pf;
        case Quantity::VoltageLn:
            return s.voltage.ln[static_cast<size_t>(d.index)];
        case Quantity::VoltageLl:
            return s.voltage.ll[static_cast<size_t>(d.index)];
        case Quantity::Frequency:
            return s.voltage.frequency_valid ? s.voltage.frequency
                                             : std::numeric_limits<double>::quiet_NaN();
    }
    return std::numeric_limits<double>::quiet_NaN();
}

// --- The ring ---

WindowRing::WindowRing(size_t capacity, size_t series)
    : capacity_(std::max<size_t>(capacity, 1)), series_(series) {
    times_.assign(capacity_, 0.0);
    values_.assign(capacity_ * series_, 0.0f);
}

float* WindowRing::push(double t) {
    size_t s;
    if (size_ < capacity_) {
        s = slot(size_);
        ++size_;
    } else {
        s = head_;
        head_ = (head_ + 1) % capacity_;
    }
    times_[s] = t;
    return values_.data() + s * series_;
}

size_t WindowRing::lower_bound(double t) const {
    size_t lo = 0, hi = size_;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (time(mid) < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

// --- Minutes ---

MinuteAggregator::MinuteAggregator(size_t series)
    : series_(series), sum_(series), min_(series), max_(series) {}

std::optional<MinuteRow> MinuteAggregator::take() {
    if (count_ == 0) return std::nullopt;
    MinuteRow r;
    r.minute = minute_;
    r.windows = count_;
    r.min = min_;
    r.max = max_;
    r.avg.resize(series_);
    for (size_t i = 0; i < series_; ++i)
        r.avg[i] = static_cast<float>(sum_[i] / count_);
    count_ = 0;
    return r;
}

std::optional<MinuteRow> MinuteAggregator::add(double t, const float* v) {
    const auto m = static_cast<int64_t>(std::floor(t / 60.0)) * 60;
    std::optional<MinuteRow> ended;
    if (m != minute_) {
        ended = take();
        minute_ = m;
    }
    if (count_ == 0) {
        for (size_t i = 0; i < series_; ++i) {
            sum_[i] = static_cast<double>(v[i]);
            min_[i] = max_[i] = v[i];
        }
    } else {
        for (size_t i = 0; i < series_; ++i) {
            sum_[i] += static_cast<double>(v[i]);
            min_[i] = std::fmin(min_[i], v[i]);
            max_[i] = std::fmax(max_[i], v[i]);
        }
    }
    ++count_;
    return ended;
}

// --- SQLite ---

namespace {

struct Stmt {
    sqlite3_stmt* s = nullptr;
    Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s, nullptr); }
    ~Stmt() { sqlite3_finalize(s); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    explicit operator bool() const { return s != nullptr; }
};

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS layout(id INTEGER PRIMARY KEY, keys TEXT NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS minute(t INTEGER PRIMARY KEY, layout INTEGER NOT NULL,"
    " windows INTEGER NOT NULL, data BLOB NOT NULL);";

std::string layout_text(const std::vector<SeriesDef>& layout) {
    std::string out;
    for (const auto& d : layout) {
        if (!out.empty()) out += ',';
        out += d.key;
    }
    return out;
}

std::vector<std::string> split_keys(std::string_view text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = text.find(',', start);
        const size_t end = comma == std::string_view::npos ? text.size() : comma;
        out.emplace_back(text.substr(start, end - start));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

// A row's blob: min, avg, max of each series in turn, float32 as the host stores it.
constexpr size_t kRowOverhead = 48;  // key, layout, count, record and page overhead (estimate)

}  // namespace

TrendStore::TrendStore(std::filesystem::path file, TrendStoreOptions options)
    : file_(std::move(file)), options_(options) {
    auto open = [&]() -> bool {
        if (sqlite3_open_v2(file_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr) != SQLITE_OK) {
            return false;
        }
        sqlite3_busy_timeout(db_, 1000);
        return sqlite3_exec(db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nullptr,
                            nullptr, nullptr) == SQLITE_OK &&
               sqlite3_exec(db_, kSchema, nullptr, nullptr, nullptr) == SQLITE_OK;
    };
    if (!open()) {
        // Trends are not the meter's state: a file that cannot be used is set
        // aside and a new one started.
        const std::string why = db_ ? sqlite3_errmsg(db_) : "cannot open";
        sqlite3_close(db_);
        db_ = nullptr;
        std::error_code ec;
        std::filesystem::rename(file_, file_.string() + ".damaged", ec);
        std::filesystem::remove(file_.string() + "-wal", ec);
        std::filesystem::remove(file_.string() + "-shm", ec);
        spdlog::error("trends: {}: {}; set aside as {}.damaged, starting a new one", file_.string(),
                      why, file_.filename().string());
        if (!open()) {
            fail("open");
            sqlite3_close(db_);
            db_ = nullptr;
        }
    }
    std::error_code ec;
    std::filesystem::permissions(
        file_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
}

TrendStore::~TrendStore() {
    sqlite3_close(db_);
}

bool TrendStore::fail(std::string_view what) {
    ++failures_;
    if (error_.empty()) {
        error_ = fmt::format("{}: {}", what, db_ ? sqlite3_errmsg(db_) : "no database");
        spdlog::error(
            "trends: {}: {} (the trends' minutes are not stored until it works again; "
            "metering and the faces go on)",
            file_.string(), error_);
    }
    return false;
}

uint64_t TrendStore::max_rows(size_t series) const {
    // What a row takes of the file: rows share 4 KiB pages (SQLite's default)
    // whole; a row larger than a page spills onto overflow pages of its own.
    constexpr uint64_t kPage = 4096, kUsable = kPage - 100;
    const uint64_t row = series * 3 * sizeof(float) + kRowOverhead;
    const uint64_t cost =
        row <= kUsable ? kPage / (kUsable / row) : (row + kUsable - 1) / kUsable * kPage;
    return std::max<uint64_t>(1, options_.max_bytes / cost);
}

std::optional<int64_t> TrendStore::newest() const {
    return scalar("SELECT max(t) FROM minute");
}

std::optional<int64_t> TrendStore::oldest() const {
    return scalar("SELECT min(t) FROM minute");
}

std::optional<int64_t> TrendStore::scalar(const char* sql) const {
    if (!db_) return std::nullopt;
    Stmt st(db_, sql);
    if (!st || sqlite3_step(st.s) != SQLITE_ROW || sqlite3_column_type(st.s, 0) == SQLITE_NULL)
        return std::nullopt;
    return sqlite3_column_int64(st.s, 0);
}

uint64_t TrendStore::rows() const {
    return static_cast<uint64_t>(scalar("SELECT count(*) FROM minute").value_or(0));
}

uint64_t TrendStore::file_bytes() const {
    uint64_t total = 0;
    for (const auto& p : {file_, std::filesystem::path(file_.string() + "-wal")}) {
        std::error_code ec;
        const auto n = std::filesystem::file_size(p, ec);
        if (!ec) total += n;
    }
    return total;
}

int64_t TrendStore::layout_id(const std::vector<SeriesDef>& layout) {
    std::string text = layout_text(layout);
    if (layout_id_ >= 0 && text == layout_text_) return layout_id_;
    {
        Stmt ins(db_, "INSERT OR IGNORE INTO layout(keys) VALUES(?)");
        if (!ins) return -1;
        sqlite3_bind_text(ins.s, 1, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
        if (sqlite3_step(ins.s) != SQLITE_DONE) return -1;
    }
    Stmt sel(db_, "SELECT id FROM layout WHERE keys = ?");
    if (!sel) return -1;
    sqlite3_bind_text(sel.s, 1, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(sel.s) != SQLITE_ROW) return -1;
    layout_id_ = sqlite3_column_int64(sel.s, 0);
    layout_text_ = std::move(text);
    return layout_id_;
}

bool TrendStore::write(const std::vector<SeriesDef>& layout, const std::vector<MinuteRow>& rows) {
    if (!db_) return fail("write");
    if (rows.empty()) return true;
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
        return fail("begin");
    auto rollback = [&](std::string_view what) {
        fail(what);
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return false;
    };
    const int64_t layout_row = layout_id(layout);
    if (layout_row < 0) {
        layout_id_ = -1;
        return rollback("layout");
    }
    {
        Stmt ins(db_, "INSERT OR REPLACE INTO minute(t, layout, windows, data) VALUES(?,?,?,?)");
        if (!ins) return rollback("prepare");
        std::vector<float> blob;
        for (const MinuteRow& r : rows) {
            const size_t n = layout.size();
            blob.resize(n * 3);
            for (size_t i = 0; i < n; ++i) {
                blob[i * 3] = r.min[i];
                blob[i * 3 + 1] = r.avg[i];
                blob[i * 3 + 2] = r.max[i];
            }
            sqlite3_reset(ins.s);
            sqlite3_bind_int64(ins.s, 1, r.minute);
            sqlite3_bind_int64(ins.s, 2, layout_row);
            sqlite3_bind_int64(ins.s, 3, r.windows);
            sqlite3_bind_blob(ins.s, 4, blob.data(), static_cast<int>(blob.size() * sizeof(float)),
                              SQLITE_TRANSIENT);
            if (sqlite3_step(ins.s) != SQLITE_DONE) {
                layout_id_ = -1;
                return rollback("insert");
            }
        }
    }
    // Pruning: by age, then by the row bound that keeps the file's size bounded.
    {
        Stmt age(db_, "DELETE FROM minute WHERE t < ?");
        if (!age) return rollback("prune");
        sqlite3_bind_int64(age.s, 1,
                           rows.back().minute - static_cast<int64_t>(options_.days) * 86400);
        if (sqlite3_step(age.s) != SQLITE_DONE) return rollback("prune");
        Stmt bound(db_,
                   "DELETE FROM minute WHERE t <= (SELECT t FROM minute ORDER BY t DESC "
                   "LIMIT 1 OFFSET ?)");
        if (!bound) return rollback("prune");
        sqlite3_bind_int64(bound.s, 1, static_cast<int64_t>(max_rows(layout.size())));
        if (sqlite3_step(bound.s) != SQLITE_DONE) return rollback("prune");
    }
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
        layout_id_ = -1;
        return rollback("commit");
    }
    if (!error_.empty()) {
        spdlog::info("trends: {}: minutes are stored again ({} failed)", file_.string(), failures_);
        error_.clear();
    }
    return true;
}

TrendStore::Rows TrendStore::read(const std::vector<std::string>& keys, int64_t from, int64_t to,
                                  size_t limit) {
    Rows out;
    out.min.resize(keys.size());
    out.avg.resize(keys.size());
    out.max.resize(keys.size());
    if (!db_ || from > to) return out;
    Stmt st(db_,
            "SELECT m.t, m.windows, m.data, l.id, l.keys FROM minute m JOIN layout l ON "
            "l.id = m.layout WHERE m.t >= ? AND m.t <= ? ORDER BY m.t LIMIT ?");
    if (!st) return out;
    sqlite3_bind_int64(st.s, 1, from);
    sqlite3_bind_int64(st.s, 2, to);
    sqlite3_bind_int64(st.s, 3, static_cast<int64_t>(limit));
    int64_t cached_layout = -1;
    std::vector<int> column;  // per key: its index in the row's layout, -1 none
    const float nan = std::numeric_limits<float>::quiet_NaN();
    while (sqlite3_step(st.s) == SQLITE_ROW) {
        const int64_t lid = sqlite3_column_int64(st.s, 3);
        if (lid != cached_layout) {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 4));
            const auto names = split_keys(text ? text : "");
            column.assign(keys.size(), -1);
            for (size_t k = 0; k < keys.size(); ++k) {
                const auto it = std::find(names.begin(), names.end(), keys[k]);
                if (it != names.end()) column[k] = static_cast<int>(it - names.begin());
            }
            cached_layout = lid;
        }
        const auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(st.s, 2));
        const size_t floats = static_cast<size_t>(sqlite3_column_bytes(st.s, 2)) / sizeof(float);
        out.minute.push_back(sqlite3_column_int64(st.s, 0));
        out.windows.push_back(static_cast<uint32_t>(sqlite3_column_int64(st.s, 1)));
        for (size_t k = 0; k < keys.size(); ++k) {
            float v[3] = {nan, nan, nan};
            if (column[k] >= 0 && static_cast<size_t>(column[k]) * 3 + 2 < floats) {
                std::memcpy(v, data + static_cast<size_t>(column[k]) * 3 * sizeof(float), sizeof v);
            }
            out.min[k].push_back(v[0]);
            out.avg[k].push_back(v[1]);
            out.max[k].push_back(v[2]);
        }
    }
    return out;
}

// --- The recorder ---

TrendRecorder::TrendRecorder(TrendOptions options) : options_(std::move(options)) {
    if (!options_.file.empty())
        store_ = std::make_unique<TrendStore>(options_.file, options_.store);
}

TrendRecorder::~TrendRecorder() = default;

const SeriesDef* TrendRecorder::find(std::string_view key) const {
    for (const auto& d : series_)
        if (d.key == key) return &d;
    return nullptr;
}

void TrendRecorder::record(const MeterSnapshot& s, double wall) {
    if (s.sequence == 0) return;  // nothing metered yet
    if (!started_) {
        series_ = series_of(s);
        ring_ = std::make_unique<WindowRing>(options_.windows, series_.size());
        minutes_ = std::make_unique<MinuteAggregator>(series_.size());
        row_.assign(series_.size(), 0.0f);
        anchor_wall_ = wall;
        // Never before what is stored: a meter that ran faster than real time
        // before its restart is ahead of the host's clock.
        if (store_) {
            if (auto newest = store_->newest())
                anchor_wall_ = std::max(anchor_wall_, static_cast<double>(*newest + 60));
        }
        anchor_meter_ = s.time;
        started_ = true;
    } else if (s.sequence <= last_sequence_) {
        if (s.sequence == last_sequence_) return;  // taken already
        // The meter started afresh (its sequence went back): go on from here.
        anchor_wall_ = last_time_;
        anchor_meter_ = s.time;
    }
    last_sequence_ = s.sequence;
    const double t = anchor_wall_ + (s.time - anchor_meter_);
    if (t < last_time_) return;  // time never goes back in the ring
    last_time_ = t;
    float* slot = ring_->push(t);
    for (size_t i = 0; i < series_.size(); ++i)
        slot[i] = static_cast<float>(value_of(series_[i], s));
    if (auto ended = minutes_->add(t, slot)) {
        if (pending_.size() < 1440) pending_.push_back(std::move(*ended));  // a day at most
    }
}

void TrendRecorder::flush() {
    if (pending_.empty()) return;
    if (store_) store_->write(series_, pending_);
    pending_.clear();
}

void TrendRecorder::finish() {
    if (minutes_) {
        if (auto last = minutes_->take()) pending_.push_back(std::move(*last));
    }
    flush();
}

TrendResult TrendRecorder::query(const std::vector<std::string>& keys, double from, double to,
                                 size_t max_points) {
    TrendResult r;
    std::vector<size_t> column;
    for (const auto& k : keys) {
        const SeriesDef* d = find(k);
        if (!d) continue;
        r.keys.push_back(d->key);
        r.units.push_back(d->unit);
        column.push_back(static_cast<size_t>(d - series_.data()));
    }
    const size_t n = r.keys.size();
    r.min.resize(n);
    r.avg.resize(n);
    r.max.resize(n);
    if (n == 0 || !(from <= to)) return r;
    // The ring covers from its oldest window on; minutes before it come from SQLite.
    const double ring_start =
        ring_ && ring_->size() > 0 ? ring_->time(0) : std::numeric_limits<double>::infinity();
    if (store_ && from < ring_start) {
        const double upto = std::min(to, ring_start - 60.0);  // whole minutes before the ring
        if (from <= upto) {
            const auto lo = static_cast<int64_t>(std::floor(from / 60.0)) * 60;
            const auto hi = static_cast<int64_t>(std::floor(upto / 60.0)) * 60;
            auto rows = store_->read(r.keys, lo, hi, 200000);
            r.from_minutes = rows.minute.size();
            for (size_t i = 0; i < rows.minute.size(); ++i) {
                r.t.push_back(static_cast<double>(rows.minute[i]));
                r.windows.push_back(rows.windows[i]);
            }
            for (size_t k = 0; k < n; ++k) {
                r.min[k] = std::move(rows.min[k]);
                r.avg[k] = std::move(rows.avg[k]);
                r.max[k] = std::move(rows.max[k]);
            }
        }
    }
    if (ring_) {
        for (size_t i = ring_->lower_bound(from); i < ring_->size() && ring_->time(i) <= to; ++i) {
            r.t.push_back(ring_->time(i));
            r.windows.push_back(1);
            for (size_t k = 0; k < n; ++k) {
                const float v = ring_->value(i, column[k]);
                r.min[k].push_back(v);
                r.avg[k].push_back(v);
                r.max[k].push_back(v);
            }
            ++r.from_memory;
        }
    }
    const size_t points = r.t.size();
    if (max_points == 0 || points <= max_points) return r;
    // Merge into max_points buckets of consecutive points.
    TrendResult m;
    m.keys = r.keys;
    m.units = r.units;
    m.from_memory = r.from_memory;
    m.from_minutes = r.from_minutes;
    m.min.resize(n);
    m.avg.resize(n);
    m.max.resize(n);
    for (size_t b = 0; b < max_points; ++b) {
        const size_t lo = b * points / max_points, hi = (b + 1) * points / max_points;
        if (lo == hi) continue;
        uint32_t windows = 0;
        for (size_t i = lo; i < hi; ++i)
            windows += r.windows[i];
        m.t.push_back(r.t[lo]);
        m.windows.push_back(windows);
        for (size_t k = 0; k < n; ++k) {
            float mn = std::numeric_limits<float>::quiet_NaN(), mx = mn;
            double sum = 0.0, weight = 0.0;
            for (size_t i = lo; i < hi; ++i) {
                if (std::isnan(r.avg[k][i])) continue;
                mn = std::fmin(mn, r.min[k][i]);
                mx = std::fmax(mx, r.max[k][i]);
                sum += static_cast<double>(r.avg[k][i]) * r.windows[i];
                weight += r.windows[i];
            }
            m.min[k].push_back(mn);
            m.avg[k].push_back(weight > 0 ? static_cast<float>(sum / weight)
                                          : std::numeric_limits<float>::quiet_NaN());
            m.max[k].push_back(mx);
        }
    }
    return m;
}

}  // namespace openbcpm::history
