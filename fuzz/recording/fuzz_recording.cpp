// libFuzzer: the replay recording format (header and frames) read from a file.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "sources/replay.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string path =
        "/tmp/openbcpm-fuzz-recording-" + std::to_string(getpid()) + ".obr";
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    try {
        openbcpm::ReplaySource replay(path, false);
        auto block = std::make_unique<openbcpm::SampleBlock>();
        for (int i = 0; i < 4 && replay.read(*block); ++i) {
        }
    } catch (const openbcpm::RecordingError&) {
    }
    return 0;
}
