#!/usr/bin/env python3
"""Writes the seed corpus of the MS/TP fuzz target (fuzz/corpus/mstp_frame/):
line traffic a meter at station 1 may hear, good and bad, encoded with the
tests' own codec (mstp_wire, bacnet_mini)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bacnet_mini as bn  # noqa: E402
from mstp_wire import (BROADCAST, DATA_EXPECTING_REPLY, DATA_NOT_EXPECTING_REPLY,  # noqa: E402
                       POLL_FOR_MASTER, REPLY_POSTPONED, REPLY_TO_POLL_FOR_MASTER, TEST_REQUEST,
                       TEST_RESPONSE, TOKEN, encode)


def der(invoke, service, data, **kw):
    return encode(DATA_EXPECTING_REPLY, 1, 2,
                  bn.npdu(bn.confirmed(invoke, service, data), expecting_reply=True, **kw))


def seeds():
    rp_name = der(1, bn.SVC_READ_PROPERTY, bn.read_property(bn.OBJ_DEVICE, 50000, bn.PROP_OBJECT_NAME))
    rp_panel = der(2, bn.SVC_READ_PROPERTY, bn.read_property(bn.OBJ_ANALOG_INPUT, 1, bn.PROP_PRESENT_VALUE),
                   dnet=50, dadr=b"\x01")
    wp = der(3, bn.SVC_WRITE_PROPERTY, bn.write_property(bn.OBJ_ANALOG_VALUE, 1, bn.PROP_PRESENT_VALUE,
                                                         bn.app_real(42.0)), dnet=50, dadr=b"\x02")
    cov = der(4, bn.SVC_SUBSCRIBE_COV, bn.subscribe_cov(7, bn.OBJ_ANALOG_INPUT, 1, True, 60),
              dnet=50, dadr=b"\x01")
    who_is = encode(DATA_NOT_EXPECTING_REPLY, BROADCAST, 2, bn.npdu(bn.who_is(), dnet=0xFFFF))
    who_is_router = encode(DATA_NOT_EXPECTING_REPLY, BROADCAST, 2, bn.npdu(b"", network_message=0))
    token = encode(TOKEN, 1, 2)
    bad_header = bytearray(token)
    bad_header[7] ^= 0x10
    bad_data = bytearray(rp_name)
    bad_data[-1] ^= 0x01
    too_long = b"\x55\xff\x06\x01\x02\x01\xff"
    too_long += bytes([0])  # a wrong header CRC on purpose: the fuzzer finds the right one
    return {
        "token": token,
        "poll_for_master": encode(POLL_FOR_MASTER, 1, 2),
        "reply_to_poll": encode(REPLY_TO_POLL_FOR_MASTER, 1, 2),
        "test_request": encode(TEST_REQUEST, 1, 2, b"\x01\x02\x03"),
        "test_response": encode(TEST_RESPONSE, 1, 2, b"\x01"),
        "reply_postponed": encode(REPLY_POSTPONED, 1, 2),
        "read_property_router": rp_name,
        "read_property_panel": rp_panel,
        "write_property_panel": wp,
        "subscribe_cov": cov,
        "who_is_global": who_is,
        "who_is_router_to_network": who_is_router,
        "token_then_requests": token + rp_name + encode(POLL_FOR_MASTER, 1, 2) + cov,
        "poll_reply_token": encode(POLL_FOR_MASTER, 3, 1) + encode(REPLY_TO_POLL_FOR_MASTER, 1, 3)
        + encode(TOKEN, 1, 3),
        "bad_header_crc": bytes(bad_header) + token,
        "bad_data_crc": bytes(bad_data) + token,
        "too_long": too_long + bytes(600),
        "truncated": rp_name[:12],
        "noise_and_preambles": b"\x00\x55\x55\x55\xff\x13\xff" + token,
        "extended_frame_type": encode(32, 1, 2, bytes(range(40))),
        "not_for_us": encode(DATA_NOT_EXPECTING_REPLY, 9, 2, token * 3) + token,
        "broadcast_der": encode(DATA_EXPECTING_REPLY, BROADCAST, 2, bn.npdu(bn.who_is())),
        "empty": b"",
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "fuzz", "corpus", "mstp_frame")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(out, "seed_" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
