#include "sources/replay.hpp"

#include <cstring>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

namespace openbcpm {

namespace {
constexpr char kMagic[8] = {'O', 'B', 'C', 'P', 'M', 'R', '0', '1'};
// Fixed width so finish() can rewrite the frame count in place.
constexpr size_t kHeaderBytes = 256;
}  // namespace

RecordingHeader parse_recording_header(const std::string& text) {
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw RecordingError("recording header is not a JSON object");
    RecordingHeader h;
    auto number = [&](const char* key, double lo, double hi) -> double {
        if (!j.contains(key) || !j[key].is_number()) {
            throw RecordingError(std::string("recording header lacks a numeric \"") + key + "\"");
        }
        const double v = j[key].get<double>();
        if (!(v >= lo && v <= hi))
            throw RecordingError(std::string("recording header \"") + key + "\" out of range");
        return v;
    };
    h.sample_rate = number("sample_rate", kSampleRate, kSampleRate);
    h.panels = static_cast<int>(number("panels", 1, kMaxPanels));
    h.channels_per_panel =
        static_cast<int>(number("channels_per_panel", kChannelsPerPanel, kChannelsPerPanel));
    h.voltage_inputs = static_cast<int>(number("voltage_inputs", kVoltageInputs, kVoltageInputs));
    h.nominal_frequency = number("nominal_frequency", 45.0, 65.0);
    h.frames = static_cast<uint64_t>(number("frames", 0, 1e15));
    return h;
}

ReplaySource::ReplaySource(const std::string& path, bool loop) : loop_(loop) {
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) throw RecordingError("cannot open recording " + path);
    char magic[8];
    uint32_t len = 0;
    if (std::fread(magic, 1, 8, file_) != 8 || std::memcmp(magic, kMagic, 8) != 0) {
        std::fclose(file_);
        throw RecordingError(path + " is not an openbcpm recording (bad magic)");
    }
    unsigned char lb[4];
    if (std::fread(lb, 1, 4, file_) != 4) {
        std::fclose(file_);
        throw RecordingError(path + ": truncated header");
    }
    len = static_cast<uint32_t>(lb[0]) | static_cast<uint32_t>(lb[1]) << 8 |
          static_cast<uint32_t>(lb[2]) << 16 | static_cast<uint32_t>(lb[3]) << 24;
    if (len == 0 || len > 65536) {
        std::fclose(file_);
        throw RecordingError(path + ": bad header length");
    }
    std::string json(len, '\0');
    if (std::fread(json.data(), 1, len, file_) != len) {
        std::fclose(file_);
        throw RecordingError(path + ": truncated header");
    }
    try {
        header_ = parse_recording_header(json);
    } catch (...) {
        std::fclose(file_);
        throw;
    }
    data_offset_ = 12 + static_cast<long>(len);
    frame_buffer_ = std::make_unique<float[]>(header_.frame_values() * kBlockSamples);
}

ReplaySource::~ReplaySource() {
    if (file_) std::fclose(file_);
}

SourceInfo ReplaySource::info() const {
    return SourceInfo{"replay", header_.panels, header_.nominal_frequency};
}

bool ReplaySource::read(SampleBlock& block) {
    const size_t values = header_.frame_values();
    size_t got = std::fread(frame_buffer_.get(), sizeof(float) * values, kBlockSamples, file_);
    if (got < kBlockSamples && loop_ && samples_ + got > 0) {
        std::fseek(file_, data_offset_, SEEK_SET);
        got += std::fread(frame_buffer_.get() + got * values, sizeof(float) * values,
                          kBlockSamples - got, file_);
    }
    if (got == 0) return false;
    block.start_time = static_cast<double>(samples_) / kSampleRate;
    block.count = got;
    block.voltage_clipped = {};
    block.current_clipped = false;
    for (size_t k = 0; k < got; ++k) {
        const float* f = frame_buffer_.get() + k * values;
        for (size_t v = 0; v < kVoltageInputs; ++v)
            block.voltage[v][k] = f[v];
        size_t idx = kVoltageInputs;
        for (size_t p = 0; p < kMaxPanels; ++p) {
            for (size_t c = 0; c < kChannelsPerPanel; ++c) {
                block.current[p][c][k] = static_cast<int>(p) < header_.panels ? f[idx++] : 0.0f;
            }
        }
    }
    samples_ += got;
    return true;
}

RecordingWriter::RecordingWriter(const std::string& path, const RecordingHeader& header)
    : header_(header) {
    file_ = std::fopen(path.c_str(), "wb");
    if (!file_) throw RecordingError("cannot create recording " + path);
    frame_buffer_ = std::make_unique<float[]>(header_.frame_values() * kBlockSamples);
    const std::string json = header_json();
    const auto len = static_cast<uint32_t>(json.size());
    const unsigned char lb[4] = {
        static_cast<unsigned char>(len), static_cast<unsigned char>(len >> 8),
        static_cast<unsigned char>(len >> 16), static_cast<unsigned char>(len >> 24)};
    std::fwrite(kMagic, 1, 8, file_);
    std::fwrite(lb, 1, 4, file_);
    std::fwrite(json.data(), 1, json.size(), file_);
}

RecordingWriter::~RecordingWriter() {
    if (file_) finish();
}

std::string RecordingWriter::header_json() const {
    std::ostringstream os;
    os << "{\"format\":\"openbcpm-recording\",\"version\":1,\"sample_rate\":" << header_.sample_rate
       << ",\"panels\":" << header_.panels
       << ",\"channels_per_panel\":" << header_.channels_per_panel
       << ",\"voltage_inputs\":" << header_.voltage_inputs
       << ",\"nominal_frequency\":" << header_.nominal_frequency
       << ",\"units\":{\"voltage\":\"V\",\"current\":\"A\"},\"frames\":" << std::setw(20)
       << header_.frames << "}";
    std::string s = os.str();
    s.resize(kHeaderBytes, ' ');
    return s;
}

void RecordingWriter::write(const SampleBlock& block) {
    const size_t values = header_.frame_values();
    for (size_t k = 0; k < block.count; ++k) {
        float* f = frame_buffer_.get() + k * values;
        for (size_t v = 0; v < kVoltageInputs; ++v)
            f[v] = block.voltage[v][k];
        size_t idx = kVoltageInputs;
        for (size_t p = 0; p < static_cast<size_t>(header_.panels); ++p) {
            for (size_t c = 0; c < kChannelsPerPanel; ++c)
                f[idx++] = block.current[p][c][k];
        }
    }
    std::fwrite(frame_buffer_.get(), sizeof(float) * values, block.count, file_);
    header_.frames += block.count;
}

void RecordingWriter::finish() {
    if (!file_) return;
    std::fseek(file_, 12, SEEK_SET);
    const std::string json = header_json();
    std::fwrite(json.data(), 1, json.size(), file_);
    std::fclose(file_);
    file_ = nullptr;
}

}  // namespace openbcpm
