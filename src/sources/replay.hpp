// Replays recorded samples from an openbcpm recording (docs/recording-format.md):
// "OBCPMR01", a little-endian u32 header length, a JSON header, then frames of
// float32 samples, one frame per sampling instant: V1 V2 V3, then every channel
// of every panel in the header's order.
#pragma once

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "sources/sample_source.hpp"

namespace openbcpm {

class RecordingError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct RecordingHeader {
    double sample_rate = kSampleRate;
    int panels = 2;
    int channels_per_panel = kChannelsPerPanel;
    int voltage_inputs = kVoltageInputs;
    double nominal_frequency = 60.0;
    uint64_t frames = 0;  // 0 = unknown (read to the end)

    size_t frame_values() const {
        return static_cast<size_t>(voltage_inputs) +
               static_cast<size_t>(panels) * static_cast<size_t>(channels_per_panel);
    }
};

class ReplaySource final : public SampleSource {
  public:
    // Throws RecordingError on a missing or malformed file.
    ReplaySource(const std::string& path, bool loop);
    ~ReplaySource() override;
    ReplaySource(const ReplaySource&) = delete;
    ReplaySource& operator=(const ReplaySource&) = delete;

    bool read(SampleBlock& block) override;
    SourceInfo info() const override;
    const RecordingHeader& header() const { return header_; }

  private:
    std::FILE* file_ = nullptr;
    long data_offset_ = 0;
    bool loop_ = true;
    RecordingHeader header_;
    uint64_t samples_ = 0;
    std::unique_ptr<float[]> frame_buffer_;
};

// Writes a recording; the header's frame count is filled in by finish().
class RecordingWriter {
  public:
    RecordingWriter(const std::string& path, const RecordingHeader& header);
    ~RecordingWriter();
    RecordingWriter(const RecordingWriter&) = delete;
    RecordingWriter& operator=(const RecordingWriter&) = delete;
    void write(const SampleBlock& block);
    void finish();

  private:
    std::string header_json() const;
    std::FILE* file_ = nullptr;
    RecordingHeader header_;
    std::unique_ptr<float[]> frame_buffer_;
};

// Parses a recording header from its JSON text (exposed for the fuzzer).
RecordingHeader parse_recording_header(const std::string& json);

}  // namespace openbcpm
