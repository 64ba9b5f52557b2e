"""MS/TP on the wire for the tests, written apart from the C++ node so that
the two check each other: CRCs (ASHRAE 135 clause 9 and Annex G), frame
encoding, a receive state machine fed octet by octet, and a pcap writer
(LINKTYPE_BACNET_MS_TP, 165) so that Wireshark's dissector can judge the
frames too."""

import struct
import time

TOKEN = 0
POLL_FOR_MASTER = 1
REPLY_TO_POLL_FOR_MASTER = 2
TEST_REQUEST = 3
TEST_RESPONSE = 4
DATA_EXPECTING_REPLY = 5
DATA_NOT_EXPECTING_REPLY = 6
REPLY_POSTPONED = 7
BROADCAST = 255
MAX_DATA = 501

FRAME_NAMES = {
    TOKEN: "Token",
    POLL_FOR_MASTER: "PFM",
    REPLY_TO_POLL_FOR_MASTER: "ReplyToPFM",
    TEST_REQUEST: "TestRequest",
    TEST_RESPONSE: "TestResponse",
    DATA_EXPECTING_REPLY: "DER",
    DATA_NOT_EXPECTING_REPLY: "DNER",
    REPLY_POSTPONED: "ReplyPostponed",
}


def _crc8_step(crc, octet):
    # x^8 + x^7 + 1, least significant bit first.
    crc ^= octet
    for _ in range(8):
        crc = (crc >> 1) ^ 0x81 if crc & 1 else crc >> 1
    return crc


def _crc16_step(crc, octet):
    # CRC-CCITT x^16 + x^12 + x^5 + 1, least significant bit first.
    crc ^= octet
    for _ in range(8):
        crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def header_crc(header5):
    crc = 0xFF
    for o in header5:
        crc = _crc8_step(crc, o)
    return (~crc) & 0xFF


def data_crc(data):
    crc = 0xFFFF
    for o in data:
        crc = _crc16_step(crc, o)
    return (~crc) & 0xFFFF


def encode(frame_type, destination, source, data=b""):
    data = bytes(data)
    if len(data) > MAX_DATA:
        raise ValueError("MS/TP data above 501 octets")
    header = bytes([frame_type, destination, source, len(data) >> 8, len(data) & 0xFF])
    out = b"\x55\xff" + header + bytes([header_crc(header)])
    if data:
        crc = data_crc(data)
        out += data + bytes([crc & 0xFF, crc >> 8])
    return out


class Frame:
    __slots__ = ("type", "destination", "source", "data")

    def __init__(self, frame_type, destination, source, data=b""):
        self.type = frame_type
        self.destination = destination
        self.source = source
        self.data = bytes(data)

    def wire(self):
        return encode(self.type, self.destination, self.source, self.data)

    def __repr__(self):
        name = FRAME_NAMES.get(self.type, "type%d" % self.type)
        return "%s %d->%d len=%d" % (name, self.source, self.destination, len(self.data))


class Receiver:
    """Receive frame state machine: IDLE, PREAMBLE, HEADER, DATA, SKIP_DATA.
    feed() returns ('valid', Frame), ('invalid', reason), ('notforus', Frame)
    or None. station=None takes every frame (a sniffer)."""

    def __init__(self, station=None, max_data=MAX_DATA):
        self.station = station
        self.max_data = max_data
        self.state = "idle"
        self.octets = 0
        self._reset()

    def _reset(self):
        self.header = []
        self.data = bytearray()
        self.crc8 = 0xFF
        self.crc16 = 0xFFFF
        self.length = 0
        self.index = 0
        self.skip = 0

    def in_frame(self):
        return self.state != "idle"

    def timeout(self):
        body = self.state in ("header", "data")
        self.state = "idle"
        self._reset()
        return ("invalid", "aborted") if body else None

    def feed(self, o):
        self.octets += 1
        s = self.state
        if s == "idle":
            if o == 0x55:
                self.state = "preamble"
            return None
        if s == "preamble":
            if o == 0xFF:
                self._reset()
                self.state = "header"
            elif o != 0x55:
                self.state = "idle"
            return None
        if s == "header":
            self.crc8 = _crc8_step(self.crc8, o)
            self.header.append(o)
            if len(self.header) < 6:
                return None
            t, dst, src, lhi, llo, _ = self.header
            self.length = (lhi << 8) | llo
            self.state = "idle"
            if self.crc8 != 0x55:
                return ("invalid", "header crc")
            frame = Frame(t, dst, src)
            wanted = self.station is None or dst in (self.station, BROADCAST)
            if not wanted:
                if self.length:
                    self.state, self.skip = "skip", self.length + 2
                return ("notforus", frame)
            if self.length == 0:
                return ("valid", frame)
            if self.length > self.max_data:
                self.state, self.skip = "skip", self.length + 2
                return ("invalid", "too long")
            self.frame = frame
            self.state = "data"
            self.index = 0
            return None
        if s == "data":
            self.crc16 = _crc16_step(self.crc16, o)
            if self.index < self.length:
                self.data.append(o)
            self.index += 1
            if self.index < self.length + 2:
                return None
            self.state = "idle"
            if self.crc16 != 0xF0B8:
                return ("invalid", "data crc")
            self.frame.data = bytes(self.data)
            return ("valid", self.frame)
        if s == "skip":
            self.skip -= 1
            if self.skip == 0:
                self.state = "idle"
            return None
        raise AssertionError(s)


class PcapWriter:
    """Frames, preamble included, as LINKTYPE_BACNET_MS_TP packets."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 165))
        self.wall0 = time.time()

    def write(self, t, octets):
        # t is the loop's monotonic time; the capture shows wall clock.
        stamp = self.wall0 + t
        sec = int(stamp)
        usec = int((stamp - sec) * 1e6)
        self.f.write(struct.pack("<IIII", sec, usec, len(octets), len(octets)))
        self.f.write(octets)
        self.f.flush()

    def close(self):
        self.f.close()
