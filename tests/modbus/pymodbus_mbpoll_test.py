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
[simulation]
voltage_noise = 0.0
current_noise = 0.0
[[simulation.load]]
channel = 2
amps = 8.0
pf = 0.9
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
