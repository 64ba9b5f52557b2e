// The site poller of the fleet benchmark: one Modbus TCP connection to each of
// COUNT meters (FIRST, FIRST+1, ...), over which both panels of every meter
// (unit U and U+1) are read, QUANTITY holding registers from ADDRESS, once
// every PERIOD seconds each; the 2 x COUNT reads of a period are spread evenly
// over it (one every PERIOD / (2 x COUNT)), as a BMS polling a site does.
// A read is sent when it is due, whether or not the one before it on the same
// connection has been answered (the face answers in order).
//
// Per read, on CLOCK_MONOTONIC: latency = answer received - read due (so a
// late send counts against the figure, not hidden), how late the send was, and
// the latency from the send (the meter's part when the tool itself is late).
// A read is missed when it gets no answer with the expected 2 x QUANTITY
// bytes, or an exception, or its answer comes a whole PERIOD after it was due
// (the next read of that panel is then due). Prints, for the run:
//   polls N answered N missed N p50 X ms p99 X ms p999 X ms max X ms over-50ms N
//   send-lag-max X ms; from the send: p99 X ms max X ms; tool-cpu X s
// Usage: fleet_poll FIRST COUNT PORT SECONDS [PERIOD] [UNIT] [ADDRESS] [QUANTITY]
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
#include <deque>
#include <vector>

namespace {

int64_t now_ns() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

struct Pending {
    uint16_t transaction;
    int64_t due;
    int64_t sent;
};

struct Meter {
    int fd = -1;
    uint16_t transaction = 0;
    std::deque<Pending> pending;
    std::array<uint8_t, 4096> in{};
    size_t have = 0;
};

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double ms(int64_t ns) {
    return static_cast<double>(ns) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr,
                     "usage: fleet_poll FIRST COUNT PORT SECONDS [PERIOD] [UNIT] [ADDRESS] "
                     "[QUANTITY]\n");
        return 2;
    }
    in_addr first{};
    if (inet_pton(AF_INET, argv[1], &first) != 1) return 2;
    const int count = std::atoi(argv[2]);
    const int port = std::atoi(argv[3]);
    const double seconds = std::atof(argv[4]);
    const double period_s = argc > 5 ? std::atof(argv[5]) : 5.0;
    const int unit = argc > 6 ? std::atoi(argv[6]) : 1;
    const int address = argc > 7 ? std::atoi(argv[7]) : 1999;  // registers 2000..: channel floats
    const int quantity = argc > 8 ? std::atoi(argv[8]) : 125;
    if (count < 1 || quantity < 1 || quantity > 125 || period_s <= 0 || unit < 1 || unit > 246)
        return 2;
    const size_t answer_size = 9 + 2 * static_cast<size_t>(quantity);
    const int64_t period = static_cast<int64_t>(period_s * 1e9);
    const int64_t reads_per_period = 2 * static_cast<int64_t>(count);

    const int ep = epoll_create1(0);
    std::vector<Meter> meters(static_cast<size_t>(count));
    for (size_t k = 0; k < meters.size(); ++k) {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<uint16_t>(port));
        to.sin_addr.s_addr = htonl(ntohl(first.s_addr) + static_cast<uint32_t>(k));
        Meter& m = meters[k];
        m.fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(m.fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
            char text[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &to.sin_addr, text, sizeof text);
            std::fprintf(stderr, "connect %s:%d: %s\n", text, port, std::strerror(errno));
            return 1;
        }
        const int one = 1;
        setsockopt(m.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.u64 = k;
        epoll_ctl(ep, EPOLL_CTL_ADD, m.fd, &e);
    }

    std::vector<int64_t> latency, from_send;
    latency.reserve(
        static_cast<size_t>(reads_per_period * static_cast<int64_t>(seconds / period_s + 2)));
    uint64_t polls = 0, missed = 0;
    int64_t send_lag_max = 0;
    auto close_meter = [&](Meter& m) {
        missed += m.pending.size();
        m.pending.clear();
        if (m.fd >= 0) close(m.fd);
        m.fd = -1;
    };

    const double cpu0 = cpu_seconds();
    const int64_t start = now_ns() + 10'000'000;
    const int64_t total = static_cast<int64_t>(seconds / period_s) * reads_per_period;
    int64_t next = 0;  // index of the next read to send: due at start + next * period / reads
    auto due_of = [&](int64_t i) { return start + i * period / reads_per_period; };
    std::array<epoll_event, 256> events{};
    for (;;) {
        int64_t t = now_ns();
        while (next < total && due_of(next) <= t) {
            const int64_t due = due_of(next);
            Meter& m = meters[static_cast<size_t>((next % reads_per_period) / 2)];
            const int u = unit + static_cast<int>(next % 2);
            ++next;
            ++polls;
            if (m.fd < 0) {
                ++missed;
                continue;
            }
            ++m.transaction;
            const std::array<uint8_t, 12> request{static_cast<uint8_t>(m.transaction >> 8),
                                                  static_cast<uint8_t>(m.transaction & 0xFF),
                                                  0,
                                                  0,
                                                  0,
                                                  6,
                                                  static_cast<uint8_t>(u),
                                                  3,
                                                  static_cast<uint8_t>(address >> 8),
                                                  static_cast<uint8_t>(address & 0xFF),
                                                  0,
                                                  static_cast<uint8_t>(quantity)};
            const int64_t sent = now_ns();
            send_lag_max = std::max(send_lag_max, sent - due);
            if (send(m.fd, request.data(), request.size(), MSG_NOSIGNAL) !=
                static_cast<ssize_t>(request.size())) {
                ++missed;
                close_meter(m);
                continue;
            }
            m.pending.push_back({m.transaction, due, sent});
        }
        bool waiting = false;
        for (Meter& m : meters) {
            // An answer a whole period late: missed (and the stream is no longer trusted).
            if (!m.pending.empty() && t - m.pending.front().due > period) close_meter(m);
            waiting = waiting || !m.pending.empty();
        }
        if (next >= total && !waiting) break;
        const int64_t wait_ns = next < total ? std::max<int64_t>(0, due_of(next) - t) : 100'000'000;
        const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()),
                                 static_cast<int>((wait_ns + 999'999) / 1'000'000));
        if (n < 0 && errno != EINTR) break;
        t = now_ns();
        for (int e = 0; e < n; ++e) {
            Meter& m = meters[events[static_cast<size_t>(e)].data.u64];
            if (m.fd < 0) continue;
            const ssize_t r = recv(m.fd, m.in.data() + m.have, m.in.size() - m.have, 0);
            if (r <= 0) {
                if (r < 0 && errno == EINTR) continue;
                close_meter(m);
                continue;
            }
            m.have += static_cast<size_t>(r);
            while (m.have >= 6) {
                const size_t adu = 6 + (size_t{m.in[4]} << 8 | m.in[5]);
                if (m.have < adu) break;
                if (m.pending.empty()) {
                    close_meter(m);  // an answer nothing asked for
                    break;
                }
                const Pending p = m.pending.front();
                m.pending.pop_front();
                const bool ok = adu == answer_size && m.in[7] == 3 &&
                                m.in[8] == static_cast<uint8_t>(2 * quantity) &&
                                m.in[0] == static_cast<uint8_t>(p.transaction >> 8) &&
                                m.in[1] == static_cast<uint8_t>(p.transaction & 0xFF);
                if (ok && t - p.due <= period) {
                    latency.push_back(t - p.due);
                    from_send.push_back(t - p.sent);
                } else
                    ++missed;
                m.have -= adu;
                if (m.have) std::memmove(m.in.data(), m.in.data() + adu, m.have);
            }
        }
    }
    for (Meter& m : meters)
        close_meter(m);
    const double cpu = cpu_seconds() - cpu0;

    std::sort(latency.begin(), latency.end());
    std::sort(from_send.begin(), from_send.end());
    auto pct = [](const std::vector<int64_t>& v, double q) {
        if (v.empty()) return 0.0;
        return ms(v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))]);
    };
    std::printf(
        "polls %llu answered %zu missed %llu p50 %.3f ms p99 %.3f ms p999 %.3f ms max %.3f ms "
        "over-50ms %zu send-lag-max %.3f ms; from the send: p99 %.3f ms max %.3f ms; tool-cpu "
        "%.2f s\n",
        static_cast<unsigned long long>(polls), latency.size(),
        static_cast<unsigned long long>(missed), pct(latency, 0.5), pct(latency, 0.99),
        pct(latency, 0.999), latency.empty() ? 0.0 : ms(latency.back()),
        static_cast<size_t>(latency.end() -
                            std::upper_bound(latency.begin(), latency.end(), int64_t{50'000'000})),
        ms(send_lag_max), pct(from_send, 0.99), from_send.empty() ? 0.0 : ms(from_send.back()),
        cpu);
    return missed == 0 ? 0 : 1;
}
