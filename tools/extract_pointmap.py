#!/usr/bin/env python3
"""Extracts the register rows of the BCPMSC point map text into a CSV, the
reference our point catalogue is tested against (tests/data/bcpmsc_pointmap.csv).

Usage: tools/extract_pointmap.py ../shared/reference/bcpmsc-modbus-point-map.txt > tests/data/bcpmsc_pointmap.csv
"""
import csv
import re
import sys

ROW = re.compile(
    r"^(?P<reg>\d{1,5})\s+(?:Float Reg\s+)?(?:(?P<fmsw>\d{3,4})\s+(?P<flsw>\d{3,4})\s+)?"
    r"(?P<rw>R/W|R|W)\s+(?:(?P<nv>NV)\s+)?(?:(?P<ch>All|all|\d+(?:-\d+)?)\s+)?"
    r"(?P<model>A,B,C|A,B|A)\s+(?P<rest>.*)$")
RANGE = re.compile(r"^(?:\d+(?:\.\d+)?\s*-\s*\d+(?:\.\d+)?(?:,.*)?|0, 10-32767|0-46, 0=none|0-2)$")
INT = re.compile(r"^-?\d+$")


def split_rest(rest):
    parts = [p.strip() for p in re.split(r"\s{2,}", rest.strip()) if p.strip()]
    desc = parts[0] if parts else ""
    scale = rng = default = ""
    tail = parts[1:]
    if tail and INT.match(tail[0]) and (len(tail) == 1 or RANGE.match(tail[1]) or len(tail) >= 2):
        # A leading integer is the scale register (or fixed scale) unless it is
        # the only value after a range-less description of a setting default.
        if len(tail) == 1 or RANGE.match(tail[1]):
            scale = tail.pop(0)
    if tail and RANGE.match(tail[0]):
        rng = tail.pop(0)
    if tail:
        default = " ".join(tail)
    return desc, scale, rng, default


# Rows whose description wraps in the text so that the register's own line holds
# only its tail; and rows whose trailing number is a default, not a scale.
WRAPPED = {
    72: "Sub-Interval Length in seconds. For sync-to-comms, set this to 0.",
    229: "Total number of channels in alarm (based on non-latching alarms)",
    60004: "PLOS (reads 0 if application missing, reads > 0 if application running)",
    62017: "User Defined Status Register",
}
DEFAULT_NOT_SCALE = {6, 62017}


def main(path):
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["register", "float_msw", "float_lsw", "access", "nv", "channel", "models", "description",
                  "scale", "range", "default"])
    seen = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = ROW.match(line.strip())
            if not m:
                continue
            reg = int(m["reg"])
            if reg in seen:
                continue
            seen.add(reg)
            desc, scale, rng, default = split_rest(m["rest"])
            desc = WRAPPED.get(reg, desc)
            if reg in DEFAULT_NOT_SCALE and scale:
                default, scale = scale, ""
            out.writerow([reg, m["fmsw"] or "", m["flsw"] or "", m["rw"], "NV" if m["nv"] else "",
                          m["ch"] or "", m["model"], desc, scale, rng, default])


if __name__ == "__main__":
    main(sys.argv[1])
