"""A simulated RS-485 segment joining pseudo-terminals: every octet a node
writes reaches every other node, after the time it takes on a wire at the
baud rate (10 bits an octet). The bus sees everything: it keeps a trace of
every frame with the time its first octet went on the wire and its last
came off, counts overlapping transmissions (collisions, delivered garbled
as on a real segment), and can write a pcap capture for Wireshark.

Runs on an asyncio loop; each port is a pty whose slave side a node opens
as its serial device (its path is Port.path)."""

import os
import tty

from mstp_wire import PcapWriter, Receiver


class Port:
    def __init__(self, name):
        self.name = name
        self.master_fd, self.slave_fd = os.openpty()
        # Keep our copy of the slave open: the master side then never reads
        # EIO while a node closes and reopens its device.
        tty.setraw(self.slave_fd)
        self.path = os.ttyname(self.slave_fd)
        os.set_blocking(self.master_fd, False)
        self.tx_free = 0.0          # when this node's last octet is off the wire
        self.tx_last = 0.0          # end of the last chunk this node sent
        self.sniffer = Receiver(None)
        self.raw = bytearray()
        self.frame_start = 0.0
        self.overflows = 0

    def close(self):
        os.close(self.master_fd)
        os.close(self.slave_fd)


class Transmission:
    """One sender's octets: when they are on the wire, and when the relay
    actually handed the first and last of them to the other nodes (later
    than on the wire when the relay's own loop runs late)."""
    __slots__ = ("start", "end", "handed_first", "handed_last")

    def __init__(self, start, end):
        self.start, self.end = start, end
        self.handed_first = self.handed_last = None


class TraceEntry:
    __slots__ = ("port", "frame", "error", "start", "end", "octets")

    def __init__(self, port, frame, error, start, end, octets):
        self.port, self.frame, self.error = port, frame, error
        self.start, self.end, self.octets = start, end, octets

    def __repr__(self):
        what = repr(self.frame) if self.frame else "invalid (%s)" % self.error
        return "%.6f..%.6f %-6s %s" % (self.start, self.end, self.port, what)


class Bus:
    def __init__(self, loop, names, baud=38400, pcap_path=None):
        self.loop = loop
        self.baud = baud
        self.octet_time = 10.0 / baud
        # A gap inside a frame: senders write whole frames, so a pause longer
        # than the shortest T_frame_abort (60 bit times; 1 ms for the pty's
        # own jitter) ends the frame for the bus's sniffer.
        self.frame_gap = max(60.0 / baud, 0.001)
        self.ports = {n: Port(n) for n in names}
        self.trace = []
        self.collisions = 0
        self.collision_log = []  # (time, port, the port it overlapped)
        self.pcap = PcapWriter(pcap_path) if pcap_path else None
        self._busy = []  # (start, end, port name) of recent transmissions

    def start(self):
        for p in self.ports.values():
            self.loop.add_reader(p.master_fd, self._readable, p)

    def stop(self):
        for p in self.ports.values():
            self.loop.remove_reader(p.master_fd)
            p.close()
        if self.pcap:
            self.pcap.close()

    def path(self, name):
        return self.ports[name].path

    def inject(self, name, octets):
        """Octets put on the line as if the node at `name` sent them, as a node
        would: not before it has heard the end of what others are sending and
        T_turnaround (40 bit times) after it. Returns their Transmission."""
        heard_until = max((b[1] for b in self._busy if b[2] != name), default=0.0)
        start = max(self.loop.time(), heard_until + 40.0 / self.baud)
        return self._transmit(self.ports[name], bytes(octets), start)

    def frames(self, since=0.0, port=None):
        # From the end: the tests poll this on the relay's own loop, and a
        # scan of the whole trace each time would delay the relay itself.
        # Entries come in about the order they end; no frame lasts 1 s.
        i = len(self.trace)
        while i > 0 and self.trace[i - 1].end >= since - 1.0:
            i -= 1
        return [e for e in self.trace[i:]
                if e.frame is not None and e.start >= since and (port is None or e.port == port)]

    def _readable(self, port):
        try:
            data = os.read(port.master_fd, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        if data:
            self._transmit(port, data, self.loop.time())

    def _transmit(self, port, data, now):
        start = max(now, port.tx_free)
        end = start + len(data) * self.octet_time
        port.tx_free = end
        self._busy = [b for b in self._busy if b[1] > now - 1.0]
        overlap = [b for b in self._busy if b[2] != port.name and b[0] < end and start < b[1]]
        if overlap:
            # Two drivers on at once: what the others hear is garbage.
            self.collisions += 1
            self.collision_log.append((start, port.name, overlap[0][2]))
            data = bytes(o ^ 0xA5 for o in data)
        self._busy.append((start, end, port.name))
        if port.sniffer.in_frame() and start - port.tx_last > self.frame_gap:
            # What stopped midway is no frame.
            port.sniffer.timeout()
        port.tx_last = end
        for k, o in enumerate(data):
            off = start + (k + 1) * self.octet_time  # this octet's stop bit
            if port.sniffer.state == "idle" and o == 0x55:
                port.frame_start = off - self.octet_time
                port.raw = bytearray()
            if port.sniffer.state == "preamble" and o == 0xFF:
                port.raw = bytearray(b"\x55")
            port.raw.append(o)
            ev = port.sniffer.feed(o)
            if ev is None:
                continue
            kind, x = ev
            frame = x if kind == "valid" else None
            entry = TraceEntry(port.name, frame, None if frame else x, port.frame_start, off,
                               bytes(port.raw))
            self.trace.append(entry)
            if self.pcap and frame is not None:
                self.pcap.write(entry.start, entry.octets)
        # Others hear the octets as they come off the wire: the first on its
        # own (it ends a silence), the rest in slices of about 2 ms (a
        # receiver that only heard a long frame at its end would think the
        # line silent meanwhile and time out).
        step = max(1, int(0.002 / self.octet_time))
        sent = Transmission(start, end)
        k = 0
        while k < len(data):
            n = 1 if k == 0 else step
            piece = data[k:k + n]
            k += len(piece)
            self.loop.call_at(start + k * self.octet_time, self._deliver, port, piece, sent)
        return sent

    def _deliver(self, sender, data, sent):
        now = self.loop.time()
        if sent.handed_first is None:
            sent.handed_first = now
        sent.handed_last = now
        for p in self.ports.values():
            if p is sender:
                continue
            try:
                os.write(p.master_fd, data)
            except (BlockingIOError, OSError):
                p.overflows += 1  # nobody reads that port: the octets are lost
