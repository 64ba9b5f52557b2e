// The floor of the BACnet/IP benchmark: the least a server can do per
// ReadProperty with one datagram per answer. One thread: recvmmsg of up to 16
// requests, each answered with a fixed Present_Value (a REAL) of the object
// it names, the answers sent with one sendmmsg. No object table, no routing,
// no checks beyond the request's shape: what it costs per request is close
// to the kernel's own cost of a datagram in and a datagram out (on loopback
// the send also delivers the answer to the client and wakes it).
// bench/bacnet/compare.sh prints it beside openbcpm and bacnet-stack. Not a
// server to use: anything but a direct, unsegmented ReadProperty is dropped.
// Usage: bacnet_floor_server PORT
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr size_t kBatch = 16;
constexpr size_t kAnswer = 23;

// The answer to a ReadProperty (BVLC, NPDU without addresses, Complex-ACK),
// or 0 when `r` is not one: BVLC 81 0A, NPDU 01 04 (a reply expected), APDU
// 00 <max> <invoke> 0C, object 0C xx xx xx xx, property 19 <id>.
size_t answer(const uint8_t* r, size_t n, uint8_t* a) {
    if (n < 17 || r[0] != 0x81 || r[1] != 0x0A || r[4] != 0x01 || (r[5] & 0x28) != 0 ||
        (r[6] & 0xF8) != 0x00 || r[9] != 0x0C || r[10] != 0x0C || r[15] != 0x19)
        return 0;
    const uint8_t head[] = {0x81, 0x0A, 0x00, static_cast<uint8_t>(kAnswer), 0x01, 0x00,
                            0x30, r[8], 0x0C};
    std::memcpy(a, head, sizeof head);
    std::memcpy(a + 9, r + 10, 5);  // the object identifier, as asked
    a[14] = 0x19;
    a[15] = r[16];                                                       // the property, as asked
    const uint8_t value[] = {0x3E, 0x44, 0x42, 0x28, 0x00, 0x00, 0x3F};  // [3] REAL 42.0
    std::memcpy(a + 16, value, sizeof value);
    return kAnswer;
}

}  // namespace

int main(int argc, char** argv) {
    const int port = argc > 1 ? std::atoi(argv[1]) : 47999;
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in self{};
    self.sin_family = AF_INET;
    self.sin_port = htons(static_cast<uint16_t>(port));
    self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&self), sizeof self) != 0) {
        std::perror("bacnet_floor_server: bind");
        return 1;
    }
    std::array<std::array<uint8_t, 1600>, kBatch> in{};
    std::array<std::array<uint8_t, kAnswer>, kBatch> out{};
    std::array<sockaddr_in, kBatch> from{};
    std::array<iovec, kBatch> in_iov{};
    std::array<iovec, kBatch> out_iov{};
    std::array<mmsghdr, kBatch> in_msg{};
    std::array<mmsghdr, kBatch> out_msg{};
    for (;;) {
        for (size_t i = 0; i < kBatch; ++i) {
            in_iov[i] = iovec{in[i].data(), in[i].size()};
            in_msg[i] = mmsghdr{};
            in_msg[i].msg_hdr.msg_name = &from[i];
            in_msg[i].msg_hdr.msg_namelen = sizeof from[i];
            in_msg[i].msg_hdr.msg_iov = &in_iov[i];
            in_msg[i].msg_hdr.msg_iovlen = 1;
        }
        // Blocks for the first datagram, then takes what else is there.
        const int n = recvmmsg(fd, in_msg.data(), kBatch, MSG_WAITFORONE, nullptr);
        if (n < 0) {
            if (errno == EINTR) continue;
            std::perror("bacnet_floor_server: recvmmsg");
            return 1;
        }
        size_t count = 0;
        for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
            const size_t size = answer(in[i].data(), in_msg[i].msg_len, out[count].data());
            if (size == 0) continue;
            out_iov[count] = iovec{out[count].data(), size};
            out_msg[count] = mmsghdr{};
            out_msg[count].msg_hdr.msg_name = &from[i];
            out_msg[count].msg_hdr.msg_namelen = in_msg[i].msg_hdr.msg_namelen;
            out_msg[count].msg_hdr.msg_iov = &out_iov[count];
            out_msg[count].msg_hdr.msg_iovlen = 1;
            ++count;
        }
        if (count) sendmmsg(fd, out_msg.data(), static_cast<unsigned>(count), 0);
    }
}
