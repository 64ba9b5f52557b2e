#!/usr/bin/env python3
"""Modbus TCP against the real binary with two more independent clients:
pymodbus (Python) and mbpoll (command line). Usage: pymodbus_mbpoll_test.py BINARY"""
import math
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from pymodbus.client import ModbusTcpClient

BINARY = sys.argv[1]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def as_float(msw, lsw):
    return struct.unpack(">f", struct.pack(">HH", msw, lsw))[0]


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def s16(v):
    return v - 65536 if v > 32767 else v


def s32(msw, lsw):
    v = msw << 16 | lsw
    return v - (1 << 32) if v >= 1 << 31 else v


def near(a, b, tol):
    return a is not None and b is not None and abs(a - b) <= tol


def mains_by_phase(client):
    """The mains by phase (extension registers 3501..3518, floats 3601..3624):
    aux 1..3 add up to the totals of 254, 3385 and 277, integers agree with
    floats, and the aux and global resets act on them as on the totals."""
    def regs(reg, n):
        rr = client.read_holding_registers(reg - 1, n, slave=1)
        check(not rr.isError(), f"read {reg}..{reg + n - 1} -> {rr}")
        return [0] * n if rr.isError() else rr.registers

    def floats(reg, n):
        r = regs(reg, 2 * n)
        return [as_float(r[2 * i], r[2 * i + 1]) for i in range(n)]

    # Sync to comms: a sub-interval ends on 295 = 26012 only, so demand and
    # snapshots hold still while they are read.
    check(not client.write_register(295 - 1, 26012, slave=1).isError(), "begin a new sub-interval")
    energy_scale = 10 ** s16(regs(291, 1)[0])
    power_scales = [10 ** s16(v) for v in regs(288, 3)]
    total_power_scale = 10 ** s16(regs(292, 1)[0])
    total_before = floats(618, 1)[0]
    ints = regs(3501, 18)
    kwh, snap, demand, max_demand = (floats(3601 + 6 * k, 3) for k in range(4))
    total_after = floats(618, 1)[0]
    total_snap = floats(3485, 1)[0]
    total_demand, total_max = floats(662, 2)
    print(f"mains by phase: kWh {kwh} (total {total_before}..{total_after}), "
          f"demand {demand} (total {total_demand}), max {max_demand} (total {total_max})")
    # 20 A x 120 V x 0.9 plus channel 2's 8 A x 120 V x 0.9 (phase A: it flows through aux 1
    # too), 10 A x 120 V, 5 A x 120 V x 0.8.
    for ph, kw in enumerate([2.16 + 0.864, 1.2, 0.48]):
        check(near(demand[ph], kw, 0.02 * kw), f"aux {ph + 1} kW demand {demand[ph]} ~ {kw}")
        check(near(max_demand[ph], demand[ph], 1e-6), f"aux {ph + 1} max kW demand = its first demand")
        check(kwh[ph] > 0 and snap[ph] > 0, f"aux {ph + 1} energy {kwh[ph]}, snapshot {snap[ph]}")
        check(near(s32(ints[2 * ph], ints[2 * ph + 1]) * energy_scale, kwh[ph], 2 * energy_scale),
              f"aux {ph + 1} kWh integer {ints[2 * ph:2 * ph + 2]} ~ float {kwh[ph]}")
        check(near(s32(ints[6 + 2 * ph], ints[7 + 2 * ph]) * energy_scale, snap[ph], energy_scale),
              f"aux {ph + 1} kWh snapshot integer ~ float {snap[ph]}")
        check(near(s16(ints[12 + ph]) * power_scales[ph], demand[ph], power_scales[ph]),
              f"aux {ph + 1} kW demand integer {ints[12 + ph]} ~ float {demand[ph]}")
        check(near(s16(ints[15 + ph]) * power_scales[ph], max_demand[ph], power_scales[ph]),
              f"aux {ph + 1} max kW demand integer {ints[15 + ph]} ~ float {max_demand[ph]}")
    check(total_before - 1e-4 <= sum(kwh) <= total_after + 1e-4,
          f"phase kWh add up to the total: {sum(kwh)} in {total_before}..{total_after}")
    check(near(sum(snap), total_snap, 1e-4 * total_snap + 1e-6), f"snapshots {sum(snap)} = total {total_snap}")
    check(near(sum(demand), total_demand, 1e-5 * total_demand), f"kW demands {sum(demand)} = total {total_demand}")
    check(near(sum(max_demand), total_max, 1e-5 * total_max), "the first max demands add up to the total's")
    check(near(s16(regs(277, 1)[0]) * total_power_scale, total_demand, total_power_scale),
          "277 (total kW demand, integer) ~ its float")
    rr = client.read_holding_registers(3519 - 1, 1, slave=1)  # no aux 4: the neutral has no power
    check(rr.isError() and rr.exception_code == 2, f"3519 is not a register -> {rr}")

    # 294 = 10203: every phase's energy starts again, with the total's; snapshots stay.
    check(not client.write_register(294 - 1, 10203, slave=1).isError(), "aux reset 10203")
    after = floats(3601, 3)
    total = floats(618, 1)[0]
    check(all(0 <= v < 0.005 for v in after) and total < 0.01,
          f"aux energy cleared: {after}, total {total}")
    check(floats(3607, 3) == snap, "the snapshots are kept")
    # 295 = 20097: every phase's max demand cleared, with the total's.
    check(not client.write_register(295 - 1, 20097, slave=1).isError(), "global reset 20097")
    check(floats(3619, 3) == [0.0, 0.0, 0.0] and regs(3516, 3) == [0, 0, 0],
          "the phases' max kW demand is cleared")
    check(floats(664, 1)[0] == 0.0, "the total's max kW demand is cleared")
    check(floats(3613, 3) == demand, "present demand is not a maximum: kept")


def main():
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, "meter.toml")
        with open(cfg, "w") as f:
            f.write(f"""
[device]
channels = 42
[faces]
web = false
[modbus]
tcp_port = {port}
[panel.1]
location = "pymodbus"
subinterval_seconds = 0
demand_subintervals = 1
[simulation]
speed = 20.0
voltage_noise = 0.0
current_noise = 0.0
[[simulation.load]]
channel = 2
amps = 8.0
pf = 0.9
[[simulation.load]]
channel = 43
amps = 20.0
pf = 0.9
[[simulation.load]]
channel = 44
amps = 10.0
[[simulation.load]]
channel = 45
amps = 5.0
pf = 0.8
""")
        log = open(os.path.join(d, "meter.log"), "w")
        meter = subprocess.Popen([BINARY, "run", "--config", cfg, "--state-dir", os.path.join(d, "state")],
                                 stdout=log, stderr=subprocess.STDOUT)
        try:
            client = ModbusTcpClient("127.0.0.1", port=port)
            for _ in range(100):
                if client.connect():
                    break
                time.sleep(0.05)
            time.sleep(1.5)
            # pymodbus addresses are PDU addresses: register N is address N-1.
            rr = client.read_holding_registers(2252 + 2 - 1, 2, slave=1)
            check(not rr.isError(), "pymodbus read of channel 2 current float")
            amps = as_float(*rr.registers)
            check(abs(amps - 8.0) < 0.02, f"channel 2 current {amps}")
            rr = client.read_input_registers(1337 - 1, 1, slave=1)  # FC04 reads the same data
            scale = client.read_holding_registers(1001 - 1, 1, slave=1).registers[0]
            scale = scale - 65536 if scale > 32767 else scale
            check(abs(rr.registers[0] * 10 ** scale - 8.0) < 0.011, "FC04 channel 2 current integer")
            # Single-panel model: unit 2 is a gateway target that does not answer.
            rr = client.read_holding_registers(0, 1, slave=2)
            check(rr.isError() and getattr(rr, "exception_code", 0) == 0x0B, f"unit 2 -> {rr}")
            # A write, then a refused one.
            wr = client.write_register(119 + 2 - 1, 15, slave=1)
            check(not wr.isError(), "write breaker size")
            wr = client.write_register(6 - 1, 9, slave=1)
            check(wr.isError() and wr.exception_code == 3, f"out of range write -> {wr}")
            mains_by_phase(client)
            client.close()

            # mbpoll: one read of registers 1..5 (-r is the 1-based register number), then the
            # channel 2 current float at 2254, most significant word first (-B).
            out = subprocess.run(["mbpoll", "-m", "tcp", "-a", "1", "-p", str(port), "-r", "1", "-c", "5", "-1",
                                  "-t", "4", "127.0.0.1"], capture_output=True, text=True, timeout=20)
            check(out.returncode == 0, f"mbpoll exit {out.returncode}: {out.stderr}")
            check("[5]: \t15172" in out.stdout or "[5]:\t15172" in out.stdout or "15172" in out.stdout,
                  "mbpoll register 5 = 15172")
            out = subprocess.run(["mbpoll", "-m", "tcp", "-a", "1", "-p", str(port), "-r", "2254", "-c", "1", "-1",
                                  "-t", "4:float", "-B", "127.0.0.1"], capture_output=True, text=True, timeout=20)
            check(out.returncode == 0, f"mbpoll float exit {out.returncode}: {out.stderr}")
            value = None
            for line in out.stdout.splitlines():
                if line.startswith("[2254]"):
                    value = float(line.split(":", 1)[1])
            check(value is not None and abs(value - 8.0) < 0.02, f"mbpoll float channel 2 current {value}")
            out = subprocess.run(["mbpoll", "-m", "tcp", "-a", "1", "-p", str(port), "-r", "121", "-1",
                                  "-t", "4", "127.0.0.1"], capture_output=True, text=True, timeout=20)
            check("15" in out.stdout, "mbpoll reads the breaker size pymodbus wrote")
        finally:
            meter.send_signal(signal.SIGTERM)
            check(meter.wait(timeout=20) == 0, "meter stopped cleanly")
            log.close()
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("pymodbus and mbpoll: all checks passed")


main()
