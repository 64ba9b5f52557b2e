// A full disk under the state directory: every face's write of a setting is
// refused with that protocol's own error and changes nothing, every face
// still reads the old value, the meter stays up and says "storage failing"
// (Device Health bit 9, GET /api/storage) while checkpoints fail; once space
// is freed writes work again and the flag clears. The disk is a small tmpfs
// this test mounts (CI runs as root) and unmounts, even when a check fails.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "storage_meter.hpp"

using namespace openbcpm::test;

namespace {

constexpr uint16_t kStorageFailingBit = 1u << 9;  // Device Health (register 532)

class Tmpfs {
  public:
    explicit Tmpfs(const std::filesystem::path& at) : at_(at) {
        std::filesystem::create_directories(at_);
        mounted_ = ::mount("tmpfs", at_.c_str(), "tmpfs", 0, "size=4m,mode=0755") == 0;
    }
    ~Tmpfs() {
        if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
    }
    Tmpfs(const Tmpfs&) = delete;
    Tmpfs& operator=(const Tmpfs&) = delete;
    bool mounted() const { return mounted_; }
    // Writes a file until the file system has no block left.
    void fill() {
        std::FILE* f = std::fopen((at_ / "filler").c_str(), "ab");
        std::vector<char> chunk(4096, 'x');
        while (std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size() &&
               std::fflush(f) == 0) {
        }
        std::fclose(f);
        // The last partial block too.
        f = std::fopen((at_ / "filler2").c_str(), "ab");
        while (std::fputc('x', f) != EOF && std::fflush(f) == 0) {
        }
        std::fclose(f);
    }
    void free() {
        std::filesystem::remove(at_ / "filler");
        std::filesystem::remove(at_ / "filler2");
    }

  private:
    std::filesystem::path at_;
    bool mounted_ = false;
};

template <class F>
bool eventually(F&& f, std::chrono::milliseconds within) {
    const auto end = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < end) {
        if (f()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return f();
}

// The same value on every face.
void expect_everywhere(StorageMeter& m, int value) {
    EXPECT_EQ(m.modbus_read(kDemandRegister), value) << "Modbus";
    EXPECT_EQ(m.snmp_get(), value) << "SNMP";
    EXPECT_EQ(m.bacnet_read(), static_cast<double>(value)) << "BACnet";
    EXPECT_EQ(m.web_read(), value) << "web";
}

}  // namespace

TEST(DiskFull, EveryFacesWriteIsRefusedChangesNothingAndWorksAgainWhenSpaceIsFreed) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs (CI runs as root)";
    TempDir dir;
    Tmpfs disk(dir.path / "disk");
    ASSERT_TRUE(disk.mounted()) << "mount tmpfs: " << std::strerror(errno);
    StorageMeter m(dir.path, dir.path / "disk" / "state");
    ASSERT_TRUE(m.ready()) << m.log();

    // Storage works: a write through Modbus is stored.
    ASSERT_EQ(m.modbus_write(kDemandRegister, {2}), 0);
    expect_everywhere(m, 2);

    disk.fill();
    // The next energy checkpoint cannot be stored: the meter says so, on every panel.
    ASSERT_TRUE(
        eventually([&] { return (m.modbus_read(532).value_or(0) & kStorageFailingBit) != 0; },
                   std::chrono::seconds(10)))
        << m.log();
    const auto failing = m.web_get("/api/storage").json();
    EXPECT_EQ(failing.value("state", ""), "failing") << failing.dump();

    // Every face's write is refused with its own error.
    EXPECT_EQ(m.modbus_write(kDemandRegister, {4}), 4) << "FC06: server device failure";
    EXPECT_EQ(m.modbus_write(kDemandRegister, {4, 300}), 4) << "FC16: server device failure";
    const std::string snmp = m.snmp_set(4);
    EXPECT_NE(snmp.find("commitFailed"), std::string::npos) << snmp;
    const std::string bacnet = m.bacnet_write(4);
    EXPECT_NE(bacnet.find("Class:3 - Code:20"), std::string::npos)
        << "resources, no-space-to-write-property: " << bacnet;
    const HttpReply web = m.web_settings(4);
    EXPECT_EQ(web.status, 503u) << web.body;
    EXPECT_NE(web.body.find("nothing was changed"), std::string::npos) << web.body;

    // Nothing changed, on any face, and the meter is still there.
    expect_everywhere(m, 2);
    EXPECT_EQ(m.modbus_read(72), 900) << "FC16's second register is unchanged too";
    EXPECT_TRUE(m.alive());

    disk.free();
    ASSERT_TRUE(eventually(
        [&] { return (m.modbus_read(532).value_or(kStorageFailingBit) & kStorageFailingBit) == 0; },
        std::chrono::seconds(10)))
        << m.log();
    EXPECT_EQ(m.web_get("/api/storage").json().value("state", ""), "ok");

    // Writes work again on every face.
    EXPECT_EQ(m.modbus_write(kDemandRegister, {4}), 0);
    expect_everywhere(m, 4);
    const std::string set = m.snmp_set(5);
    EXPECT_EQ(set.find("Error"), std::string::npos) << set;
    EXPECT_EQ(m.bacnet_write(6), "");
    EXPECT_EQ(m.web_settings(3).status, 200u);
    expect_everywhere(m, 3);
    const std::string log = m.log();
    EXPECT_NE(log.find("storage failing"), std::string::npos);
    EXPECT_NE(log.find("storage recovered"), std::string::npos);
    EXPECT_EQ(m.stop(), 0) << log;
}
