#!/usr/bin/env python3
"""Logs in to the web face over and over (each login is one Argon2id
verification) until SECONDS pass; prints how many. Usage:
login_loop.py PORT PASSWORD SECONDS"""
import json
import sys
import time
import urllib.request

port, password, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
origin = "http://127.0.0.1:%d" % port
body = json.dumps({"username": "admin", "password": password}).encode()
end = time.monotonic() + seconds
count = 0
while time.monotonic() < end:
    req = urllib.request.Request(origin + "/api/login", data=body, method="POST",
                                 headers={"Content-Type": "application/json", "Origin": origin})
    with urllib.request.urlopen(req) as r:
        if r.status != 200:
            sys.exit("login answered %d" % r.status)
    count += 1
print("logins %d in %.0f s" % (count, seconds))
