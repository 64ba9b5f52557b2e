// The reference point of the Modbus benchmark: a minimal Modbus TCP server on
// libmodbus (select() over many clients, a plain register table), on 127.0.0.1.
// Usage: libmodbus_server PORT
#include <modbus/modbus.h>
#include <sys/select.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    const int port = argc > 1 ? std::atoi(argv[1]) : 1503;
    modbus_t* ctx = modbus_new_tcp("127.0.0.1", port);
    modbus_mapping_t* map = modbus_mapping_new(0, 0, 10000, 10000);
    for (int i = 0; i < 10000; ++i)
        map->tab_registers[i] = static_cast<uint16_t>(i);
    const int listener = modbus_tcp_listen(ctx, 128);
    if (listener < 0) {
        std::perror("listen");
        return 1;
    }
    fd_set all;
    FD_ZERO(&all);
    FD_SET(listener, &all);
    int max_fd = listener;
    uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    for (;;) {
        fd_set ready = all;
        if (select(max_fd + 1, &ready, nullptr, nullptr, nullptr) < 0) return 1;
        for (int fd = 0; fd <= max_fd; ++fd) {
            if (!FD_ISSET(fd, &ready)) continue;
            if (fd == listener) {
                const int client = modbus_tcp_accept(ctx, const_cast<int*>(&listener));
                if (client >= 0) {
                    FD_SET(client, &all);
                    if (client > max_fd) max_fd = client;
                }
                continue;
            }
            modbus_set_socket(ctx, fd);
            const int rc = modbus_receive(ctx, query);
            if (rc > 0) {
                modbus_reply(ctx, query, rc, map);
            } else if (rc == -1) {
                close(fd);
                FD_CLR(fd, &all);
            }
        }
    }
}
