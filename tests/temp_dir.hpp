// A scratch directory for one test under /tmp, removed with its contents
// when the test is done.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace openbcpm::test {

struct TempDir {
    TempDir() {
        char tmpl[] = "/tmp/openbcpm-test-XXXXXX";
        if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ignored;  // nothing may escape a destructor
        std::filesystem::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::filesystem::path path;
};

}  // namespace openbcpm::test
