// The floor of the Modbus benchmark: the least a Modbus TCP server can do per
// request with the socket API. One epoll thread; for each readable connection
// one recv, every complete Read Holding Registers request in it answered
// from a plain table, the answers sent with one send. No bounds on
// buffering, no exceptions, no meter: what it costs per request is close to
// the kernel's own cost (the TCP receive and send, which on loopback also
// delivers the answer to the master and wakes it). A server doing real work
// cannot go below it; bench/modbus/run.sh prints it beside openbcpm and
// libmodbus. Not a server to use: anything but FC 3 closes the connection.
// Usage: floor_server PORT
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

struct Connection {
    int fd = -1;
    std::array<uint8_t, 4096> in{};
    size_t have = 0;
    std::vector<uint8_t> out;
};

// Answers the complete requests at the start of `c.in` into `c.out`; false
// when one is not a Read Holding Registers request of 1..125 registers.
bool answer(Connection& c, const std::array<uint16_t, 10000>& table) {
    size_t used = 0;
    while (c.have - used >= 12) {
        const uint8_t* r = c.in.data() + used;
        const auto address = static_cast<size_t>(r[8] << 8 | r[9]);
        const auto quantity = static_cast<size_t>(r[10] << 8 | r[11]);
        if (r[7] != 3 || quantity < 1 || quantity > 125 || address + quantity > table.size())
            return false;
        const size_t at = c.out.size();
        c.out.resize(at + 9 + 2 * quantity);
        uint8_t* a = c.out.data() + at;
        std::memcpy(a, r, 4);  // transaction and protocol
        const auto length = static_cast<uint16_t>(3 + 2 * quantity);
        a[4] = static_cast<uint8_t>(length >> 8);
        a[5] = static_cast<uint8_t>(length & 0xFF);
        a[6] = r[6];
        a[7] = 3;
        a[8] = static_cast<uint8_t>(2 * quantity);
        for (size_t i = 0; i < quantity; ++i) {
            a[9 + 2 * i] = static_cast<uint8_t>(table[address + i] >> 8);
            a[10 + 2 * i] = static_cast<uint8_t>(table[address + i] & 0xFF);
        }
        used += 12;
    }
    c.have -= used;
    if (c.have) std::memmove(c.in.data(), c.in.data() + used, c.have);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    const int port = argc > 1 ? std::atoi(argv[1]) : 1504;
    std::array<uint16_t, 10000> table{};
    for (size_t i = 0; i < table.size(); ++i)
        table[i] = static_cast<uint16_t>(i);
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    const int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(listener, 128) != 0) {
        std::perror("floor_server: bind/listen");
        return 1;
    }
    const int ep = epoll_create1(0);
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.ptr = nullptr;  // the listener
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &e);
    std::array<epoll_event, 256> events{};
    for (;;) {
        const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
        for (int i = 0; i < n; ++i) {
            auto* c = static_cast<Connection*>(events[static_cast<size_t>(i)].data.ptr);
            if (!c) {
                const int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
                if (fd < 0) continue;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                auto* fresh = new Connection;
                fresh->fd = fd;
                fresh->out.reserve(64 * 1024);
                epoll_event ce{};
                ce.events = EPOLLIN;
                ce.data.ptr = fresh;
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce);
                continue;
            }
            const ssize_t got = recv(c->fd, c->in.data() + c->have, c->in.size() - c->have, 0);
            bool ok = got > 0;
            if (ok) {
                c->have += static_cast<size_t>(got);
                ok = answer(*c, table);
            }
            // Blocking is not an option here: the answers of a Modbus
            // benchmark always fit in the socket's buffer.
            if (ok && !c->out.empty())
                ok = send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL) ==
                     static_cast<ssize_t>(c->out.size());
            c->out.clear();
            if (!ok && !(got < 0 && errno == EAGAIN)) {
                close(c->fd);
                delete c;
            }
        }
    }
}
