// Replays the committed fuzz corpus through the fuzz target's harness, so
// that an input once found interesting keeps being exercised by ctest.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "../../fuzz/mstp/mstp_fuzz_harness.hpp"

TEST(MstpFuzzCorpus, ReplaysWithoutFault) {
    const std::filesystem::path dir = MSTP_CORPUS_DIR;
    ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
    openbcpm::mstp::fuzzing::Harness harness;
    size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (!entry.is_regular_file()) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        const std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                                        std::istreambuf_iterator<char>());
        harness.run(data);
        ++files;
    }
    EXPECT_GE(files, 10U);
}
