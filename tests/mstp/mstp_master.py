#!/usr/bin/env python3
"""A second MS/TP master node, written for the tests (independently of the
meter's C++ node), with a small BACnet client on top. It runs on an asyncio
loop against a serial device (a pty of mstp_bus.Bus in the tests):

  Master   the master node state machine of ASHRAE 135 clause 9.5.6 (token,
           poll for master, reply postponed, lost token, sole master),
           T_turnaround before each transmission;
  Client   Who-Is, ReadProperty, WriteProperty, SubscribeCOV as a BACnet
           client, acknowledging confirmed COV notifications in the same
           turn (ANSWER_DATA_REQUEST).

Run alone against a serial device it finds the devices behind the meter's
router:  mstp_master.py /dev/ttyUSB0 --mac 3 --baud 38400 --who-is
"""

import argparse
import asyncio
import collections
import os
import termios
import tty

import bacnet_mini as bn
from mstp_wire import (BROADCAST, DATA_EXPECTING_REPLY, DATA_NOT_EXPECTING_REPLY,
                       POLL_FOR_MASTER, REPLY_POSTPONED, REPLY_TO_POLL_FOR_MASTER,
                       TEST_REQUEST, TEST_RESPONSE, TOKEN, Receiver, encode)

NPOLL = 50
NRETRY_TOKEN = 1
NMIN_OCTETS = 4
T_NO_TOKEN = 0.500
T_SLOT = 0.010


class Master:
    def __init__(self, loop, path, station, max_master=127, max_info_frames=1, baud=38400,
                 usage_timeout=0.050, reply_timeout=0.300, frame_abort=0.030):
        self.loop = loop
        self.path = path
        self.ts = station
        self.max_master = max_master
        self.max_info_frames = max_info_frames
        self.baud = baud
        self.turnaround = 40.0 / baud
        self.usage_timeout = usage_timeout
        self.reply_timeout = reply_timeout
        self.frame_abort = max(frame_abort, 60.0 / baud)
        self.on_data = None          # callback(frame): BACnet data for us or broadcast
        self.answer_requests = True  # False: a Data Expecting Reply gets no answer at all
        self.die_after_data = False  # stop right after sending a data frame (token lost)
        self.die_on_token = False    # stop on receiving the token, before using it
        self.queue = collections.deque()
        self.stats = collections.Counter()
        self.fd = None
        self.state = "stopped"
        self._timer = None
        self._held = collections.deque()
        self._flush_timer = None

    # --- life ---

    def start(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        termios.tcflush(self.fd, termios.TCIOFLUSH)  # nothing stale from before
        now = self.loop.time()
        self.rx = Receiver(self.ts)
        self.silence_since = self.last_rx = self.tx_free = now
        self.ns = self.ps = self.ts
        self.token_count = NPOLL
        self.frame_count = self.retry_count = self.event_count = 0
        self.sole_master = False
        self.valid = None
        self.invalid = False
        self._held.clear()
        self.state = "IDLE"
        self.loop.add_reader(self.fd, self._readable)
        self._reschedule()

    def stop(self):
        if self.fd is None:
            return
        self.loop.remove_reader(self.fd)
        os.close(self.fd)
        self.fd = None
        self.state = "stopped"
        for t in (self._timer, self._flush_timer):
            if t:
                t.cancel()
        self._timer = self._flush_timer = None
        self._held.clear()

    def enqueue(self, frame_type, destination, data):
        self.queue.append((frame_type, destination, bytes(data), self._seq()))

    def _seq(self):
        self.stats["seq"] += 1
        return self.stats["seq"]

    # --- line ---

    def _readable(self):
        try:
            data = os.read(self.fd, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        now = self.loop.time()
        self._frame_abort(now)
        for o in data:
            self.event_count += 1
            self.last_rx = now
            self.silence_since = max(self.silence_since, now)
            ev = self.rx.feed(o)
            if ev is None or ev[0] == "notforus":
                continue
            if ev[0] == "valid":
                if ev[1].source == self.ts:
                    continue
                self.stats["frames_in"] += 1
                self.valid = ev[1]
            else:
                self.stats["invalid"] += 1
                self.invalid = True
            self._run(now)
            if self.fd is None:
                return
        self._run(now)
        self._reschedule()

    def _frame_abort(self, now):
        if self.rx.in_frame() and now - self.last_rx >= self.frame_abort:
            if self.rx.timeout():
                self.invalid = True

    def _send(self, frame_type, destination, data=b""):
        octets = encode(frame_type, destination, self.ts, data)
        now = self.loop.time()
        earliest = self.last_rx + self.turnaround
        start = max(now, earliest, self.tx_free)
        self.tx_free = start + len(octets) * 10.0 / self.baud
        self.silence_since = max(self.silence_since, self.tx_free)
        self.stats["frames_out"] += 1
        if earliest > now or self._held:
            self._held.append((max(earliest, now), octets))
            self._arm_flush()
        else:
            os.write(self.fd, octets)

    def _arm_flush(self):
        if self._flush_timer is None and self._held:
            self._flush_timer = self.loop.call_at(self._held[0][0], self._flush)

    def _flush(self):
        self._flush_timer = None
        now = self.loop.time()
        while self._held and self._held[0][0] <= now and self.fd is not None:
            os.write(self.fd, self._held.popleft()[1])
        self._arm_flush()

    def _silence(self, now):
        return max(0.0, now - self.silence_since)

    def _next_address(self, a):
        return (a + 1) % (self.max_master + 1)

    # --- timers ---

    def _deadline(self):
        s = self.silence_since
        if self.state == "IDLE":
            return s + T_NO_TOKEN
        if self.state == "NO_TOKEN":
            mine = s + T_NO_TOKEN + T_SLOT * self.ts
            return mine if self.loop.time() < mine else s + T_NO_TOKEN + T_SLOT * (self.max_master + 1)
        if self.state in ("PASS_TOKEN", "POLL_FOR_MASTER"):
            return s + self.usage_timeout
        if self.state == "WAIT_FOR_REPLY":
            return s + self.reply_timeout
        return self.loop.time()

    def _reschedule(self):
        if self._timer:
            self._timer.cancel()
        if self.fd is None:
            return
        when = self._deadline()
        if self.rx.in_frame():
            when = min(when, self.last_rx + self.frame_abort)
        self._timer = self.loop.call_at(when, self._on_timer)

    def _on_timer(self):
        self._timer = None
        if self.fd is None:
            return
        # Octets already waiting came before the timeout: take them first
        # (after a stall the timer and the input are ready together).
        self._readable()
        if self.fd is None:
            return
        now = self.loop.time()
        self._frame_abort(now)
        self._run(now)
        self._reschedule()

    # --- the master node state machine ---

    def _run(self, now):
        for _ in range(4 * NPOLL + 16):
            if self.fd is None or not getattr(self, "_" + self.state.lower())(now):
                return

    def _take_valid(self):
        f, self.valid = self.valid, None
        return f

    def _idle(self, now):
        if self.invalid:
            self.invalid = False
            return True
        f = self._take_valid()
        if f is not None:
            to_us = f.destination == self.ts
            if f.type == TOKEN and to_us:
                if self.die_on_token:
                    self.stop()
                    return False
                self.stats["tokens"] += 1
                self.frame_count = 0
                self.sole_master = False
                self.state = "USE_TOKEN"
                return True
            if f.type == POLL_FOR_MASTER and to_us:
                self._send(REPLY_TO_POLL_FOR_MASTER, f.source)
            elif f.type == DATA_NOT_EXPECTING_REPLY:
                self._indicate(f)
            elif f.type == DATA_EXPECTING_REPLY and to_us:
                self._answer(f)
            elif f.type == TEST_REQUEST and to_us:
                self._send(TEST_RESPONSE, f.source, f.data)
            return False
        if self._silence(now) >= T_NO_TOKEN:
            self.event_count = 0
            self.state = "NO_TOKEN"
            return True
        return False

    def _indicate(self, f):
        self.stats["data_in"] += 1
        if self.on_data:
            self.on_data(f)

    def _answer(self, f):
        # ANSWER_DATA_REQUEST: the client answers inside the indication.
        mark = self.stats["seq"]
        self._indicate(f)
        if not self.answer_requests:
            self.stats["unanswered"] += 1
            return
        for item in list(self.queue):
            if item[3] > mark and item[1] == f.source and item[0] == DATA_NOT_EXPECTING_REPLY:
                self.queue.remove(item)
                self._send(item[0], item[1], item[2])
                self.stats["replies"] += 1
                return
        self._send(REPLY_POSTPONED, f.source)
        self.stats["postponed"] += 1

    def _use_token(self, now):
        if not self.queue:
            self.frame_count = self.max_info_frames
            self.state = "DONE_WITH_TOKEN"
            return True
        frame_type, dest, data, _ = self.queue.popleft()
        self._send(frame_type, dest, data)
        self.frame_count += 1
        if self.die_after_data:
            self._flush_now()
            self.stop()
            return False
        waits = dest != BROADCAST and frame_type in (DATA_EXPECTING_REPLY, TEST_REQUEST)
        self.state = "WAIT_FOR_REPLY" if waits else "DONE_WITH_TOKEN"
        return True

    def _flush_now(self):
        while self._held and self.fd is not None:
            os.write(self.fd, self._held.popleft()[1])

    def _wait_for_reply(self, now):
        if self.invalid:
            self.invalid = False
            self.state = "DONE_WITH_TOKEN"
            return True
        f = self._take_valid()
        if f is not None:
            if f.destination == self.ts and f.type in (DATA_NOT_EXPECTING_REPLY, TEST_RESPONSE,
                                                       REPLY_POSTPONED):
                if f.type == DATA_NOT_EXPECTING_REPLY:
                    self._indicate(f)
                if f.type == REPLY_POSTPONED:
                    self.stats["postponed_by_peer"] += 1
                self.state = "DONE_WITH_TOKEN"
            else:
                self.stats["unexpected"] += 1
                self.state = "IDLE"
            return True
        if self._silence(now) >= self.reply_timeout:
            self.stats["reply_timeouts"] += 1
            self.frame_count = self.max_info_frames
            self.state = "DONE_WITH_TOKEN"
            return True
        return False

    def _done_with_token(self, now):
        nts = self._next_address(self.ts)
        if self.frame_count < self.max_info_frames:
            self.state = "USE_TOKEN"
        elif not self.sole_master and self.ns == self.ts:
            self.ps = nts
            self._poll(self.ps)
        elif self.token_count < NPOLL - 1:
            if self.sole_master and self.ns != nts:
                self.frame_count = 0
                self.token_count += 1
                self.state = "USE_TOKEN"
            else:
                self.token_count += 1
                self._send_token()
        elif self._next_address(self.ps) == self.ns:
            if self.sole_master:
                self.ps = self._next_address(self.ns)
                self._poll(self.ps)
                self.ns = self.ts
                self.token_count = 1
            else:
                self.ps = self.ts
                self.token_count = 1
                self._send_token()
        else:
            self.ps = self._next_address(self.ps)
            self._poll(self.ps)
        return True

    def _poll(self, station):
        self.stats["polls"] += 1
        self._send(POLL_FOR_MASTER, station)
        self.retry_count = 0
        self.state = "POLL_FOR_MASTER"

    def _send_token(self):
        self.stats["passes"] += 1
        self._send(TOKEN, self.ns)
        self.retry_count = 0
        self.event_count = 0
        self.state = "PASS_TOKEN"

    def _pass_token(self, now):
        if self._silence(now) < self.usage_timeout:
            if self.event_count > NMIN_OCTETS:
                self.state = "IDLE"
                return True
            return False
        if self.retry_count < NRETRY_TOKEN:
            self.retry_count += 1
            self.stats["token_retries"] += 1
            self._send(TOKEN, self.ns)
            self.event_count = 0
            return False
        self.stats["successors_lost"] += 1
        self.ps = self._next_address(self.ns)
        if self.ps == self.ts:
            self.ps = self._next_address(self.ps)
        self.ns = self.ts
        self.token_count = 0
        self._poll(self.ps)
        return True

    def _no_token(self, now):
        s = self._silence(now)
        mine = T_NO_TOKEN + T_SLOT * self.ts
        next_slot = T_NO_TOKEN + T_SLOT * (self.ts + 1)
        after_all = T_NO_TOKEN + T_SLOT * (self.max_master + 1)
        if s < mine or next_slot <= s < after_all:
            if self.event_count > NMIN_OCTETS:
                self.state = "IDLE"
                return True
            return False
        self.stats["tokens_generated"] += 1
        self.ns = self.ts
        self.token_count = 0
        self.ps = self._next_address(self.ts)
        self._poll(self.ps)
        return True

    def _poll_for_master(self, now):
        f = self._take_valid()
        if f is not None:
            if f.destination == self.ts and f.type == REPLY_TO_POLL_FOR_MASTER:
                self.sole_master = False
                self.ns = f.source
                self.ps = self.ts
                self.token_count = 0
                self._send_token()
            else:
                self.stats["unexpected"] += 1
                self.state = "IDLE"
            return True
        if self._silence(now) < self.usage_timeout and not self.invalid:
            return False
        self.invalid = False
        if self.sole_master:
            self.frame_count = 0
            self.state = "USE_TOKEN"
        elif self.ns != self.ts:
            self._send_token()
        elif self._next_address(self.ps) != self.ts:
            self.ps = self._next_address(self.ps)
            self._poll(self.ps)
            return False
        else:
            self.stats["sole_master"] += 1
            self.sole_master = True
            self.frame_count = 0
            self.state = "USE_TOKEN"
        return True


class Client:
    """A BACnet client over a Master: requests wait for their answer (in the
    same turn or, after Reply Postponed, when the server holds the token)."""

    def __init__(self, master):
        self.master = master
        self.loop = master.loop
        master.on_data = self._on_data
        self.invoke_id = 0
        self.pending = {}
        self.i_ams = []               # (frame, npdu, i-am dict)
        self.network_messages = []    # (frame, npdu)
        self.notifications = []       # dicts with 'confirmed', 'source', 'snet', 'sadr'
        self.ack_notifications = True
        self.retries = 0              # confirmed requests sent again
        self._changed = asyncio.Event()

    def _on_data(self, frame):
        try:
            n = bn.Npdu(frame.data)
        except (ValueError, IndexError):
            return
        if n.network_message is not None:
            self.network_messages.append((frame, n))
            self._changed.set()
            return
        try:
            a = bn.Apdu(n.payload)
        except IndexError:
            return
        if a.type == a.CONFIRMED and a.service == bn.SVC_CONFIRMED_COV:
            note = bn.decode_cov_notification(a.data)
            note.update(confirmed=True, source=frame.source, snet=n.snet, sadr=n.sadr,
                        frame_type=frame.type, time=self.loop.time())
            self.notifications.append(note)
            if self.ack_notifications:
                reply = bn.npdu(bn.simple_ack(a.invoke_id, a.service), dnet=n.snet,
                                dadr=n.sadr or b"")
                self.master.enqueue(DATA_NOT_EXPECTING_REPLY, frame.source, reply)
        elif a.type == a.UNCONFIRMED:
            if a.service == bn.SVC_I_AM:
                self.i_ams.append((frame, n, bn.decode_i_am(a.data)))
            elif a.service == bn.SVC_UNCONFIRMED_COV:
                note = bn.decode_cov_notification(a.data)
                note.update(confirmed=False, source=frame.source, snet=n.snet, sadr=n.sadr,
                            frame_type=frame.type, time=self.loop.time())
                self.notifications.append(note)
        elif a.invoke_id in self.pending:
            fut = self.pending.pop(a.invoke_id)
            if not fut.done():
                fut.set_result((a, n, frame))
        self._changed.set()

    async def request(self, mac, service, data, dnet=None, dadr=b"", timeout=3.0, retries=2):
        """A confirmed request, sent again after `timeout` (APDU_Timeout) up
        to `retries` times with the same invoke ID, as clause 5.4 has it."""
        self.invoke_id = (self.invoke_id + 1) % 256
        invoke = self.invoke_id
        fut = self.loop.create_future()
        self.pending[invoke] = fut
        pdu = bn.npdu(bn.confirmed(invoke, service, data), dnet=dnet, dadr=dadr,
                      expecting_reply=True)
        try:
            for attempt in range(retries + 1):
                self.master.enqueue(DATA_EXPECTING_REPLY, mac, pdu)
                try:
                    return await asyncio.wait_for(asyncio.shield(fut), timeout)
                except asyncio.TimeoutError:
                    self.retries += 1
                    if attempt == retries:
                        raise
        finally:
            self.pending.pop(invoke, None)

    def send_unconfirmed(self, mac, apdu, dnet=None, dadr=b""):
        self.master.enqueue(DATA_NOT_EXPECTING_REPLY, mac, bn.npdu(apdu, dnet=dnet, dadr=dadr))

    def send_network_message(self, mac, message_type, body=b""):
        self.master.enqueue(DATA_NOT_EXPECTING_REPLY, mac,
                            bn.npdu(body, network_message=message_type))

    async def wait_for(self, predicate, timeout=5.0):
        deadline = self.loop.time() + timeout
        while not predicate():
            left = deadline - self.loop.time()
            if left <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:
                return predicate()
        return True

    async def read_property(self, mac, obj, prop, dnet=None, dadr=b"", index=None):
        a, n, frame = await self.request(mac, bn.SVC_READ_PROPERTY,
                                         bn.read_property(obj[0], obj[1], prop, index),
                                         dnet=dnet, dadr=dadr)
        if a.type != a.COMPLEX_ACK:
            raise RuntimeError("ReadProperty answered with PDU type %d" % a.type)
        return bn.decode_read_property_ack(a.data), n

    async def write_property(self, mac, obj, prop, value_tags, dnet=None, dadr=b"", priority=None):
        a, n, frame = await self.request(mac, bn.SVC_WRITE_PROPERTY,
                                         bn.write_property(obj[0], obj[1], prop, value_tags, priority),
                                         dnet=dnet, dadr=dadr)
        return a


async def _main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("device")
    p.add_argument("--mac", type=int, default=3)
    p.add_argument("--baud", type=int, default=38400)
    p.add_argument("--max-master", type=int, default=127)
    p.add_argument("--who-is", action="store_true")
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()
    loop = asyncio.get_running_loop()
    m = Master(loop, args.device, args.mac, max_master=args.max_master, baud=args.baud)
    c = Client(m)
    m.start()
    if args.who_is:
        c.send_unconfirmed(BROADCAST, bn.who_is(), dnet=bn.GLOBAL)
    await asyncio.sleep(args.seconds)
    for frame, n, i in c.i_ams:
        via = " via network %d MAC %s" % (n.snet, n.sadr.hex()) if n.snet is not None else ""
        print("I-Am device %d from MS/TP %d%s (max APDU %d)" % (i["device"], frame.source, via,
                                                             i["max_apdu"]))
    print(dict(m.stats))
    m.stop()


if __name__ == "__main__":
    asyncio.run(_main())
