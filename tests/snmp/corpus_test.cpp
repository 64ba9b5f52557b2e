// Replays the committed fuzz seed corpus through the fuzz target's checks in
// the ordinary test build (the target aborts on any violated invariant).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

TEST(SnmpFuzzCorpus, EverySeedPassesTheFuzzChecks) {
    const std::filesystem::path dir = OPENBCPM_SNMP_CORPUS;
    size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::ifstream in(entry.path(), std::ios::binary);
        const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                         std::istreambuf_iterator<char>());
        SCOPED_TRACE(entry.path().filename().string());
        EXPECT_EQ(LLVMFuzzerTestOneInput(bytes.data(), bytes.size()), 0);
        ++n;
    }
    EXPECT_GE(n, 20u);
}
