#!/usr/bin/env python3
"""Reads that see the writes, on the real binary: a write is answered only once
the meter shows it, so the very next read, on the same face or another one,
sees it. Modbus TCP through libmodbus (Debian's library, via ctypes), SNMP
through net-snmp's snmpset/snmpget, the web API through HTTP.

100 cycles of a panel whose channel 5 swings over its high-high threshold and
back: in each low phase (the condition gone) one face clears the channel's
latch and its maxima and resets channel 8's energy (10203 at 1126+), and the
next reads on Modbus and SNMP must show all three. Then 100 RTC writes and
100 settings per face. Any stale read fails the test.

Usage: write_path_test.py BINARY SMIV2_BASE_MIB_DIR"""
import datetime
import http.cookiejar
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import libmodbus  # noqa: E402 - tests/libmodbus.py

BINARY = sys.argv[1]
BASE_MIBS = sys.argv[2]
SPEED = 20.0  # simulated seconds per real second: the 100 cycles take seconds
# Simulated seconds per cycle of channel 5: 0.6 s high, 5.4 s low (270 ms of
# real time for the write and the reads; net-snmp's tools take tens of ms each).
PERIOD = 6.0
CYCLES = 100
REPS = 100

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return cond


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- libmodbus: tests/libmodbus.py ------------------------------------------

def Modbus(port):
    return libmodbus.Modbus("127.0.0.1", port)


# --- net-snmp ----------------------------------------------------------------

class Snmp:
    NAMES = ["p1ChannelEventStatus.5", "p1BranchMaxCurrent.5", "p1BranchKwh.8",
             "p1BranchReset.5", "p1BranchReset.8", "p1HighHighThreshold.0", "p1ClockYear.0",
             "p1ClockMonth.0", "p1ClockDay.0", "p1ClockHour.0", "p1ClockMinute.0",
             "p1ClockSecond.0"] + [
                 f"p1{column}.{aux}" for column in ("AuxKwhSnapshot", "AuxKwDemand", "AuxMaxKwDemand")
                 for aux in (1, 2, 3)] + ["p1MainsKwDemand.0"]

    def __init__(self, port, work):
        self.target = f"udp:127.0.0.1:{port}"
        mibs = os.path.join(work, "mibs")
        os.makedirs(mibs)
        subprocess.run([BINARY, "export", "mib", "-o", os.path.join(mibs, "OPENBCPM-BCPME-MIB")],
                       check=True, capture_output=True)
        self.env = dict(os.environ, SNMPCONFPATH=work, SNMP_PERSISTENT_DIR=work, MIBS="")
        # Numeric OIDs once: the tools then load no MIB per call.
        out = subprocess.run(["snmptranslate", "-M", f"{BASE_MIBS}:{mibs}", "-m",
                              "SNMPv2-MIB:OPENBCPM-BCPME-MIB", "-On"] +
                             [f"OPENBCPM-BCPME-MIB::{n}" for n in self.NAMES],
                             check=True, capture_output=True, text=True, env=self.env).stdout
        self.oid = dict(zip(self.NAMES, out.split()))

    def get(self, *names):
        out = subprocess.run(["snmpget", "-v2c", "-c", "public", "-On", "-Oqv", "-t", "2", "-r", "0",
                              self.target] + [self.oid[n] for n in names],
                             capture_output=True, text=True, env=self.env)
        if out.returncode != 0:
            raise RuntimeError("snmpget: " + out.stderr)
        return [int(v) for v in out.stdout.split()]

    def set(self, *assignments):  # (name, type, value)
        args = []
        for name, t, v in assignments:
            args += [self.oid[name], t, str(v)]
        out = subprocess.run(["snmpset", "-v2c", "-c", "private", "-On", "-t", "2", "-r", "0",
                              self.target] + args, capture_output=True, text=True, env=self.env)
        return out.returncode == 0, out.stdout + out.stderr


# --- the web API ----------------------------------------------------------------

class Web:
    def __init__(self, port, state):
        self.base = f"http://127.0.0.1:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        with open(os.path.join(state, "initial-admin-password")) as f:
            password = f.read().strip()
        self.csrf = ""
        status, body = self.post("/api/login", {"username": "admin", "password": password})
        if status != 200:
            raise RuntimeError(f"web: login {status} {body}")
        self.csrf = body["csrf"]
        status, body = self.post("/api/security", {"mode": "http"})
        if status != 200:
            raise RuntimeError(f"web: security mode {status} {body}")

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("Origin", self.base)
        if self.csrf:
            req.add_header("X-CSRF-Token", self.csrf)
        try:
            with self.opener.open(req, timeout=5) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def post(self, path, body):
        return self.call("POST", path, body)

    def setting(self, key):
        status, body = self.call("GET", "/api/settings?prefix=" + key)
        for s in body.get("settings", []):
            if s["key"] == key:
                return s["value"]
        raise RuntimeError(f"web: no setting {key}: {status} {body}")


def config(modbus_port, snmp_port, web_port):
    # Channel 5 (20 A breaker): 20 A for 0.6 s of each cycle (over high-high,
    # latched at once), 2 A for the rest (the condition gone). Channel 8 a
    # steady 60 A, for energy to reset.
    steps = []
    for i in range(CYCLES + 40):
        steps.append(f"[{i * PERIOD:.1f}, 20.0]")
        steps.append(f"[{i * PERIOD + 0.6:.1f}, 2.0]")
    return f"""
[device]
channels = 84
[gateway]
rtc_control = 1
[faces]
modbus_tcp = true
snmp = true
bacnet_ip = false
web = true
[modbus]
tcp_port = {modbus_port}
[snmp]
port = {snmp_port}
notif_port = {free_port(socket.SOCK_DGRAM)}
[web]
port = {web_port}
allow_plain_http = true
[panel.1]
hh_delay = 0
h_delay = 0
[[panel.1.channel]]
channel = 8
ct_size = 100
breaker_size = 100
[simulation]
speed = {SPEED}
voltage_noise = 0.0
current_noise = 0.0
[[simulation.load]]
panel = 1
channel = 5
amps = 2.0
pf = 1.0
schedule = "steps"
steps = [{", ".join(steps)}]
[[simulation.load]]
panel = 1
channel = 8
amps = 60.0
pf = 1.0
"""


HH = 0x0001  # high-high latched bit of a channel's status
STATUS5, RESET5, RESET8 = 177 + 5, 1125 + 5, 1125 + 8
CURRENT5, MAX5, KWH8 = 2250 + 2 * 5, 2754 + 2 * 5, 1998 + 2 * 8  # float copies (MSW first)
HH_COUNTER5 = 300 + 5  # channel 5's high-high latching alarm counter


def cycles(mb, snmp):
    """Latch, maxima and energy: written on Modbus and SNMP in turn, read on both."""
    stale = overrun = 0
    for i in range(CYCLES):
        # Wait for this cycle's low phase with the latch set (the condition gone).
        # The start of a low phase: high first (the latch forms), then low.
        deadline = time.monotonic() + 10
        high = False
        while True:
            if time.monotonic() > deadline:
                check(False, f"cycle {i}: channel 5 never latched and fell back")
                return
            status, current = mb.read(STATUS5)[0], mb.float(CURRENT5)
            high = high or current > 15.0
            if high and status & HH and current < 5.0:
                break
            time.sleep(0.002)
        kwh_before = mb.float(KWH8)
        max_before = mb.float(MAX5)
        latches_before = mb.read(HH_COUNTER5)[0]
        check(max_before > 15.0, f"cycle {i}: channel 5's maximum before the clear ({max_before})")
        if i % 2 == 0:
            ok = (mb.write(STATUS5, 0) and mb.write(RESET5, 29877) and mb.write(RESET8, 10203))
            check(ok, f"cycle {i}: the Modbus writes are taken")
            face = "Modbus"
        else:
            ok, out = snmp.set(("p1ChannelEventStatus.5", "i", 0), ("p1BranchReset.5", "i", 29877),
                               ("p1BranchReset.8", "i", 10203))
            check(ok, f"cycle {i}: the SNMP set is taken: {out}")
            face = "SNMP"
        acked = time.monotonic()
        # The very next reads, Modbus then SNMP.
        m_status, m_max, m_kwh = mb.read(STATUS5)[0], mb.float(MAX5), mb.float(KWH8)
        s_status, s_max, s_wh = snmp.get("p1ChannelEventStatus.5", "p1BranchMaxCurrent.5",
                                         "p1BranchKwh.8")
        # At most what 7.2 kW meters in the simulated time since the
        # acknowledgement (snmpget takes some milliseconds, SPEED times as many
        # simulated ones); a stale read is the energy before the reset.
        bound = 7.2 * ((time.monotonic() - acked) * SPEED + 0.5) / 3600
        fresh = [
            (m_status & HH) == 0, m_max < 10.0, m_kwh < min(bound, kwh_before),
            (s_status & HH) == 0, s_max < 10 * 1000, s_wh < min(bound, kwh_before) * 1000 + 1,
        ]
        # Still in the low phase (else the next high phase, not a stale read,
        # could have set the latch again): a cycle that ran over is not judged.
        # Channel 5's high-high latch counter moved on shows a high phase even
        # when it has come and gone (0.6 s simulated is 30 ms real).
        if mb.float(CURRENT5) > 5.0 or mb.read(HH_COUNTER5)[0] != latches_before:
            overrun += 1
            continue
        if not all(fresh):
            stale += 1
            print(f"stale after the {face} write of cycle {i}: Modbus status {m_status:#x} "
                  f"max {m_max:.2f} kWh {m_kwh:.5f} (before {kwh_before:.5f}, bound {bound:.5f}); SNMP status "
                  f"{s_status:#x} max {s_max} Wh {s_wh}", flush=True)
    check(overrun <= CYCLES // 10, f"{overrun} of {CYCLES} cycles ran into the next high phase")
    if check(stale == 0, f"{stale} stale reads in {CYCLES} cycles of latch/maxima/energy writes"):
        print(f"ok   {CYCLES} cycles: latch clear, maxima clear, energy reset seen at once "
              "on Modbus and SNMP", flush=True)


def rtc(mb, snmp):
    stale = 0
    rng = random.Random(7)
    for i in range(REPS):
        t = datetime.datetime(2030, 1, 1) + datetime.timedelta(seconds=rng.randrange(0, 10**8))
        fields = [t.year, t.month, t.day, t.hour, t.minute, t.second]
        check(mb.write_many(3251, fields), f"RTC write {i}")
        m = mb.read(3251, 6)
        s = snmp.get("p1ClockYear.0", "p1ClockMonth.0", "p1ClockDay.0", "p1ClockHour.0",
                     "p1ClockMinute.0", "p1ClockSecond.0")
        for got, where in ((m, "Modbus"), (s, "SNMP")):
            seen = datetime.datetime(*got)
            # The RTC runs on at SPEED: a few simulated seconds at most.
            if not (0 <= (seen - t).total_seconds() <= 5):
                stale += 1
                print(f"stale RTC on {where} after write {i}: wrote {t}, read {seen}", flush=True)
    if check(stale == 0, f"{stale} stale RTC reads in {REPS} writes"):
        print(f"ok   {REPS} RTC writes over Modbus seen at once on Modbus and SNMP", flush=True)


def settings(mb, snmp, web):
    stale = 0
    for i in range(REPS):
        v = 500 + (i * 7) % 400
        face = ["Modbus", "SNMP", "web"][i % 3]
        if face == "Modbus":
            ok = mb.write(171, v)
        elif face == "SNMP":
            ok = snmp.set(("p1HighHighThreshold.0", "i", v))[0]
        else:
            ok = web.post("/api/settings", {"settings": {"panel.1.hh_threshold": v}})[0] == 200
        check(ok, f"setting write {i} over {face}")
        seen = (mb.read(171)[0], snmp.get("p1HighHighThreshold.0")[0],
                web.setting("panel.1.hh_threshold"))
        if seen != (v, v, v):
            stale += 1
            print(f"stale setting after the {face} write {i}: wrote {v}, read {seen}", flush=True)
    if check(stale == 0, f"{stale} stale reads in {REPS} settings writes"):
            print(f"ok   {REPS} settings written over Modbus, SNMP and the web seen at once on all "
              "three", flush=True)
    # A value between two register steps is refused on the web too, nothing changed.
    before = mb.read(171)[0]
    status, body = web.post("/api/settings", {"settings": {"panel.1.hh_threshold": 725.5}})
    check(status == 400, f"web: 725.5 for hh_threshold is refused with 400 ({status} {body})")
    check("hh_threshold" in body.get("error", json.dumps(body)), f"web: the message names it: {body}")
    check(mb.read(171)[0] == before, "web: the refused write changed nothing")
    status, body = web.post("/api/settings", {"settings": {"panel.1.hh_threshold": 725.0}})
    check(status == 200 and mb.read(171)[0] == 725, f"web: 725.0 is a whole step ({status} {body})")


def mains_by_phase(mb, snmp, web):
    """Aux 1..3's energy snapshot, kW demand and max kW demand read the same on
    Modbus (floats 3607.., 3613.., 3619..), SNMP (the aux table's columns 11..13)
    and the web API (the snapshot's aux entries), and add up to the mains total.
    Sub-intervals end only on 26012 from here on (72 = 0, sync to comms): the values
    hold still while they are read."""
    check(mb.write(72, 0), "Modbus: sub-interval length 0 (sync to comms)")
    time.sleep(0.3)  # the change restarts demand: 6 simulated seconds of it
    check(mb.write(295, 26012), "Modbus: begin a new demand sub-interval")
    status, body = web.call("GET", "/api/snapshot")
    if not check(status == 200, f"web: GET /api/snapshot {status}"):
        return
    panel = body["panels"][0]
    aux = {c["channel"]: c for c in panel["channels"] if c["aux"]}
    web_values = {key: [aux[c][key] for c in (43, 44, 45)]
                  for key in ("kwh", "kwh_snapshot", "kw_demand", "max_kw_demand")}
    modbus_values = {key: [mb.float(base + 2 * i) for i in range(3)]
                     for key, base in (("kwh_snapshot", 3607), ("kw_demand", 3613), ("max_kw_demand", 3619))}
    s = snmp.get(*[n for n in Snmp.NAMES if n.startswith("p1Aux") or n.startswith("p1Mains")])
    snmp_values = {"kwh_snapshot": s[0:3], "kw_demand": s[3:6], "max_kw_demand": s[6:9]}
    print(f"mains by phase: web {web_values}, Modbus {modbus_values}, SNMP {snmp_values} (thousandths)",
          flush=True)
    mains = panel["mains"]
    check(mains["kw_demand"] > 0, f"the mains have a demand: {mains['kw_demand']}")
    for key, total in (("kwh", mains["kwh"]), ("kwh_snapshot", mains["kwh_snapshot"]),
                       ("kw_demand", mains["kw_demand"])):
        check(abs(sum(web_values[key]) - total) <= 1e-9 + 1e-9 * total,
              f"web: aux 1..3 {key} add up to the mains' {total}: {web_values[key]}")
    check(abs(s[9] - round(1000 * mains["kw_demand"])) <= 1, f"SNMP p1MainsKwDemand.0 {s[9]} ~ web")
    for key in modbus_values:
        for i in range(3):
            w, m, n = web_values[key][i], modbus_values[key][i], snmp_values[key][i] / 1000
            check(abs(w - m) <= 1e-6 + 1e-6 * abs(w) and abs(w - n) <= 0.0006,
                  f"aux {i + 1} {key}: web {w}, Modbus {m}, SNMP {n}")


def main():
    modbus_port, snmp_port, web_port = free_port(), free_port(socket.SOCK_DGRAM), free_port()
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, "meter.toml")
        with open(cfg, "w") as f:
            f.write(config(modbus_port, snmp_port, web_port))
        state = os.path.join(d, "state")
        log = open(os.path.join(d, "meter.log"), "w")
        proc = subprocess.Popen([BINARY, "run", "--config", cfg, "--state-dir", state],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 20
            mb = None
            while mb is None:
                try:
                    mb = Modbus(modbus_port)
                except RuntimeError:
                    if time.time() > deadline or proc.poll() is not None:
                        raise
                    time.sleep(0.1)
            while not os.path.exists(os.path.join(state, "initial-admin-password")):
                time.sleep(0.05)
            snmp = Snmp(snmp_port, d)
            web = Web(web_port, state)
            started = time.monotonic()
            cycles(mb, snmp)
            rtc(mb, snmp)
            settings(mb, snmp, web)
            mains_by_phase(mb, snmp, web)
            print(f"ran {time.monotonic() - started:.1f} s", flush=True)
            mb.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                check(proc.wait(timeout=20) == 0, "the meter stops cleanly")
            except subprocess.TimeoutExpired:
                proc.kill()
                check(False, "the meter stops within 20 s")
            log.close()
            if failures:
                with open(os.path.join(d, "meter.log")) as f:
                    print("--- meter log (tail) ---\n" + "".join(f.readlines()[-30:]))
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
