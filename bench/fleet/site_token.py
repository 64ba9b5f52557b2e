#!/usr/bin/env python3
"""Logs in to one meter's web face (HTTPS, its own admin and initial
password), makes the first visit's security choice (self-signed HTTPS, as a
browser's first visit does) and prints a new read token, which
`GET /metrics?scope=site` accepts as `Authorization: Bearer`.
Usage: site_token.py ADDRESS PORT PASSWORD_FILE"""
import http.cookiejar
import json
import ssl
import sys
import urllib.request

address, port, password_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
base = f"https://{address}:{port}"
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx),
                                     urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
csrf = ""


def post(path, body):
    req = urllib.request.Request(base + path, method="POST", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", "Origin": base,
                                          "X-CSRF-Token": csrf})
    with opener.open(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


with open(password_file) as f:
    password = f.read().strip()
csrf = post("/api/login", {"username": "admin", "password": password})["csrf"]
post("/api/security", {"mode": "https-self-signed"})
print(post("/api/metrics-token", {})["token"])
