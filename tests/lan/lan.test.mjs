// The meter on a LAN: run by tests/lan/run.sh inside the `lan` namespace
// (192.0.2.2 on subnet 1, the router to 198.51.100.0/24). Meter 1 runs in
// LAN_NS_M1 at 192.0.2.1, meter 2 in LAN_NS_M2 at 198.51.100.1, both BBMDs;
// a second client runs in LAN_NS_FAR at 198.51.100.2. Everything on the
// standard ports: BACnet/IP 47808, Modbus TCP 502, SNMP 161, web 80.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { sleep, Meter, RawSocket, bvll, parseBvll, parseNpdu } from '../bacnet/common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../bacnet/package.json'));
const Bacnet = require('@bacnet-js/client').default;

const BINARY = process.env.OPENBCPM_BINARY;
const NS = { m1: process.env.LAN_NS_M1, m2: process.env.LAN_NS_M2, far: process.env.LAN_NS_FAR };
const M1 = '192.0.2.1', M2 = '198.51.100.1', SUBNET1_BROADCAST = '192.0.2.255';
const PORT = 47808;
const BVLC_ORIGINAL_UNICAST = 0x0a, BVLC_ORIGINAL_BROADCAST = 0x0b, BVLC_FORWARDED = 0x04;

const config = ({ address, offset, network, snmp, web }) => `
[gateway]
protocol_mode = 2
[network]
ip_address = "${address}"
netmask = "255.255.255.0"
[faces]
snmp = ${snmp}
web = ${web}
[modbus]
tcp_port = 502
[snmp]
port = 161
[web]
port = 80
[bacnet]
ip_port = ${PORT}
device_id_offset = ${offset}
virt_router_net = ${network}
bbmd_enable = true
[simulation]
speed = 1.0
`;
// Both BBMDs, each reaching the other directly (mask all ones: the router
// between the subnets forwards no broadcast).
const BDT = `// Bdt.ini\n${M1},${PORT},255.255.255.255\n${M2},${PORT},255.255.255.255\n`;

let tmp, meter1, meter2, client;

function meterIn(ns, name, options) {
    const dir = path.join(tmp, name);
    fs.mkdirSync(path.join(dir, 'state'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'meter.toml'), config(options));
    return new Meter(dir, { binary: BINARY, prefix: ['ip', 'netns', 'exec', ns] });
}

before(async () => {
    assert.ok(BINARY && fs.existsSync(BINARY), `the meter binary: ${BINARY}`);
    assert.ok(NS.m1 && NS.m2 && NS.far, 'run by tests/lan/run.sh, which creates the namespaces');
    // run.sh's scratch directory (it removes it, whatever happens).
    tmp = process.env.LAN_WORK_DIR;
    assert.ok(tmp && fs.existsSync(tmp), 'LAN_WORK_DIR from run.sh');
    meter1 = meterIn(NS.m1, 'm1', { address: M1, offset: 50000, network: 50, snmp: true, web: true });
    fs.writeFileSync(path.join(meter1.dir, 'state', 'bdt.ini'), BDT);
    // Meter 2 starts without its bdt.ini (the test adds it later).
    meter2 = meterIn(NS.m2, 'm2', { address: M2, offset: 60000, network: 60, snmp: false, web: false });
    meter1.start();
    meter2.start();
    await meter1.ready();
    await meter2.ready();
    // The BMS workstation of subnet 1: all addresses, port 47808, broadcasts to the subnet.
    client = new Bacnet({ port: PORT, broadcastAddress: SUBNET1_BROADCAST, apduTimeout: 2000 });
    client.on('error', () => {});
    await sleep(200);
});

after(async () => {
    client?.close();
    await meter1?.stop();
    await meter2?.stop();
});

// The I-Ams the client hears within `ms` after `action`: deviceId -> header.
async function iAmsAfter(action, ms = 1500) {
    const seen = new Map();
    const on = (c) => seen.set(c.payload.deviceId, c.header);
    client.on('iAm', on);
    try {
        action();
        await sleep(ms);
    } finally {
        client.off('iAm', on);
    }
    return seen;
}

const whoIsNpdu = [0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x08];  // global Who-Is, no range

// A raw socket beside the client on 47808 (it hears the broadcasts too).
async function listener() {
    const s = new RawSocket(PORT, { reuseAddr: true });
    await s.open();
    return s;
}

const isNetworkMessage = (m, type) => {
    const n = parseNpdu(parseBvll(m).npdu);
    return n.network && n.body[0] === type;
};

// The far client (198.51.100.2): a broadcast Who-Is on subnet 2, with the I-Ams it heard.
function whoIsFromFar() {
    const out = execFileSync('ip', ['netns', 'exec', NS.far, process.execPath, path.join(here, 'who_is.mjs'),
        '198.51.100.255'], { encoding: 'utf8', timeout: 15000 });
    return new Map(JSON.parse(out).map((d) => [d.deviceId, d]));
}

test('the faces listen where they did: Modbus, SNMP and web on the address, BACnet/IP on its port', () => {
    const sockets = execFileSync('ip', ['netns', 'exec', NS.m1, 'ss', '-Hlntu'], { encoding: 'utf8' });
    const listening = sockets.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length > 4)
        .map((f) => `${f[0]} ${f[4]}`);
    for (const want of [`tcp ${M1}:502`, `tcp ${M1}:80`, `udp ${M1}:161`, `udp 0.0.0.0:${PORT}`])
        assert.ok(listening.includes(want), `${want} in ${listening.join(', ')}`);
});

// A global broadcast Who-Is (DNET 0xFFFF), as YABE, bacnet-stack's whois and
// BAC0 send it, to the subnet broadcast address.
const globalWhoIs = () => client.whoIs({ net: 0xffff });

test('a broadcast Who-Is finds the router and both panels, which answer by broadcast from 192.0.2.1', async () => {
    const seen = await iAmsAfter(globalWhoIs);
    for (const id of [50000, 50001, 50002]) {
        assert.ok(seen.has(id), `device ${id}: heard ${[...seen.keys()]}`);
        assert.equal(seen.get(id).sender.address, M1);
        assert.equal(seen.get(id).func, BVLC_ORIGINAL_BROADCAST);
    }
    assert.equal(seen.get(50001).sender.net, 50);
    assert.deepEqual(seen.get(50002).sender.adr, [2]);
    // A local broadcast (no DNET) is for this network only: the router
    // device answers, the panels behind it on network 50 do not (clause 6).
    const local = await iAmsAfter(() => client.whoIs());
    assert.deepEqual([...local.keys()], [50000]);
    assert.equal(local.get(50000).func, BVLC_ORIGINAL_BROADCAST);
});

test('the limited broadcast 255.255.255.255 is heard too', async () => {
    // Bound to the lan namespace's subnet 1 address: Linux sends a limited
    // broadcast out of the interface that holds the socket's address.
    const raw = new RawSocket(PORT + 3, { address: '192.0.2.2' });
    await raw.open();
    try {
        const seen = await iAmsAfter(() => raw.send(bvll(BVLC_ORIGINAL_BROADCAST, whoIsNpdu), { address: '255.255.255.255', port: PORT }));
        for (const id of [50000, 50001, 50002]) assert.ok(seen.has(id), `device ${id}`);
    } finally {
        raw.close();
    }
});

test('a unicast Who-Is is answered to the requester alone, from the meter\'s address', async () => {
    const raw = new RawSocket(PORT + 1);
    await raw.open();
    try {
        raw.send(bvll(BVLC_ORIGINAL_UNICAST, whoIsNpdu), { address: M1, port: PORT });
        const iAm = await raw.waitFor((m) => m[1] === BVLC_ORIGINAL_UNICAST, 'a unicast I-Am');
        assert.equal(iAm.rinfo.address, M1);
        assert.equal(iAm.rinfo.port, PORT);
        await sleep(300);
        assert.equal(raw.received.length, 3, 'three I-Ams, all unicast');
        assert.ok(raw.received.every((m) => m[1] === BVLC_ORIGINAL_UNICAST && m.rinfo.address === M1));
    } finally {
        raw.close();
    }
});

test('Who-Is-Router-To-Network finds network 50; Who-Has finds objects by name', async () => {
    const raw = await listener();
    const to = { address: SUBNET1_BROADCAST, port: PORT };
    try {
        raw.send(bvll(BVLC_ORIGINAL_BROADCAST, [0x01, 0x80, 0x00]), to);
        const iAmRouter = await raw.waitFor((m) => m.rinfo.address === M1 && isNetworkMessage(m, 0x01),
            'I-Am-Router-To-Network');
        assert.equal(parseNpdu(parseBvll(iAmRouter).npdu).body.readUInt16BE(1), 50);
        assert.equal(iAmRouter[1], BVLC_ORIGINAL_BROADCAST);

        const name = Buffer.from('Channel 3 current', 'utf8');
        raw.send(bvll(BVLC_ORIGINAL_BROADCAST, [0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x07, 0x3d,
            name.length + 1, 0x00, ...name]), to);
        for (const mac of [1, 2]) {
            const iHave = await raw.waitFor((m) => {
                if (m.rinfo.address !== M1) return false;
                const n = parseNpdu(parseBvll(m).npdu);
                return !n.network && n.body[0] === 0x10 && n.body[1] === 0x01 && n.sadr?.[0] === mac;
            }, `I-Have from panel ${mac}`);
            const n = parseNpdu(parseBvll(iHave).npdu);
            assert.equal(n.snet, 50);
            assert.equal(n.body.readUInt32BE(3) & 0x3fffff, 50000 + mac);
        }
    } finally {
        raw.close();
    }
});

test('after a restart the meter announces itself: a listener hears its I-Ams unasked', async () => {
    const raw = await listener();
    try {
        await meter1.stop();
        const seen = await iAmsAfter(() => meter1.start(), 4000);
        await meter1.ready();
        for (const id of [50000, 50001, 50002]) assert.ok(seen.has(id), `device ${id}: heard ${[...seen.keys()]}`);
        await raw.waitFor((m) => m.rinfo.address === M1 && isNetworkMessage(m, 0x01), 'I-Am-Router-To-Network');
    } finally {
        raw.close();
    }
});

test('Modbus TCP on 502, SNMP on 161 and the web GUI on 80 answer on the LAN address', () => {
    const modbus = execFileSync('mbpoll', ['-m', 'tcp', '-a', '1', '-r', '1', '-c', '10', '-t', '4', '-1', M1],
        { encoding: 'utf8', timeout: 10000 });
    assert.equal([...modbus.matchAll(/^\[\d+\]:\s+-?\d+/gm)].length, 10, modbus);
    const snmp = execFileSync('snmpget', ['-v2c', '-c', 'public', '-m', '', '-On', '-t', '2', '-r', '1', M1,
        '.1.3.6.1.2.1.1.1.0', '.1.3.6.1.2.1.1.3.0'], { encoding: 'utf8', timeout: 10000,
        // net-snmp keeps its state there (not in /var/lib/snmp).
        env: { ...process.env, SNMP_PERSISTENT_DIR: path.join(tmp, 'snmp') } });
    assert.match(snmp, /^\.1\.3\.6\.1\.2\.1\.1\.1\.0 = STRING: .+/m);
    assert.match(snmp, /^\.1\.3\.6\.1\.2\.1\.1\.3\.0 = Timeticks: /m);
    const web = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5',
        `http://${M1}/`], { encoding: 'utf8' });
    assert.match(web, /^[23]\d\d$/, `HTTP status ${web}`);
});

test('a BBMD without bdt.ini runs alone and says so; with it a Who-Is crosses the subnets', { timeout: 60000 }, async () => {
    // Meter 2 has no bdt.ini: it warned, and serves its own subnet only.
    assert.ok(meter2.count((l) => l.includes('BBMD without a usable bdt.ini')) >= 1, meter2.lines.slice(-5).join(' | '));
    let far = whoIsFromFar();
    assert.deepEqual([...far.keys()].sort(), [60000, 60001, 60002]);

    // With both tables: the far client's Who-Is goes through meter 2 and
    // meter 1 to subnet 1, and the I-Ams of meter 1 come back the same way.
    fs.writeFileSync(path.join(meter2.dir, 'state', 'bdt.ini'), BDT);
    await meter2.stop();
    meter2.start();
    await meter2.ready();
    assert.equal(meter2.count((l) => l.includes('bdt.ini')), 0, 'no warning with a bdt.ini');
    far = whoIsFromFar();
    assert.deepEqual([...far.keys()].sort(), [50000, 50001, 50002, 60000, 60001, 60002]);
    for (const id of [50000, 50001, 50002]) {
        assert.equal(far.get(id).address, M2, 'forwarded by meter 2');
        assert.equal(far.get(id).forwardedFrom, M1);  // the client leaves out port 47808
        assert.equal(far.get(id).func, BVLC_FORWARDED);
    }
    // And the other way: subnet 1's Who-Is finds meter 2's devices through meter 1.
    const seen = await iAmsAfter(globalWhoIs);
    const forwarded = [...seen.entries()].filter(([id, h]) => id >= 60000 && h.sender.forwardedFrom === M2);
    assert.ok(forwarded.length >= 1, `meter 2's devices through meter 1: ${[...seen.keys()]}`);
});

test('a client that floods requests while the link is slow cannot grow the meter\'s memory', { timeout: 60000 }, async (t) => {
    // A token bucket of 64 kbit/s with a deep queue on meter 1's interface:
    // its answers pile up in the kernel until the socket's send buffer is
    // full; from then on the meter drops them (and says so), it queues none.
    try {
        execFileSync('ip', ['netns', 'exec', NS.m1, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', '64kbit',
            'burst', '4kb', 'limit', '16mb']);
    } catch (e) {
        t.skip(`tc tbf is not available here: ${e.message}`);
        return;
    }
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${meter1.proc.pid}/status`, 'utf8'))[1]);
    const raw = new RawSocket(PORT + 2);
    await raw.open();
    try {
        const before = rss();
        // ReadPropertyMultiple, ALL properties of the panel 1 device's AI 1 (about 600 octets answered).
        const rpm = (id) => bvll(BVLC_ORIGINAL_UNICAST, [0x01, 0x24, 0x00, 0x32, 0x01, 0x01, 0xff,
            0x00, 0x05, id & 0xff, 0x0e, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x1e, 0x09, 0x08, 0x1f]);
        for (let burst = 0; burst < 40; ++burst) {
            for (let i = 0; i < 100; ++i) raw.send(rpm(burst * 100 + i), { address: M1, port: PORT });
            await sleep(25);
        }
        await meter1.waitFor((l) => l.includes("datagram(s) not sent since the last report: the socket's send buffer was full"), 10000);
        const grown = rss() - before;
        assert.ok(grown < 16 * 1024, `RSS grew by ${grown} kB`);
    } finally {
        execFileSync('ip', ['netns', 'exec', NS.m1, 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
        raw.close();
    }
    // The meter still answers once the link is fast again.
    await sleep(500);
    const seen = await iAmsAfter(() => client.whoIs({ address: M1 }), 1000);
    assert.ok(seen.has(50000));
});
