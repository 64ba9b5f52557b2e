// libFuzzer: the TOML configuration parser and its validation. Anything is
// either a Config or a ConfigError; nothing else may escape.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        openbcpm::parse_config(std::string_view(reinterpret_cast<const char*>(data), size),
                               "fuzz.toml");
    } catch (const openbcpm::ConfigError&) {
    }
    return 0;
}
