// Integration test of Operating_Mode, the Active profiles and the RTC across
// restarts, on the REAL binary (path in OPENBCPM_BINARY) on 127.0.0.1:
// BACnet/IP mode (the primary protocol), an independent BACnet client
// (@bacnet-js/client: Who-Is, ReadProperty, TimeSynchronization,
// ReinitializeDevice), the web API for Remove / Operating_Mode / System
// Restart, and mbpoll for Modbus TCP (not the primary protocol in this mode).
// Ports 47961..47964 (the meter of the first tests), 47966..47968 (the Locked ones).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { sleep, value, Meter } from './common.mjs';

const require = createRequire(import.meta.url);
const Bacnet = require('@bacnet-js/client').default;
const { ObjectType, PropertyIdentifier: P } = require('@bacnet-js/client');

const BINARY = process.env.OPENBCPM_BINARY ?? path.resolve('../../build/openbcpm');
const HOST = '127.0.0.1';
const BACNET_PORT = 47961, CLIENT_PORT = 47962, MODBUS_PORT = 47963, WEB_PORT = 47964;
const OFFSET = 60000, NET = 60;
const meterAddress = `${HOST}:${BACNET_PORT}`;
const router = { address: meterAddress };
const panel = (mac) => ({ address: meterAddress, net: NET, adr: [mac] });
const base = `http://${HOST}:${WEB_PORT}`;

const CONFIG = `
[device]
channels = 84
[gateway]
protocol_mode = 2
[network]
ip_address = "${HOST}"
[faces]
snmp = false
[modbus]
tcp_port = ${MODBUS_PORT}
[bacnet]
ip_port = ${BACNET_PORT}
device_id_offset = ${OFFSET}
virt_router_net = ${NET}
password = "secret"
[web]
port = ${WEB_PORT}
allow_plain_http = true
[simulation]
speed = 1.0
`;

let meter, client, tmp, web;
let starts = 1;

before(async () => {
    assert.ok(fs.existsSync(BINARY), `the meter binary: ${BINARY}`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openbcpm-profiles-'));
    fs.mkdirSync(path.join(tmp, 'state'));
    fs.writeFileSync(path.join(tmp, 'meter.toml'), CONFIG);
    meter = new Meter(tmp, { binary: BINARY });
    meter.start();
    await meter.ready();
    client = new Bacnet({ port: CLIENT_PORT, interface: HOST, broadcastAddress: HOST, apduTimeout: 1500 });
    client.on('error', () => {});
    // The web: log in (plain HTTP, allowed by the config) and choose the mode.
    const password = fs.readFileSync(path.join(tmp, 'state', 'initial-admin-password'), 'utf8').trim();
    const login = await fetch(`${base}/api/login`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
    });
    assert.equal(login.status, 200, await login.clone().text());
    web = { cookie: login.headers.get('set-cookie').split(';')[0], csrf: (await login.json()).csrf };
    const chosen = await post('/api/security', { mode: 'http' });
    assert.equal(chosen.status, 200, JSON.stringify(chosen.body));
});

after(async () => {
    client?.close();
    await meter?.stop();
    if (process.env.BACNET_KEEP_LOGS) console.log(`meter log kept in ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
});

async function post(route, body) {
    const r = await fetch(`${base}${route}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Cookie: web.cookie, 'X-CSRF-Token': web.csrf },
        body: JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
}
async function get(route) {
    const r = await fetch(`${base}${route}`, { headers: { Cookie: web.cookie } });
    assert.equal(r.status, 200);
    return r.json();
}

// The devices answering a global Who-Is.
async function discover() {
    const seen = new Set();
    const on = (c) => seen.add(c.payload.deviceId);
    client.on('iAm', on);
    client.whoIs({ address: meterAddress, net: 0xffff });
    await sleep(600);
    client.off('iAm', on);
    return [...seen].sort((a, b) => a - b);
}

async function restartFromTheGui() {
    const r = await post('/api/restart', {});
    assert.equal(r.status, 202);
    await meter.ready(++starts);
    await sleep(200);
}

// The RTC as Local_Date and Local_Time of the router device, in ms since 1970 (UTC).
async function rtc() {
    const dev = { type: ObjectType.DEVICE, instance: OFFSET };
    const d = value(await client.readProperty(router, dev, P.LOCAL_DATE));
    const t = value(await client.readProperty(router, dev, P.LOCAL_TIME));
    return Date.UTC(d.getFullYear(), d.getMonth(), d.getDate(), t.getHours(), t.getMinutes(), t.getSeconds());
}

function modbusRead(register, unit, port = MODBUS_PORT) {
    const out = execFileSync('mbpoll', ['-m', 'tcp', '-a', String(unit), '-r', String(register), '-c', '1',
        '-t', '4', '-1', '-p', String(port), HOST], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return Number(out.match(/^\[\d+\]:\s+(-?\d+)/m)[1]);
}

const SYNCED = Date.UTC(2031, 4, 6, 7, 8, 9);

test('ReinitializeDevice warmstart and System Restart keep the RTC; coldstart starts it afresh', async () => {
    client.timeSyncUTC({ address: meterAddress, net: 0xffff }, new Date(SYNCED));
    await meter.waitFor((l) => l.includes('time synchronisation set the RTC'));
    await sleep(200);
    const synced = Date.now();
    assert.ok(Math.abs((await rtc()) - SYNCED) <= 2000);

    await client.reinitializeDevice(router, 1, { password: 'secret' });  // warmstart
    await meter.ready(++starts);
    await sleep(200);
    let drift = (await rtc()) - (SYNCED + (Date.now() - synced));
    assert.ok(Math.abs(drift) <= 3000, `RTC after warmstart off by ${drift} ms`);

    await restartFromTheGui();
    drift = (await rtc()) - (SYNCED + (Date.now() - synced));
    assert.ok(Math.abs(drift) <= 3000, `RTC after System Restart off by ${drift} ms`);

    await client.reinitializeDevice(router, 0, { password: 'secret' });  // coldstart
    await meter.ready(++starts);
    await sleep(200);
    assert.equal(new Date(await rtc()).getUTCFullYear(), 2000, 'a coldstart starts the RTC afresh');
});

test('Discovery mode: a removed profile comes back at restart', async () => {
    assert.deepEqual(await discover(), [OFFSET, OFFSET + 1, OFFSET + 2]);
    const removed = await post('/api/profiles/remove', { panel: 2 });
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.equal(removed.body.profiles[1].removed, true);
    assert.match(removed.body.message, /System Restart/);
    // Used at restart only: panel 2 is still served now.
    assert.deepEqual(await discover(), [OFFSET, OFFSET + 1, OFFSET + 2]);
    await restartFromTheGui();
    assert.deepEqual(await discover(), [OFFSET, OFFSET + 1, OFFSET + 2]);
    const p = await get('/api/profiles');
    assert.deepEqual(p.profiles.map((a) => [a.number, a.removed]), [[1, false], [2, false]]);
    assert.deepEqual(p.not_served, []);
});

test('Locked mode: a removed profile stays removed, panel 2 is not served on BACnet, Remove is refused', async () => {
    assert.equal((await post('/api/profiles/remove', { panel: 2 })).status, 200);
    const locked = await post('/api/parameters', { name: 'Operating_Mode', value: '0' });
    assert.equal(locked.status, 200, JSON.stringify(locked.body));
    // Locked is stored: profile changes are refused already.
    const refused = await post('/api/profiles/remove', { panel: 1 });
    assert.equal(refused.status, 409);
    assert.match(refused.body.error, /Locked/);

    await restartFromTheGui();
    assert.deepEqual(await discover(), [OFFSET, OFFSET + 1]);
    await assert.rejects(client.readProperty(panel(2), { type: ObjectType.DEVICE, instance: OFFSET + 2 },
        P.OBJECT_NAME), /ERR_TIMEOUT/);
    assert.equal(value(await client.readProperty(panel(1), { type: ObjectType.DEVICE, instance: OFFSET + 1 },
        P.OBJECT_NAME)), `BCPME_1`);
    // Modbus TCP is not the primary protocol in BACnet IP mode: unit 2 still answers (register 3: firmware).
    assert.equal(modbusRead(3, 2), 1030);
    const p = await get('/api/profiles');
    assert.deepEqual(p.profiles.map((a) => a.number), [1]);
    assert.deepEqual(p.not_served, [2]);
    assert.equal(p.operating_mode, 0);
    const again = await post('/api/profiles/remove', { panel: 1 });
    assert.equal(again.status, 409);

    // Back to Discovery: every panel is discovered again at the next restart.
    assert.equal((await post('/api/parameters', { name: 'Operating_Mode', value: '1' })).status, 200);
    await restartFromTheGui();
    assert.deepEqual(await discover(), [OFFSET, OFFSET + 1, OFFSET + 2]);
    const audit = JSON.stringify(await get('/api/audit'));
    assert.match(audit, /profile removed/);
    assert.match(audit, /profile removal refused/);
});

// The primary protocol per Protocol_Mode, Locked and the removed set given in
// the configuration file (a fresh state directory each): SNMP mode hides the
// panel's MIB subtree (net-snmp's snmpget), Modbus mode its unit (mbpoll).
const LOCKED_MODBUS = 47966, LOCKED_SNMP = 47967, LOCKED_NOTIF = 47968;
async function lockedMeter(mode, removed) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openbcpm-profiles-locked-'));
    fs.mkdirSync(path.join(dir, 'state'));
    fs.writeFileSync(path.join(dir, 'meter.toml'), `
[device]
channels = 84
[gateway]
protocol_mode = ${mode}
operating_mode = 0
removed_profiles = ${removed}
[network]
ip_address = "${HOST}"
[faces]
web = false
bacnet_ip = false
[modbus]
tcp_port = ${LOCKED_MODBUS}
[snmp]
port = ${LOCKED_SNMP}
notif_port = ${LOCKED_NOTIF}
`);
    const m = new Meter(dir, { binary: BINARY });
    m.start();
    await m.waitFor((l) => l.includes('Modbus TCP on') && l.includes('started'));
    await m.waitFor((l) => l.includes('Locked mode: panel'));
    return { m, dir };
}

function snmpget(oid) {
    return execFileSync('snmpget', ['-v2c', '-c', 'public', '-On', `${HOST}:${LOCKED_SNMP}`, oid],
        { encoding: 'utf8' }).trim();
}

test('Locked, SNMP mode: the removed panel has no MIB subtree; Modbus mode: no unit', async (t) => {
    try {
        execFileSync('snmpget', ['--version'], { stdio: 'ignore' });
    } catch {
        t.skip('net-snmp tools missing (scripts/install-deps.sh installs them)');
        return;
    }
    const panelOid = (p) => `.1.3.6.1.4.1.3833.1.30.1.${p}.1.1.5.0`;
    let { m, dir } = await lockedMeter(3, 1);
    try {
        await sleep(300);
        assert.match(snmpget(panelOid(1)), /No Such Object/);
        assert.match(snmpget(panelOid(2)), /Gauge32/);
        assert.equal(modbusRead(3, 1, LOCKED_MODBUS), 1030);  // Modbus TCP is not the primary protocol here
    } finally {
        await m.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
    ({ m, dir } = await lockedMeter(4, 2));
    try {
        assert.equal(modbusRead(3, 1, LOCKED_MODBUS), 1030);
        // Unit 2: exception 0B (gateway target device failed to respond).
        assert.throws(() => modbusRead(3, 2, LOCKED_MODBUS), /Target device failed to respond/);
    } finally {
        await m.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
