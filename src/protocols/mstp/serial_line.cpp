// termios2 lets Linux run a UART at any baud rate (BOTHER); kept apart
// because <asm/termbits.h> and <termios.h> cannot be included together.
#include <asm/termbits.h>
#include <linux/serial.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace openbcpm::mstp {

void set_mstp_line(int fd, uint32_t baud) {
    struct termios2 tio {};
    if (ioctl(fd, TCGETS2, &tio) != 0)
        throw std::system_error(errno, std::generic_category(), "TCGETS2");
    // Raw octets: no flow control, no translation, no echo, no signals.
    tio.c_iflag &= ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
                                          ICRNL | IXON | IXOFF | IXANY | INPCK);
    tio.c_oflag &= ~static_cast<tcflag_t>(OPOST);
    tio.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    // MS/TP is always 8N1 (clause 9.2; the guide: parity NONE, fixed).
    tio.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | PARODD | CSTOPB | CBAUD | CRTSCTS);
    tio.c_cflag |= CS8 | CREAD | CLOCAL | BOTHER;
    tio.c_ispeed = baud;
    tio.c_ospeed = baud;
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    if (ioctl(fd, TCSETS2, &tio) != 0)
        throw std::system_error(errno, std::generic_category(), "TCSETS2");
}

void set_rs485_rts(int fd) {
    struct serial_rs485 rs {};
    rs.flags = SER_RS485_ENABLED | SER_RS485_RTS_ON_SEND;
    // T_postdrive is a maximum (15 bit times after the last stop bit): the
    // driver goes off as soon as the transmitter is empty, with no delay.
    rs.delay_rts_before_send = 0;
    rs.delay_rts_after_send = 0;
    if (ioctl(fd, TIOCSRS485, &rs) != 0)
        throw std::system_error(errno, std::generic_category(), "TIOCSRS485");
}

}  // namespace openbcpm::mstp
