// The files the meter keeps: the state directory 0700, the database (and its
// WAL, shared memory and backups), the password and key files 0600 from their
// creation; initial-admin-password gone once the admin password is changed.
// A configuration file that cannot be read: exit 2 with its path and reason.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "storage_meter.hpp"

using namespace openbcpm::test;
namespace fs = std::filesystem;

namespace {
unsigned mode_of(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return 07777;
    return st.st_mode & 07777;
}
}  // namespace

TEST(StorageFiles, StateIsPrivateAndTheLabelPasswordGoesWhenChanged) {
    TempDir dir;
    const fs::path state = dir.path / "state";
    StorageMeter m(dir.path, state);
    ASSERT_TRUE(m.ready()) << m.log();
    EXPECT_EQ(mode_of(state), 0700u);
    for (const char* f : {"openbcpm.db", "openbcpm.db-wal", "openbcpm.db-shm",
                          "initial-admin-password", "web/self-signed-key.pem"})
        EXPECT_EQ(mode_of(state / f), 0600u) << f;
    std::string password;
    std::ifstream(state / "initial-admin-password") >> password;
    const HttpReply r = m.web_post("/api/password", {{"current", password},
                                                     {"password", "Fresh-Label-2026!"},
                                                     {"confirm", "Fresh-Label-2026!"}});
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_FALSE(fs::exists(state / "initial-admin-password"));
    ASSERT_EQ(m.stop(), 0) << m.log();
    EXPECT_EQ(mode_of(state / "openbcpm.db.backup"), 0600u);
}

TEST(StorageFiles, AConfigFileThatCannotBeReadExitsTwoWithItsPathAndReason) {
    TempDir dir;
    std::string out;
    const std::string missing = (dir.path / "no-such.toml").string();
    EXPECT_EQ(
        run({binary(), "run", "--config", missing, "--state-dir", (dir.path / "state").string()},
            &out, dir.path),
        2);
    EXPECT_NE(out.find(missing + ": cannot open the file: No such file or directory"),
              std::string::npos)
        << out;
    EXPECT_FALSE(fs::exists(dir.path / "state")) << "nothing is created for a refused start";
    EXPECT_EQ(run({binary(), "simulate", "--seconds", "1", "--config", dir.path.string()}, &out,
                  dir.path),
              2);
    EXPECT_NE(out.find(dir.path.string() + ": cannot read the file: it is a directory"),
              std::string::npos)
        << out;
}
