// The Prometheus text exposition of the web face (GET /metrics), internal to
// src/web. A meter's series are written by meter_metrics() (routes_metrics.cpp)
// into a MetricsText; the site scope (/metrics?scope=site) writes each meter's
// into its own MetricsText with a `meter` label, on that meter's own loop, and
// appends them family by family, so each family's HELP/TYPE appears once and
// all its samples follow it, as the format requires.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

namespace openbcpm {
class MeterModel;
}

namespace openbcpm::web {

class MetricsText {
  public:
    MetricsText() = default;
    // `label` (e.g. meter="3") goes first in every sample's labels.
    explicit MetricsText(std::string label) : label_(std::move(label)) {}

    // Declares a family; its samples may follow in any order later.
    void family(const char* name, const char* type, const char* help) {
        families_.push_back({name, type, help, {}});
    }
    void sample(std::string_view name, std::string_view labels, double v) {
        std::string& out = find(name).samples;
        out += name;
        if (!labels.empty() || !label_.empty()) {
            out += '{';
            out += label_;
            if (!labels.empty() && !label_.empty()) out += ',';
            out += labels;
            out += '}';
        }
        fmt::format_to(std::back_inserter(out), " {}\n", v);
    }
    // Appends the samples of `other`, family by family (families new here go last).
    void append(const MetricsText& other) {
        for (const Family& f : other.families_) {
            Family* mine = lookup(f.name);
            if (!mine) {
                families_.push_back({f.name, f.type, f.help, {}});
                mine = &families_.back();
            }
            mine->samples += f.samples;
        }
    }
    std::string str() const {
        std::string out;
        for (const Family& f : families_) {
            fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", f.name, f.help,
                           f.name, f.type);
            out += f.samples;
        }
        return out;
    }

  private:
    struct Family {
        std::string name, type, help;
        std::string samples;
    };
    Family* lookup(std::string_view name) {
        if (last_ < families_.size() && families_[last_].name == name) return &families_[last_];
        for (size_t i = 0; i < families_.size(); ++i) {
            if (families_[i].name == name) {
                last_ = i;
                return &families_[i];
            }
        }
        return nullptr;
    }
    Family& find(std::string_view name) {
        if (Family* f = lookup(name)) return *f;
        // A sample without a declared family: untyped, as the format allows.
        families_.push_back({std::string(name), "untyped", "(undeclared)", {}});
        last_ = families_.size() - 1;
        return families_.back();
    }

    std::vector<Family> families_;
    std::string label_;
    size_t last_ = 0;
};

// The series of one meter that come from its model: voltages, channels,
// mains, health, metering, connections (not the web face's own counters).
void meter_metrics(MetricsText& m, MeterModel& meter);

}  // namespace openbcpm::web
