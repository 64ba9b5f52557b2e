// termios2 lets Linux run a UART at any baud rate (BOTHER); kept apart because
// <asm/termbits.h> and <termios.h> cannot be included together.
#include <asm/termbits.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <system_error>

#include "core/settings.hpp"

namespace openbcpm::modbus {

void set_serial_line(int fd, int baud, Parity parity) {
    struct termios2 tio {};
    if (ioctl(fd, TCGETS2, &tio) != 0)
        throw std::system_error(errno, std::generic_category(), "TCGETS2");
    // Raw 8-bit characters, one stop bit, the parity the settings ask for.
    tio.c_iflag &= ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
                                          ICRNL | IXON | IXOFF);
    tio.c_oflag &= ~static_cast<tcflag_t>(OPOST);
    tio.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    tio.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | PARODD | CSTOPB | CBAUD | CRTSCTS);
    tio.c_cflag |= CS8 | CREAD | CLOCAL | BOTHER;
    if (parity == Parity::Even) tio.c_cflag |= PARENB;
    if (parity == Parity::Odd) tio.c_cflag |= PARENB | PARODD;
    tio.c_ispeed = static_cast<speed_t>(baud);
    tio.c_ospeed = static_cast<speed_t>(baud);
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    if (ioctl(fd, TCSETS2, &tio) != 0)
        throw std::system_error(errno, std::generic_category(), "TCSETS2");
}

}  // namespace openbcpm::modbus
