// Modbus TCP load tool: N masters, each on its own connection with one request
// in flight, read holding registers back to back for a fixed time; prints
// requests per second, the p50/p99 latency and the tool's own CPU time.
// Usage: modbus_load PORT CLIENTS SECONDS [UNIT] [ADDRESS] [QUANTITY]
//
// One thread and epoll drive every connection, the request bytes are built
// once per connection and latencies go into a fixed histogram: the tool costs
// a send and a receive per request, so that on a small machine it takes as
// little of the CPU the servers under test share with it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

namespace {

uint64_t now_ns() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<uint64_t>(t.tv_sec) * 1000000000u + static_cast<uint64_t>(t.tv_nsec);
}

struct Connection {
    int fd = -1;
    uint16_t transaction = 0;
    std::array<uint8_t, 12> request{};
    std::array<uint8_t, 512> in{};
    size_t have = 0;
    uint64_t sent_at = 0;
};

// Latency histogram: 1 us buckets up to 100 ms, the rest in the last bucket.
constexpr size_t kBuckets = 100000;

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr,
                     "usage: modbus_load PORT CLIENTS SECONDS [UNIT] [ADDRESS] [QUANTITY]\n");
        return 2;
    }
    const int port = std::atoi(argv[1]);
    const int clients = std::atoi(argv[2]);
    const double seconds = std::atof(argv[3]);
    const int unit = argc > 4 ? std::atoi(argv[4]) : 1;
    const int address = argc > 5 ? std::atoi(argv[5]) : 1999;  // registers 2000..: channel floats
    const int quantity = argc > 6 ? std::atoi(argv[6]) : 125;
    if (clients < 1 || quantity < 1 || quantity > 125) return 2;
    const size_t answer_size = 9 + 2 * static_cast<size_t>(quantity);

    const int ep = epoll_create1(0);
    std::vector<Connection> conns(static_cast<size_t>(clients));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (size_t i = 0; i < conns.size(); ++i) {
        Connection& c = conns[i];
        c.fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c.fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
            std::perror("connect");
            return 1;
        }
        const int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c.request = {0,
                     0,
                     0,
                     0,
                     0,
                     6,
                     static_cast<uint8_t>(unit),
                     3,
                     static_cast<uint8_t>(address >> 8),
                     static_cast<uint8_t>(address & 0xFF),
                     0,
                     static_cast<uint8_t>(quantity)};
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.u64 = i;
        epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &e);
    }

    std::vector<uint32_t> histogram(kBuckets, 0);
    uint64_t done = 0, errors = 0, max_ns = 0;
    auto send_request = [&](Connection& c) {
        ++c.transaction;
        c.request[0] = static_cast<uint8_t>(c.transaction >> 8);
        c.request[1] = static_cast<uint8_t>(c.transaction & 0xFF);
        c.sent_at = now_ns();
        if (send(c.fd, c.request.data(), c.request.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(c.request.size()))
            ++errors;
    };

    const double cpu0 = cpu_seconds();
    const uint64_t start = now_ns();
    const uint64_t end = start + static_cast<uint64_t>(seconds * 1e9);
    for (Connection& c : conns)
        send_request(c);
    std::array<epoll_event, 256> events{};
    size_t open = conns.size();
    bool running = true;
    while (open > 0) {
        const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
        if (n < 0 && errno != EINTR) break;
        const uint64_t t = now_ns();
        if (t >= end) running = false;
        for (int k = 0; k < n; ++k) {
            Connection& c = conns[events[static_cast<size_t>(k)].data.u64];
            const ssize_t r = recv(c.fd, c.in.data() + c.have, c.in.size() - c.have, 0);
            if (r <= 0) {
                if (r < 0 && errno == EINTR) continue;
                ++errors;
                close(c.fd);
                c.fd = -1;
                --open;
                continue;
            }
            c.have += static_cast<size_t>(r);
            if (c.have < 6) continue;
            const size_t adu = 6 + (size_t{c.in[4]} << 8 | c.in[5]);
            if (c.have < adu) continue;
            const bool ok = adu == answer_size && c.in[7] == 3 &&
                            c.in[0] == static_cast<uint8_t>(c.transaction >> 8) &&
                            c.in[1] == static_cast<uint8_t>(c.transaction & 0xFF);
            if (!ok) ++errors;
            c.have -= adu;
            if (c.have) std::memmove(c.in.data(), c.in.data() + adu, c.have);
            const uint64_t lat = t - c.sent_at;
            ++histogram[std::min<uint64_t>(lat / 1000, kBuckets - 1)];
            if (lat > max_ns) max_ns = lat;
            ++done;
            if (running) {
                send_request(c);
            } else {
                close(c.fd);
                c.fd = -1;
                --open;
            }
        }
    }
    const double elapsed = static_cast<double>(now_ns() - start) / 1e9;
    const double cpu = cpu_seconds() - cpu0;
    auto pct = [&](double p) {
        const auto want = static_cast<uint64_t>(p * static_cast<double>(done));
        uint64_t seen = 0;
        for (size_t b = 0; b < kBuckets; ++b) {
            seen += histogram[b];
            if (seen > want) return static_cast<double>(b);
        }
        return static_cast<double>(kBuckets);
    };
    std::printf(
        "clients %d: %.0f req/s, p50 %.0f us, p99 %.0f us, max %.0f us, errors %llu, "
        "requests %llu, load tool CPU %.2f us/req\n",
        clients, static_cast<double>(done) / elapsed, pct(0.50), pct(0.99),
        static_cast<double>(max_ns) / 1e3, static_cast<unsigned long long>(errors),
        static_cast<unsigned long long>(done), done ? cpu * 1e6 / static_cast<double>(done) : 0.0);
    return errors == 0 ? 0 : 1;
}
