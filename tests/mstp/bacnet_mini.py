"""The little of BACnet the MS/TP test masters speak as clients, written for
these tests (apart from the meter's C++ codec): NPDU with DNET/DADR and
SNET/SADR, the APDU headers, and the services Who-Is/I-Am, ReadProperty,
WriteProperty, SubscribeCOV and COV notifications (ASHRAE 135 clauses 6, 20, 13, 15, 16)."""

import struct

# Object types and properties used by the tests.
OBJ_ANALOG_INPUT = 0
OBJ_ANALOG_OUTPUT = 1
OBJ_ANALOG_VALUE = 2
OBJ_DEVICE = 8
PROP_MAX_APDU = 62
PROP_MAX_MASTER = 64
PROP_MAX_INFO_FRAMES = 63
PROP_OBJECT_NAME = 77
PROP_PRESENT_VALUE = 85
PROP_STATUS_FLAGS = 111

SVC_CONFIRMED_COV = 1
SVC_SUBSCRIBE_COV = 5
SVC_READ_PROPERTY = 12
SVC_WRITE_PROPERTY = 15
SVC_I_AM = 0
SVC_UNCONFIRMED_COV = 2
SVC_WHO_IS = 8

GLOBAL = 0xFFFF


# --- NPDU (clause 6) ---

def npdu(apdu, dnet=None, dadr=b"", expecting_reply=False, network_message=None):
    control = 0
    if network_message is not None:
        control |= 0x80
    if dnet is not None:
        control |= 0x20
    if expecting_reply:
        control |= 0x04
    out = bytes([0x01, control])
    if dnet is not None:
        out += struct.pack(">HB", dnet, len(dadr)) + bytes(dadr)
        out += b"\xff"  # hop count
    if network_message is not None:
        out += bytes([network_message])
    return out + bytes(apdu)


class Npdu:
    def __init__(self, data):
        if len(data) < 2 or data[0] != 0x01:
            raise ValueError("not an NPDU")
        control = data[1]
        i = 2
        self.dnet = self.dadr = self.snet = self.sadr = None
        if control & 0x20:
            self.dnet, dlen = struct.unpack_from(">HB", data, i)
            i += 3
            self.dadr = bytes(data[i:i + dlen])
            i += dlen
        if control & 0x08:
            self.snet, slen = struct.unpack_from(">HB", data, i)
            i += 3
            self.sadr = bytes(data[i:i + slen])
            i += slen
        if control & 0x20:
            i += 1  # hop count
        self.expecting_reply = bool(control & 0x04)
        self.network_message = None
        if control & 0x80:
            self.network_message = data[i]
            i += 1
        self.payload = bytes(data[i:])


# --- Tags (clause 20.2) ---

def _tag(number, context, length):
    cls = 0x08 if context else 0
    if length <= 4:
        return bytes([(number << 4) | cls | length])
    if length <= 253:
        return bytes([(number << 4) | cls | 5, length])
    return bytes([(number << 4) | cls | 5, 254]) + struct.pack(">H", length)


def _unsigned_bytes(v):
    n = 1
    while v >= 1 << (8 * n):
        n += 1
    return v.to_bytes(n, "big")


def ctx_unsigned(tag, v):
    b = _unsigned_bytes(v)
    return _tag(tag, True, len(b)) + b


def ctx_object(tag, obj_type, instance):
    return _tag(tag, True, 4) + struct.pack(">I", (obj_type << 22) | instance)


def ctx_bool(tag, v):
    return _tag(tag, True, 1) + bytes([1 if v else 0])


def app_real(v):
    return bytes([0x44]) + struct.pack(">f", v)


def app_unsigned(v):
    b = _unsigned_bytes(v)
    return _tag(2, False, len(b)) + b


def opening(tag):
    return bytes([(tag << 4) | 0x0E])


def closing(tag):
    return bytes([(tag << 4) | 0x0F])


def parse_tags(data):
    """A flat list of ('app', number, content) | ('ctx', number, content) |
    ('open', number) | ('close', number)."""
    out = []
    i = 0
    while i < len(data):
        b = data[i]
        i += 1
        number = b >> 4
        if number == 15:
            number = data[i]
            i += 1
        context = bool(b & 0x08)
        lvt = b & 0x07
        if context and lvt == 6:
            out.append(("open", number))
            continue
        if context and lvt == 7:
            out.append(("close", number))
            continue
        if not context and number == 1:  # application boolean: value in the tag
            out.append(("app", 1, bytes([lvt])))
            continue
        length = lvt
        if lvt == 5:
            length = data[i]
            i += 1
            if length == 254:
                length = struct.unpack_from(">H", data, i)[0]
                i += 2
            elif length == 255:
                length = struct.unpack_from(">I", data, i)[0]
                i += 4
        content = bytes(data[i:i + length])
        if len(content) != length:
            raise ValueError("truncated tag")
        i += length
        out.append(("ctx" if context else "app", number, content))
    return out


def app_value(number, content):
    """An application-tagged primitive as a Python value."""
    if number == 0:
        return None
    if number == 1:
        return bool(content[0])
    if number in (2, 9):
        return int.from_bytes(content, "big")
    if number == 3:
        return int.from_bytes(content, "big", signed=True)
    if number == 4:
        return struct.unpack(">f", content)[0]
    if number == 5:
        return struct.unpack(">d", content)[0]
    if number == 7:
        return content[1:].decode("utf-8")
    if number == 8:
        return tuple(bool(content[1 + k // 8] & (0x80 >> (k % 8)))
                     for k in range((len(content) - 1) * 8 - content[0]))
    if number == 12:
        v = int.from_bytes(content, "big")
        return (v >> 22, v & 0x3FFFFF)
    return content


def as_unsigned(content):
    return int.from_bytes(content, "big")


def as_object(content):
    v = int.from_bytes(content, "big")
    return (v >> 22, v & 0x3FFFFF)


# --- APDU (clause 20.1) ---

def confirmed(invoke_id, service, data, max_apdu_code=3):
    # Unsegmented both ways, answers up to 480 octets.
    return bytes([0x00, max_apdu_code, invoke_id, service]) + bytes(data)


def unconfirmed(service, data=b""):
    return bytes([0x10, service]) + bytes(data)


def simple_ack(invoke_id, service):
    return bytes([0x20, invoke_id, service])


class Apdu:
    CONFIRMED, UNCONFIRMED, SIMPLE_ACK, COMPLEX_ACK, SEGMENT_ACK, ERROR, REJECT, ABORT = range(8)

    def __init__(self, data):
        self.type = data[0] >> 4
        self.segmented = bool(data[0] & 0x08) and self.type in (0, 3)
        self.invoke_id = None
        self.service = None
        if self.type == self.CONFIRMED:
            i = 3
            self.invoke_id = data[2]
            if self.segmented:
                i += 2
            self.service = data[i]
            self.data = bytes(data[i + 1:])
        elif self.type == self.UNCONFIRMED:
            self.service = data[1]
            self.data = bytes(data[2:])
        elif self.type in (self.SIMPLE_ACK, self.ERROR):
            self.invoke_id, self.service = data[1], data[2]
            self.data = bytes(data[3:])
        elif self.type == self.COMPLEX_ACK:
            self.invoke_id = data[1]
            i = 2 + (2 if self.segmented else 0)
            self.service = data[i]
            self.data = bytes(data[i + 1:])
        else:
            self.invoke_id = data[1]
            self.data = bytes(data[2:])


# --- Services ---

def who_is(low=None, high=None):
    data = b""
    if low is not None:
        data = ctx_unsigned(0, low) + ctx_unsigned(1, high)
    return unconfirmed(SVC_WHO_IS, data)


def decode_i_am(data):
    tags = parse_tags(data)
    return {
        "device": app_value(12, tags[0][2])[1],
        "max_apdu": as_unsigned(tags[1][2]),
        "segmentation": as_unsigned(tags[2][2]),
        "vendor": as_unsigned(tags[3][2]),
    }


def read_property(obj_type, instance, prop, index=None):
    data = ctx_object(0, obj_type, instance) + ctx_unsigned(1, prop)
    if index is not None:
        data += ctx_unsigned(2, index)
    return data


def decode_read_property_ack(data):
    """The values between tags 3: a list of Python values."""
    values = []
    depth = 0
    for t in parse_tags(data):
        if t[0] == "open":
            depth += 1
            continue
        if t[0] == "close":
            depth -= 1
            continue
        if depth == 1 and t[0] == "app":
            values.append(app_value(t[1], t[2]))
    return values


def write_property(obj_type, instance, prop, value_tags, priority=None):
    data = ctx_object(0, obj_type, instance) + ctx_unsigned(1, prop)
    data += opening(3) + bytes(value_tags) + closing(3)
    if priority is not None:
        data += ctx_unsigned(4, priority)
    return data


def subscribe_cov(process_id, obj_type, instance, confirmed_notifications, lifetime):
    return (ctx_unsigned(0, process_id) + ctx_object(1, obj_type, instance) +
            ctx_bool(2, confirmed_notifications) + ctx_unsigned(3, lifetime))


def decode_cov_notification(data):
    tags = parse_tags(data)
    n = {
        "process_id": as_unsigned(tags[0][2]),
        "device": as_object(tags[1][2]),
        "object": as_object(tags[2][2]),
        "time_remaining": as_unsigned(tags[3][2]),
        "values": {},
    }
    prop = None
    depth = 0
    for t in tags[4:]:
        if t[0] == "open":
            depth += 1
        elif t[0] == "close":
            depth -= 1
        elif depth == 1 and t[0] == "ctx" and t[1] == 0:
            prop = as_unsigned(t[2])
        elif depth == 2 and t[0] == "app" and prop is not None:
            n["values"].setdefault(prop, []).append(app_value(t[1], t[2]))
    return n


def decode_error(data):
    tags = parse_tags(data)
    return (as_unsigned(tags[0][2]), as_unsigned(tags[1][2]))
