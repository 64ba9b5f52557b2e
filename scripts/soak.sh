#!/usr/bin/env bash
# Soak test (not in CI): the real meter with every face under load together
# for a while, killed with -9 at random moments and restarted, its state
# directory on a small tmpfs that fills up and frees again, and bad input
# thrown at every face. At the end it prints the load held per face, the
# faults survived, the bad inputs tried and the values lost: every write a
# face acknowledged must read back after every restart (must be 0).
# Usage (as root, for the tmpfs): scripts/soak.sh [--minutes 10] [--binary build/openbcpm]
# Everything listens on 127.0.0.1 and is stopped on exit.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
minutes=10
binary="$here/build/openbcpm"
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) minutes="$2"; shift 2 ;;
        --binary) binary="$2"; shift 2 ;;
        *) echo "usage: $0 [--minutes N] [--binary PATH]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" -eq 0 ] || { echo "soak.sh mounts a tmpfs: run it as root" >&2; exit 2; }
work=$(mktemp -d /tmp/openbcpm-soak-XXXXXX)
mkdir -p "$work/disk"
mount -t tmpfs -o size=6m,mode=0755 tmpfs "$work/disk"
cleanup() {
    [ -f "$work/meter.pid" ] && kill -9 "$(cat "$work/meter.pid")" 2>/dev/null || true
    umount -l "$work/disk" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
# Python runs in the background so that a TERM or INT to this script stops it at once.
python3 - "$binary" "$work" "$minutes" "$here" <<'PY' &
import json, os, random, signal, socket, struct, subprocess, sys, threading, time, urllib.request

binary, work, minutes, root = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
disk = os.path.join(work, 'disk')
state = os.path.join(disk, 'state')
rng = random.Random(20261207)

def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p

ports = dict(modbus=free_port(socket.SOCK_STREAM), web=free_port(socket.SOCK_STREAM),
             snmp=free_port(socket.SOCK_DGRAM), bacnet=free_port(socket.SOCK_DGRAM),
             notif=free_port(socket.SOCK_DGRAM))
config = os.path.join(work, 'meter.toml')
with open(config, 'w') as f:
    f.write(f'''[gateway]
protocol_mode = 2
[network]
ip_address = "127.0.0.1"
[faces]
modbus_tcp = true
bacnet_ip = true
snmp = true
web = true
[modbus]
tcp_port = {ports['modbus']}
[snmp]
port = {ports['snmp']}
notif_port = {ports['notif']}
[bacnet]
ip_port = {ports['bacnet']}
[web]
port = {ports['web']}
allow_plain_http = true
[storage]
backup_minutes = 1
[simulation]
speed = 10.0
[[simulation.load]]
panel = 1
channels = [1, 3, 5]
amps = 10.0
''')
os.environ.update(SNMP_PERSISTENT_DIR=os.path.join(work, 'snmp'), SNMPCONFPATH=work, MIBS='')
os.makedirs(os.path.join(work, 'snmp', 'cert_indexes'), exist_ok=True)

lock = threading.Lock()
up = threading.Event()       # the meter answers
stop = threading.Event()
stats = {f: dict(ok=0, refused=0, failed=0, bad=0) for f in ('modbus', 'snmp', 'bacnet', 'web')}
faults = dict(kill9=0, restarts=0, disk_full=0, start_refused_disk_full=0, exit3=0, crashes=0)
# Each face writes its own setting; what it acknowledged last, and what is in flight.
ledger = {}      # key -> last acknowledged value
inflight = {}    # key -> value sent, answer not yet seen
lost = []
meter = None

def count(face, what):
    with lock:
        stats[face][what] += 1

def start_meter():
    global meter
    while not stop.is_set():
        log = open(os.path.join(work, 'meter.log'), 'a')
        meter = subprocess.Popen([binary, 'run', '--config', config, '--state-dir', state],
                                 stdout=log, stderr=subprocess.STDOUT)
        open(os.path.join(work, 'meter.pid'), 'w').write(str(meter.pid))
        deadline = time.time() + 30
        while time.time() < deadline:
            if meter.poll() is not None:
                break
            try:
                socket.create_connection(('127.0.0.1', ports['web']), 0.5).close()
                socket.create_connection(('127.0.0.1', ports['modbus']), 0.5).close()
                time.sleep(0.3)
                return True
            except OSError:
                time.sleep(0.1)
        code = meter.poll()
        if code == 3:
            faults['exit3'] += 1
            print('soak: the meter refused damaged state (exit 3):', tail_log(), file=sys.stderr)
            return False
        if code is not None:
            # A start on a full disk cannot open the store (exit 1): wait for space.
            faults['start_refused_disk_full'] += 1
            time.sleep(1)
            continue
        meter.kill()
        meter.wait()
    return False

def tail_log():
    with open(os.path.join(work, 'meter.log'), errors='replace') as f:
        return ' | '.join(f.read().splitlines()[-5:])

# --- the faces' clients -------------------------------------------------------
def modbus_pdu(sock, pdu, unit=1):
    tid = rng.randrange(65536)
    sock.sendall(struct.pack('>HHHB', tid, 0, len(pdu) + 1, unit) + pdu)
    head = b''
    while len(head) < 7:
        chunk = sock.recv(7 - len(head))
        if not chunk:
            raise OSError('closed')
        head += chunk
    _, _, length, _ = struct.unpack('>HHHB', head)
    body = b''
    while len(body) < length - 1:
        chunk = sock.recv(length - 1 - len(body))
        if not chunk:
            raise OSError('closed')
        body += chunk
    return body

def modbus_read(sock, reg, n=1):
    r = modbus_pdu(sock, struct.pack('>BHH', 3, reg - 1, n))
    if r[0] != 3:
        raise ValueError(f'exception {r[1]}')
    return struct.unpack(f'>{n}H', r[2:2 + 2 * n])

MODBUS_READS = [(1, 125), (126, 125), (251, 125), (376, 125), (531, 2)]

def modbus_client():
    sock = None
    n = 0
    while not stop.is_set():
        if not up.wait(0.5):
            continue
        try:
            if sock is None:
                sock = socket.create_connection(('127.0.0.1', ports['modbus']), 2)
                sock.settimeout(2)
            n += 1
            if n % 50 == 0:
                v = 1 + n // 50 % 6
                inflight['p1.demand_subintervals'] = v
                r = modbus_pdu(sock, struct.pack('>BHH', 6, 70, v))
                if r[0] == 6:
                    ledger['p1.demand_subintervals'] = v
                    count('modbus', 'ok')
                else:
                    count('modbus', 'refused')  # 04 while the disk is full
                inflight.pop('p1.demand_subintervals', None)
            else:
                # Full 125-register reads over the mapped blocks of the panel's map.
                start, length = MODBUS_READS[n % len(MODBUS_READS)]
                modbus_read(sock, start, length)
                count('modbus', 'ok')
        except (OSError, ValueError):
            count('modbus', 'failed')
            if sock:
                sock.close()
            sock = None
            time.sleep(0.05)

def snmp(args, timeout=3):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout + 2)

LOCATION_OID = '.1.3.6.1.4.1.3833.1.30.1.1.6.3.5.0'   # p1Location.0
def snmp_client():
    n = 0
    while not stop.is_set():
        if not up.wait(0.5):
            continue
        n += 1
        try:
            if n % 10 == 0:
                v = f'soak snmp {n}'
                inflight['p1.location'] = v
                r = snmp(['snmpset', '-v2c', '-c', 'private', '-t', '2', '-r', '0',
                          f"127.0.0.1:{ports['snmp']}", LOCATION_OID, 's', v])
                if r.returncode == 0:
                    ledger['p1.location'] = v
                    count('snmp', 'ok')
                elif 'commitFailed' in r.stdout + r.stderr:
                    count('snmp', 'refused')
                else:
                    count('snmp', 'failed')
                inflight.pop('p1.location', None)
            else:
                r = snmp(['snmpbulkget', '-v2c', '-c', 'public', '-t', '2', '-r', '0', '-Cr20',
                          f"127.0.0.1:{ports['snmp']}", '.1.3.6.1.4.1.3833.1.30.1.1'])
                count('snmp', 'ok' if r.returncode == 0 else 'failed')
        except subprocess.TimeoutExpired:
            count('snmp', 'failed')

BACNET = os.path.join(root, 'tests', 'robustness', 'storage', 'bacnet_client.mjs')
def bacnet(*op):
    r = subprocess.run(['node', BACNET, str(ports['bacnet']), str(free_port(socket.SOCK_DGRAM)),
                        '50', '2', *map(str, op)], capture_output=True, text=True, timeout=15)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {'ok': False, 'error': r.stdout + r.stderr}

def bacnet_client():
    n = 0
    while not stop.is_set():
        if not up.wait(0.5):
            continue
        n += 1
        try:
            if n % 5 == 0:
                v = 1 + n // 5 % 6
                inflight['p2.demand_subintervals'] = v
                r = bacnet('write', 2, v)
                if r['ok']:
                    ledger['p2.demand_subintervals'] = v
                    count('bacnet', 'ok')
                elif 'Class:3' in r.get('error', ''):
                    count('bacnet', 'refused')
                else:
                    count('bacnet', 'failed')
                inflight.pop('p2.demand_subintervals', None)
            else:
                count('bacnet', 'ok' if bacnet('read', 2)['ok'] else 'failed')
        except subprocess.TimeoutExpired:
            count('bacnet', 'failed')

class Web:
    def __init__(self):
        self.cookie = self.csrf = None
    def request(self, method, path, body=None, timeout=5):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{ports['web']}{path}", data=data, method=method)
        if data is not None:
            req.add_header('Content-Type', 'application/json')
        if self.cookie:
            req.add_header('Cookie', self.cookie)
            req.add_header('X-CSRF-Token', self.csrf)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers
    def login(self):
        pw = open(os.path.join(state, 'initial-admin-password')).read().strip()
        self.cookie = None
        status, body, headers = self.request('POST', '/api/login', {'username': 'admin', 'password': pw})
        if status != 200:
            raise OSError(f'login {status}')
        self.cookie = headers['Set-Cookie'].split(';')[0]
        self.csrf = json.loads(body)['csrf']
        self.request('POST', '/api/security', {'mode': 'http'})

def web_client():
    web = Web()
    n = 0
    while not stop.is_set():
        if not up.wait(0.5):
            continue
        n += 1
        try:
            if web.cookie is None:
                web.login()
            if n % 20 == 0:
                v = f'soak web {n}'
                inflight['p2.location'] = v
                status, _, _ = web.request('POST', '/api/settings', {'settings': {'panel.2.location': v}})
                if status == 200:
                    ledger['p2.location'] = v
                    count('web', 'ok')
                elif status == 503:
                    count('web', 'refused')
                else:
                    count('web', 'failed')
                    web.cookie = None
                inflight.pop('p2.location', None)
            else:
                status, _, _ = web.request('GET', '/api/snapshot')
                count('web', 'ok' if status == 200 else 'failed')
                if status == 401:
                    web.cookie = None
        except (OSError, ValueError, KeyError):
            count('web', 'failed')
            web.cookie = None
            time.sleep(0.1)

def bad_inputs():
    # Garbage for every face: random frames, wrong lengths, junk datagrams and HTTP.
    while not stop.is_set():
        if not up.wait(0.5):
            continue
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        face = rng.choice(['modbus', 'snmp', 'bacnet', 'web'])
        try:
            if face in ('snmp', 'bacnet'):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.sendto(junk, ('127.0.0.1', ports[face]))
                s.close()
            else:
                s = socket.create_connection(('127.0.0.1', ports[face]), 1)
                if face == 'modbus' and rng.random() < 0.5:
                    junk = struct.pack('>HHHB', 1, 0, rng.randrange(65536), 1) + junk  # lying length
                if face == 'web' and rng.random() < 0.5:
                    junk = b'POST /api/settings HTTP/1.1\r\nContent-Length: 99999999\r\n' + junk
                s.sendall(junk)
                s.settimeout(0.3)
                try:
                    s.recv(4096)
                except OSError:
                    pass
                s.close()
            count(face, 'bad')
        except OSError:
            pass
        time.sleep(0.02)

# --- checks -------------------------------------------------------------------
def read_back():
    """The settings as every face's reader sees them after a restart."""
    out = {}
    s = socket.create_connection(('127.0.0.1', ports['modbus']), 3)
    s.settimeout(3)
    out['p1.demand_subintervals'] = modbus_read(s, 71)[0]
    s.close()
    r = snmp(['snmpget', '-v2c', '-c', 'public', '-Oqv', '-t', '3', f"127.0.0.1:{ports['snmp']}", LOCATION_OID])
    out['p1.location'] = r.stdout.strip().strip('"')
    r = bacnet('read', 2)
    out['p2.demand_subintervals'] = int(r['value']) if r.get('ok') else None
    web = Web()
    web.login()
    _, body, _ = web.request('GET', '/api/settings?prefix=panel.2.location')
    out['p2.location'] = json.loads(body)['settings'][0]['value']
    return out

def check_ledger(when):
    seen = read_back()
    for key, acked in list(ledger.items()):
        ok = {acked, inflight.get(key)}
        if seen.get(key) not in ok:
            lost.append(f'{when}: {key} acknowledged {acked!r}, reads {seen.get(key)!r}')

def filler(on):
    path = os.path.join(disk, 'filler')
    if not on:
        if os.path.exists(path):
            os.remove(path)
        return
    # Unbuffered, block by block then byte by byte, until no block is left.
    with open(path, 'ab', buffering=0) as f:
        for size in (4096, 1):
            try:
                while f.write(b'x' * size) == size:
                    pass
            except OSError:
                pass

# --- the run --------------------------------------------------------------------
if not start_meter():
    sys.exit('soak: the meter did not start: ' + tail_log())
up.set()
threads = [threading.Thread(target=t, daemon=True)
           for t in (modbus_client, snmp_client, bacnet_client, web_client, bad_inputs)]
for t in threads:
    t.start()
began = time.time()
end = began + minutes * 60
downtime = 0.0
next_kill = began + rng.uniform(20, 60)

def disk_cycles():
    # Fills and frees on its own clock: a restart that waits for space (a
    # start on a full disk cannot open the store) is not what frees it.
    full = False
    at = began + rng.uniform(10, 30)
    while not stop.wait(0.2):
        if time.time() < at:
            continue
        full = not full
        filler(full)
        if full:
            faults['disk_full'] += 1
        at = time.time() + (rng.uniform(8, 20) if full else rng.uniform(20, 50))
    filler(False)

disk_thread = threading.Thread(target=disk_cycles, daemon=True)
disk_thread.start()
while time.time() < end:
    time.sleep(0.2)
    now = time.time()
    if meter.poll() is not None:
        faults['crashes'] += 1
        print('soak: the meter exited by itself:', meter.returncode, tail_log(), file=sys.stderr)
        up.clear()
        t0 = time.time()
        if not start_meter():
            break
        downtime += time.time() - t0
        up.set()
    if now >= next_kill:
        up.clear()
        time.sleep(0.05)
        meter.send_signal(signal.SIGKILL)
        meter.wait()
        faults['kill9'] += 1
        t0 = time.time()
        if not start_meter():
            break
        faults['restarts'] += 1
        downtime += time.time() - t0
        try:
            check_ledger(f'after kill -9 #{faults["kill9"]}')
        except (OSError, ValueError, KeyError, IndexError) as e:
            lost.append(f'after kill -9 #{faults["kill9"]}: could not read back: {e}')
        up.set()
        next_kill = now + rng.uniform(20, 60)
stop.set()
up.set()
for t in threads + [disk_thread]:
    t.join(20)
filler(False)
time.sleep(2)
try:
    check_ledger('at the end')
except (OSError, ValueError, KeyError, IndexError) as e:
    lost.append(f'at the end: could not read back: {e}')
meter.send_signal(signal.SIGTERM)
clean = meter.wait(30) == 0
elapsed = time.time() - began
up_s = elapsed - downtime

print(f'soak: {elapsed / 60:.1f} min, meter up {up_s:.0f} s of {elapsed:.0f} s')
print('load held (answers per second while up; refused = storage failing, the protocol\'s error):')
for face, s in stats.items():
    total = s['ok'] + s['refused'] + s['failed']
    print(f"  {face:7s} {s['ok'] / up_s:8.1f}/s ok, {s['refused']} refused, {s['failed']} failed "
          f"({100.0 * s['failed'] / max(total, 1):.2f} %)")
print(f"faults survived: {faults['kill9']} kill -9 (each restarted), {faults['disk_full']} disk-full "
      f"episodes, {faults['start_refused_disk_full']} starts refused on a full disk, "
      f"{faults['crashes']} crashes, {faults['exit3']} refusals of damaged state")
per_face = ', '.join(f"{f} {s['bad']}" for f, s in stats.items())
print(f"bad inputs tried: {sum(s['bad'] for s in stats.values())} ({per_face})")
print(f'values lost: {len(lost)}')
for l in lost:
    print('  ' + l)
print(f'clean stop at the end: {"yes" if clean else "NO"}')
sys.exit(0 if not lost and faults['crashes'] == 0 and faults['exit3'] == 0 and clean else 1)
PY
soak=$!
trap 'kill "$soak" 2>/dev/null; exit 143' TERM INT
wait "$soak"
