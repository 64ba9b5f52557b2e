// Integration tests of the meter's BACnet/IP face: the REAL binary
// (`openbcpm run --config FILE --state-dir DIR`, path in OPENBCPM_BINARY)
// on 127.0.0.1, driven by an independent client (@bacnet-js/client), raw
// UDP sockets for what the client cannot send (Who-Is-Router-To-Network,
// Who-Has, BVLL of a BBMD peer) and mbpoll for the Modbus side.
// Ports 47921..47935. The meter runs a scenario: channel 7 of panel 1 steps
// from 5 A to 9 A at 14 s (COV, under every threshold), channel 3 goes to 80 % of its breaker
// from 16 s to 21 s (high and high-high latch: an event).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { sleep, waitEvent, value, destinationOctets, Meter, RawSocket, bvll, parseBvll, parseNpdu } from './common.mjs';

const require = createRequire(import.meta.url);
const Bacnet = require('@bacnet-js/client').default;
const { ObjectType, PropertyIdentifier: P, ApplicationTag: T } = require('@bacnet-js/client');

const BINARY = process.env.OPENBCPM_BINARY ?? path.resolve('../../build-bacnet2/openbcpm');
const HOST = '127.0.0.1';
const BACNET_PORT = 47921, CLIENT_PORT = 47923, PEER_PORT = 47924, FD_PORT = 47925, RAW_PORT = 47926;
const MODBUS_PORT = 47931;
const OFFSET = 50000;
let NET = 50;
const meterAddress = `${HOST}:${BACNET_PORT}`;
const router = { address: meterAddress };
const panel = (mac) => ({ address: meterAddress, net: NET, adr: [mac] });

// Instances from docs/bacnet-objects.md.
const AI_CH3_CURRENT = 419, AI_CH7_CURRENT = 423, AV_CH3_EVENT_STATUS = 111;
const AV_CT_CH5 = 8, AV_USER_DEFINED = 164, AV_HH_THRESHOLD = 102;

const CONFIG = `
[device]
channels = 84
[gateway]
protocol_mode = 2
[network]
ip_address = "${HOST}"
netmask = "255.255.255.0"
[faces]
web = false
snmp = false
[modbus]
tcp_port = ${MODBUS_PORT}
[bacnet]
ip_port = ${BACNET_PORT}
password = "secret"
bbmd_enable = true
[panel.1]
on_time = 1
h_delay = 1
hh_delay = 1
[storage]
checkpoint_ms = 200
[simulation]
speed = 1.0
current_noise = 0.0
[[simulation.load]]
panel = 1
channel = 3
amps = 10.0
[[simulation.load]]
panel = 1
channel = 7
amps = 5.0
[[simulation.event]]
at = 14.0
action = "set-load"
panel = 1
channel = 7
amps = 9.0
[[simulation.event]]
at = 16.0
action = "ramp"
panel = 1
channel = 3
amps = 16.0
duration = 0.3
[[simulation.event]]
at = 21.0
action = "ramp"
panel = 1
channel = 3
amps = 10.0
duration = 0.3
`;

const prop = (obj, id) => obj.values.find((p) => p.id === id)?.value;

// Registers over Modbus TCP with mbpoll (register N = PDU address N - 1).
function modbusRead(register, count = 1, unit = 1) {
    const out = execFileSync('mbpoll', ['-m', 'tcp', '-a', String(unit), '-r', String(register),
        '-c', String(count), '-t', '4', '-1', '-p', String(MODBUS_PORT), HOST], { encoding: 'utf8' });
    return [...out.matchAll(/^\[(\d+)\]:\s+(-?\d+)/gm)].map((m) => Number(m[2]));
}

// Raw sockets on loopback beside the client, sending to the meter.
const rawSocket = (port) => new RawSocket(port, { address: HOST, target: { address: HOST, port: BACNET_PORT } });

let meter, client, tmp;

before(async () => {
    assert.ok(fs.existsSync(BINARY), `the meter binary: ${BINARY}`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openbcpm-bacnet-meter-'));
    fs.mkdirSync(path.join(tmp, 'state'));
    fs.writeFileSync(path.join(tmp, 'meter.toml'), CONFIG);
    // The BDT: this meter and a peer BBMD (the test's raw socket).
    fs.writeFileSync(path.join(tmp, 'state', 'bdt.ini'),
        `// Bdt.ini\n${HOST},${BACNET_PORT},255.255.255.255\n${HOST},${PEER_PORT},255.255.255.255\n`);
    meter = new Meter(tmp, { binary: BINARY });
    meter.start();
    await meter.ready();
    client = new Bacnet({ port: CLIENT_PORT, interface: HOST, broadcastAddress: HOST, apduTimeout: 2000 });
    client.on('error', () => {});
    await sleep(100);
});

after(async () => {
    client?.close();
    await meter?.stop();
    if (process.env.BACNET_KEEP_LOGS) console.log(`meter log kept in ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
});

async function discover() {
    const seen = new Map();
    const on = (c) => seen.set(c.payload.deviceId, c.header.sender);
    client.on('iAm', on);
    client.whoIs({ address: meterAddress, net: 0xffff });
    await sleep(600);
    client.off('iAm', on);
    return seen;
}

test('discovery: Who-Is, Who-Is-Router-To-Network and Who-Has reach all three devices', async () => {
    const seen = await discover();
    assert.deepEqual([...seen.keys()].sort(), [OFFSET, OFFSET + 1, OFFSET + 2]);
    assert.equal(seen.get(OFFSET).net, undefined, 'the router device is on our network');
    assert.equal(seen.get(OFFSET + 1).net, 50);
    assert.deepEqual(seen.get(OFFSET + 1).adr, [1]);
    assert.deepEqual(seen.get(OFFSET + 2).adr, [2]);
    const ranged = waitEvent(client, 'iAm');
    client.whoIs({ address: meterAddress, net: 50 }, { lowLimit: OFFSET + 2, highLimit: OFFSET + 2 });
    assert.equal((await ranged).payload.deviceId, OFFSET + 2);

    const peer = rawSocket(PEER_PORT);
    const raw = rawSocket(RAW_PORT);
    await peer.open();
    await raw.open();
    try {
        // Who-Is-Router-To-Network: I-Am-Router-To-Network(50), broadcast (to the BDT peer).
        peer.send(bvll(0x0a, [0x01, 0x80, 0x00]));
        await peer.waitFor((m) => {
            const { npdu } = parseBvll(m);
            const n = parseNpdu(npdu);
            return n.network && n.body[0] === 0x01 && n.body.readUInt16BE(1) === 50;
        }, 'I-Am-Router-To-Network(50)');
        // Who-Has by name (global): both panels have "Channel 3 current".
        const name = Buffer.from('Channel 3 current', 'utf8');
        raw.send(bvll(0x0a, [0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x07, 0x3d, name.length + 1, 0x00, ...name]));
        const iHaveFrom = async (instance, objectType, objectInstance) => raw.waitFor((m) => {
            const n = parseNpdu(parseBvll(m).npdu);
            if (n.network || n.body[0] !== 0x10 || n.body[1] !== 0x01) return false;
            const dev = n.body.readUInt32BE(3) & 0x3fffff;
            const obj = n.body.readUInt32BE(8);
            return dev === instance && obj >>> 22 === objectType && (obj & 0x3fffff) === objectInstance;
        }, `I-Have from ${instance}`);
        const p1 = await iHaveFrom(OFFSET + 1, 0, AI_CH3_CURRENT);
        assert.equal(parseNpdu(parseBvll(p1).npdu).snet, 50);
        await iHaveFrom(OFFSET + 2, 0, AI_CH3_CURRENT);
        // Who-Has by identifier: the router's own device object.
        const id = ((8 << 22) | OFFSET) >>> 0;
        raw.send(bvll(0x0a, [0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x07, 0x2c,
            id >>> 24, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff]));
        await iHaveFrom(OFFSET, 8, OFFSET);
    } finally {
        peer.close();
        raw.close();
    }
});

test('ReadProperty and ReadPropertyMultiple of every object type', async () => {
    const dev1 = { type: ObjectType.DEVICE, instance: OFFSET + 1 };
    assert.equal(value(await client.readProperty(panel(1), dev1, P.OBJECT_NAME)), 'BCPME_1');
    assert.equal(value(await client.readProperty(panel(1), dev1, P.VENDOR_IDENTIFIER)), 335);
    assert.equal(value(await client.readProperty(panel(1), dev1, P.MODEL_NAME)), 'BCPME84');
    assert.equal(value(await client.readProperty(router, { type: ObjectType.DEVICE, instance: OFFSET }, P.OBJECT_NAME)),
        'BCPME_Gateway');
    // The whole Object_List (segmented: thousands of objects).
    const count = value(await client.readProperty(panel(1), dev1, P.OBJECT_LIST, { arrayIndex: 0 }));
    assert.ok(count > 3600, `objects: ${count}`);
    const list = await client.readProperty(panel(1), dev1, P.OBJECT_LIST);
    assert.equal(list.values.length, count);
    const has = (type, instance) => list.values.some((v) => v.value.type === type && v.value.instance === instance);
    assert.ok(has(ObjectType.ANALOG_VALUE, 164) && has(ObjectType.ANALOG_OUTPUT, 2) &&
        has(ObjectType.NOTIFICATION_CLASS, 1) && has(ObjectType.ANALOG_INPUT, AI_CH3_CURRENT));

    // Analog Input: ALL properties.
    const ai = await client.readPropertyMultiple(panel(1), [
        { objectId: { type: ObjectType.ANALOG_INPUT, instance: AI_CH3_CURRENT }, properties: [{ id: P.ALL }] },
    ]);
    const aip = ai.values[0];
    assert.equal(prop(aip, P.OBJECT_NAME)[0].value, 'Channel 3 current');
    assert.equal(prop(aip, P.UNITS)[0].value, 3);  // amperes
    assert.ok(Math.abs(prop(aip, P.PRESENT_VALUE)[0].value - 10) < 0.5);
    assert.equal(prop(aip, P.EVENT_STATE)[0].value, 0);
    assert.equal(prop(aip, P.OUT_OF_SERVICE)[0].value, false);
    assert.equal(prop(aip, P.RELIABILITY)[0].value, 0);
    assert.equal(prop(aip, P.COV_INCREMENT)[0].value, 0.5);
    assert.equal(prop(aip, P.NOTIFICATION_CLASS)[0].value, 1);
    assert.equal(prop(aip, P.HIGH_LIMIT)[0].value, 12);  // 60 % of the 20 A breaker
    // Analog Value, Analog Output, Notification Class and the router's AVs in one request.
    const many = await client.readPropertyMultiple(panel(1), [
        { objectId: { type: ObjectType.ANALOG_VALUE, instance: AV_USER_DEFINED },
            properties: [{ id: P.PRESENT_VALUE }, { id: P.OBJECT_NAME }, { id: P.MAX_PRES_VALUE }] },
        { objectId: { type: ObjectType.ANALOG_VALUE, instance: AV_HH_THRESHOLD },
            properties: [{ id: P.PRESENT_VALUE }, { id: P.UNITS }] },
        { objectId: { type: ObjectType.ANALOG_OUTPUT, instance: 2 }, properties: [{ id: P.ALL }] },
        { objectId: { type: ObjectType.NOTIFICATION_CLASS, instance: 1 }, properties: [{ id: P.ALL }] },
    ]);
    assert.equal(prop(many.values[0], P.PRESENT_VALUE)[0].value, 0);
    assert.equal(prop(many.values[0], P.OBJECT_NAME)[0].value, 'User defined settings (62017)');
    assert.equal(prop(many.values[0], P.MAX_PRES_VALUE)[0].value, 15);
    assert.equal(prop(many.values[1], P.PRESENT_VALUE)[0].value, 70);
    assert.equal(prop(many.values[1], P.UNITS)[0].value, 98);  // percent
    assert.equal(prop(many.values[2], P.OBJECT_NAME)[0].value, 'Global reset');
    assert.equal(prop(many.values[2], P.PRIORITY_ARRAY).length, 16);
    assert.equal(prop(many.values[2], P.RELINQUISH_DEFAULT)[0].value, 0);
    assert.deepEqual(prop(many.values[3], P.PRIORITY).map((v) => v.value), [100, 100, 200]);
    const avs = await client.readPropertyMultiple(router, [
        { objectId: { type: ObjectType.ANALOG_VALUE, instance: 1 }, properties: [{ id: P.PRESENT_VALUE }] },
        { objectId: { type: ObjectType.ANALOG_VALUE, instance: 2 }, properties: [{ id: P.PRESENT_VALUE }] },
    ]);
    assert.equal(prop(avs.values[0], P.PRESENT_VALUE)[0].value, OFFSET);
    assert.equal(prop(avs.values[1], P.PRESENT_VALUE)[0].value, 50);
    await assert.rejects(client.readProperty(panel(1), { type: ObjectType.ANALOG_INPUT, instance: 99999 }, P.PRESENT_VALUE),
        /Class:1 - Code:31/);  // object, unknown-object
});

// The mains by phase (docs/decisions.md): energy, snapshot, kW demand and max
// kW demand of aux 1..3 at AI3282..AI3293, beside their totals AI21, AI3278,
// AI43, AI44. One ReadPropertyMultiple reads one snapshot, so they add up.
test('the mains by phase (AI3282..AI3293) add up to the mains totals and read as over Modbus', async () => {
    const AO_GLOBAL_RESET = { type: ObjectType.ANALOG_OUTPUT, instance: 2 };
    // Some energy first (the mains, AI21), then 26012: a demand sub-interval ends
    // now, so demand and snapshots get values.
    const mainsKwh = { type: ObjectType.ANALOG_INPUT, instance: 21 };
    for (let i = 0; i < 50 && !(value(await client.readProperty(panel(1), mainsKwh, P.PRESENT_VALUE)) > 0); ++i)
        await sleep(100);
    await client.writeProperty(panel(1), AO_GLOBAL_RESET, P.PRESENT_VALUE, [{ type: T.REAL, value: 26012 }], {});
    const rows = [
        { name: 'energy', phases: [3282, 3283, 3284], total: 21, units: 19 },  // kilowatt-hours
        { name: 'energy snapshot', phases: [3285, 3286, 3287], total: 3278, units: 19 },
        { name: 'real power demand', phases: [3288, 3289, 3290], total: 43, units: 48 },  // kilowatts
        { name: 'max real power demand', phases: [3291, 3292, 3293], total: 44, units: 48 },
    ];
    const instances = rows.flatMap((r) => [...r.phases, r.total]);
    const rpm = await client.readPropertyMultiple(panel(1), instances.map((instance) => ({
        objectId: { type: ObjectType.ANALOG_INPUT, instance },
        properties: [{ id: P.PRESENT_VALUE }, { id: P.OBJECT_NAME }, { id: P.UNITS }],
    })));
    const read = new Map(rpm.values.map((o) => [o.objectId.instance, {
        value: prop(o, P.PRESENT_VALUE)[0].value, name: prop(o, P.OBJECT_NAME)[0].value, units: prop(o, P.UNITS)[0].value,
    }]));
    for (const r of rows) {
        r.phases.forEach((instance, i) => {
            assert.equal(read.get(instance).name, `Aux ${i + 1} ${r.name}`);
            assert.equal(read.get(instance).units, r.units, `AI${instance} units`);
        });
        const sum = r.phases.reduce((s, instance) => s + read.get(instance).value, 0);
        const total = read.get(r.total).value;
        assert.ok(total > 0, `${r.name}: total ${total}`);
        assert.ok(Math.abs(sum - total) <= 1e-5 * total, `${r.name}: phases ${sum}, total ${total}`);
    }
    // The same max kW demands over Modbus: 3516..3518 at the phases' power scales (288..290).
    const int16 = (v) => (v > 32767 ? v - 65536 : v);  // mbpoll prints the words unsigned
    const scales = modbusRead(288, 3).map(int16);
    const registers = modbusRead(3516, 3).map(int16);
    [3291, 3292, 3293].forEach((instance, i) => {
        const modbus = registers[i] * 10 ** scales[i];
        assert.ok(Math.abs(modbus - read.get(instance).value) <= 10 ** scales[i],
            `aux ${i + 1} max kW demand: Modbus ${registers} x 10^${scales}, BACnet ${read.get(instance).value}`);
    });
    // The neutral (aux 4) has no such object.
    await assert.rejects(client.readProperty(panel(1), { type: ObjectType.ANALOG_INPUT, instance: 3294 }, P.PRESENT_VALUE),
        /Class:1 - Code:31/);
});

test('WriteProperty: good values reach the meter (and Modbus), bad ones change nothing', async () => {
    const av = (instance) => ({ type: ObjectType.ANALOG_VALUE, instance });
    const real = (v) => [{ type: T.REAL, value: v }];
    // AV164 is register 62017.
    await client.writeProperty(panel(1), av(AV_USER_DEFINED), P.PRESENT_VALUE, real(1), {});
    assert.deepEqual(modbusRead(62017), [1]);
    assert.deepEqual(modbusRead(62017, 1, 2), [0], 'panel 2 is its own device');
    await client.writeProperty(panel(1), av(AV_USER_DEFINED), P.PRESENT_VALUE, real(0), {});
    assert.deepEqual(modbusRead(62017), [0]);
    // CT size of channel 5 (register 77).
    await client.writeProperty(panel(1), av(AV_CT_CH5), P.PRESENT_VALUE, real(50), {});
    assert.deepEqual(modbusRead(77), [50]);
    await assert.rejects(client.writeProperty(panel(1), av(AV_CT_CH5), P.PRESENT_VALUE, real(40000), {}),
        /Class:2 - Code:37/);  // property, value-out-of-range
    await assert.rejects(client.writeProperty(panel(1), av(AV_CT_CH5), P.PRESENT_VALUE, real(12.5), {}),
        /Class:2 - Code:37/);
    await assert.rejects(client.writeProperty(panel(1), av(AV_CT_CH5), P.PRESENT_VALUE,
        [{ type: T.CHARACTER_STRING, value: '60' }], {}), /Class:2 - Code:9/);  // invalid-data-type
    assert.deepEqual(modbusRead(77), [50], 'refused writes change nothing');
    assert.equal(value(await client.readProperty(panel(1), av(AV_CT_CH5), P.PRESENT_VALUE)), 50);
    await client.writeProperty(panel(1), av(AV_CT_CH5), P.PRESENT_VALUE, real(100), {});
    // Thresholds in percent, register in 0.1 %.
    await client.writePropertyMultiple(panel(1), [
        { objectId: av(AV_HH_THRESHOLD), values: [{ property: { id: P.PRESENT_VALUE, index: 0xffffffff }, value: real(72.5), priority: 16 }] },
    ]);
    assert.deepEqual(modbusRead(171), [725]);
    await client.writeProperty(panel(1), av(AV_HH_THRESHOLD), P.PRESENT_VALUE, real(70), {});
    // Inputs are read-only; a reset register takes only its codes.
    await assert.rejects(client.writeProperty(panel(1), { type: ObjectType.ANALOG_INPUT, instance: 1 }, P.PRESENT_VALUE,
        real(1), {}), /Class:2 - Code:40/);  // write-access-denied
    await assert.rejects(client.writeProperty(panel(1), { type: ObjectType.ANALOG_OUTPUT, instance: 2 }, P.PRESENT_VALUE,
        real(12345), { priority: 8 }), /Class:2 - Code:37/);
    // The router's Max_Master.
    await client.writeProperty(router, { type: ObjectType.DEVICE, instance: OFFSET }, P.MAX_MASTER,
        [{ type: T.UNSIGNED_INTEGER, value: 100 }], {});
    assert.equal(value(await client.readProperty(router, { type: ObjectType.DEVICE, instance: OFFSET }, P.MAX_MASTER)), 100);
});

test('time synchronisation moves the RTC (read back over Modbus 3251..3257 and BACnet)', async () => {
    client.timeSyncUTC({ address: meterAddress, net: 0xffff }, new Date(Date.UTC(2031, 4, 6, 7, 8, 9)));
    await meter.waitFor((l) => l.includes('time synchronisation set the RTC'));
    await sleep(300);
    const rtc = modbusRead(3251, 7);
    assert.deepEqual(rtc.slice(0, 5), [2031, 5, 6, 7, 8]);
    assert.ok(rtc[5] >= 9 && rtc[5] <= 13, `seconds ${rtc[5]}`);
    assert.equal(rtc[6], 1, 'RTC set');
    const date = value(await client.readProperty(panel(2), { type: ObjectType.DEVICE, instance: OFFSET + 2 }, P.LOCAL_DATE));
    assert.equal(date.getFullYear(), 2031);
    // The RTC AVs (AV257.. = 3251..) read the same clock.
    assert.equal(value(await client.readProperty(panel(1), { type: ObjectType.ANALOG_VALUE, instance: 257 }, P.PRESENT_VALUE)), 2031);
});

test('DeviceCommunicationControl: password, disable, the other devices go on, enable', async () => {
    const dev = { type: ObjectType.DEVICE, instance: OFFSET + 1 };
    await assert.rejects(client.deviceCommunicationControl(panel(1), 0, 1, { password: 'wrong' }), /Class:4 - Code:26/);
    await client.deviceCommunicationControl(panel(1), 5, 1, { password: 'secret' });
    await assert.rejects(client.readProperty(panel(1), dev, P.OBJECT_NAME), /ERR_TIMEOUT/);
    assert.equal(value(await client.readProperty(panel(2), { type: ObjectType.DEVICE, instance: OFFSET + 2 }, P.OBJECT_NAME)),
        'BCPME_2');
    await client.deviceCommunicationControl(panel(1), 0, 0, { password: 'secret' });
    assert.equal(value(await client.readProperty(panel(1), dev, P.OBJECT_NAME)), 'BCPME_1');
});

test('COV: notifications when the simulated load of channel 7 steps to 9 A', { timeout: 30000 }, async () => {
    const ai7 = { type: ObjectType.ANALOG_INPUT, instance: AI_CH7_CURRENT };
    const pv = (c) => c.payload.values.find((v) => v.property.id === P.PRESENT_VALUE).value[0].value;
    const first = waitEvent(client, 'covNotifyUnconfirmed', (c) => c.payload.subscriberProcessId === 21);
    await client.subscribeCov(panel(1), ai7, 21, false, false, 120);
    const initial = await first;
    assert.equal(initial.payload.initiatingDeviceId.instance, OFFSET + 1);
    assert.equal(initial.header.sender.net, 50);
    assert.ok(Math.abs(pv(initial) - 5) < 0.5, `initial ${pv(initial)}`);
    const step = await waitEvent(client, 'covNotifyUnconfirmed',
        (c) => c.payload.subscriberProcessId === 21 && pv(c) > 8.5, 25000);
    assert.ok(pv(step) < 9.5);
    const subs = await client.readProperty(panel(1), { type: ObjectType.DEVICE, instance: OFFSET + 1 }, P.ACTIVE_COV_SUBSCRIPTIONS);
    assert.equal(subs.values.length, 1);
    await client.subscribeCov(panel(1), ai7, 21, true, false, 0);
});

test('events: channel 3 over its thresholds notifies, is acknowledged, and a clear returns it to normal',
    { timeout: 40000 }, async () => {
        const nc1 = { type: ObjectType.NOTIFICATION_CLASS, instance: 1 };
        const ai3 = { type: ObjectType.ANALOG_INPUT, instance: AI_CH3_CURRENT };
        await client.addListElement(panel(1), nc1, { id: P.RECIPIENT_LIST, index: 0xffffffff },
            [{ type: 'raw', value: destinationOctets(CLIENT_PORT) }]);
        const e = await waitEvent(client, 'eventNotify', (c) => c.payload.toState === 3, 30000);  // high-limit
        assert.equal(e.payload.processId, 77);
        assert.equal(e.payload.initiatingObjectId.instance, OFFSET + 1);
        assert.equal(e.payload.eventObjectId.type, ObjectType.ANALOG_INPUT);
        assert.equal(e.payload.eventObjectId.instance, AI_CH3_CURRENT);
        assert.equal(e.payload.ackRequired, true);
        assert.equal(e.payload.fromState, 0);
        assert.match(e.payload.messageText ?? '', /latched/);
        assert.equal(value(await client.readProperty(panel(1), ai3, P.EVENT_STATE)), 3);
        const flags = value(await client.readProperty(panel(1), ai3, P.STATUS_FLAGS));
        assert.equal(flags.value[0] & 1, 1, 'in alarm');
        const info = await client.getEventInformation(panel(1));
        assert.ok(info.some((i) => i.objectId.instance === AI_CH3_CURRENT));
        const ackNote = waitEvent(client, 'eventNotify', (c) => c.payload.notifyType === 2);
        await client.acknowledgeAlarm(panel(1), ai3, 3, 'integration test', e.payload.timeStamp, { type: 2, value: new Date() });
        await ackNote;
        const acked = await client.readProperty(panel(1), ai3, P.ACKED_TRANSITIONS);
        assert.deepEqual(value(acked), { bitsUsed: 3, value: [7] });
        // The latches hold after the current is back (21 s); then a 0 written
        // to the channel's event status clears them: to-normal.
        const end = Date.now() + 15000;
        while (value(await client.readProperty(panel(1), ai3, P.PRESENT_VALUE)) > 11 && Date.now() < end) await sleep(200);
        assert.equal(value(await client.readProperty(panel(1), ai3, P.EVENT_STATE)), 3, 'latched');
        const normal = waitEvent(client, 'eventNotify', (c) => c.payload.toState === 0, 5000);
        await client.writeProperty(panel(1), { type: ObjectType.ANALOG_VALUE, instance: AV_CH3_EVENT_STATUS },
            P.PRESENT_VALUE, [{ type: T.REAL, value: 0 }], {});
        await normal;
        assert.equal(modbusRead(180)[0] & 0x1f, 0, 'latches cleared (register 180)');
        assert.equal(value(await client.readProperty(panel(1), ai3, P.EVENT_STATE)), 0);
    });

test('BBMD: foreign device registration and forwarding between the meter and a peer', async () => {
    const peer = rawSocket(PEER_PORT);
    await peer.open();
    const fd = new Bacnet({ port: FD_PORT, interface: HOST, broadcastAddress: HOST, apduTimeout: 1500 });
    fd.on('error', () => {});
    try {
        await sleep(100);
        await fd.registerForeignDevice({ address: meterAddress }, 60);
        // Read-BDT from the peer: the two entries of bdt.ini.
        peer.send(Buffer.from([0x81, 0x02, 0x00, 0x04]));
        const bdt = await peer.waitFor((m) => m[1] === 0x03, 'Read-BDT-Ack');
        assert.equal(bdt.length, 4 + 2 * 10);
        // The foreign device's Distribute-Broadcast-To-Network (a local Who-Is):
        // forwarded to the peer; the router device's I-Am comes back to the
        // foreign device and is forwarded to the peer.
        const iam = waitEvent(fd, 'iAm', (c) => c.payload.deviceId === OFFSET);
        fd.whoIsThroughBBMD({ address: meterAddress });
        const fwd = await peer.waitFor((m) => m[1] === 0x04 && m[m.length - 1] === 0x08 && m[m.length - 2] === 0x10,
            'the forwarded Who-Is');
        assert.deepEqual([...fwd.subarray(4, 10)], [127, 0, 0, 1, FD_PORT >> 8, FD_PORT & 0xff]);
        await iam;
        await peer.waitFor((m) => m[1] === 0x04 && m.readUInt16BE(8) === BACNET_PORT && m.includes(0xc4),
            'an I-Am forwarded to the peer');
        // A Forwarded-NPDU from the peer (a global Who-Is from a station
        // behind it) reaches all three devices and the foreign device; their
        // I-Ams reach the foreign device.
        const whoIsAtFd = waitEvent(fd, 'whoIs');
        const iams = new Set();
        const onIam = (c) => iams.add(c.payload.deviceId);
        fd.on('iAm', onIam);
        peer.send(Buffer.from([0x81, 0x04, 0x00, 0x12, 10, 9, 8, 7, 0xba, 0xc0, 0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x08]));
        await whoIsAtFd;
        await sleep(500);
        fd.off('iAm', onIam);
        assert.deepEqual([...iams].sort(), [OFFSET, OFFSET + 1, OFFSET + 2]);
    } finally {
        fd.close();
        peer.close();
    }
});

test('identities and AV2 written over BACnet persist across ReinitializeDevice and a process restart',
    { timeout: 60000 }, async () => {
        await client.writeProperty(panel(1), { type: ObjectType.DEVICE, instance: OFFSET + 1 }, P.OBJECT_IDENTIFIER,
            [{ type: T.OBJECTIDENTIFIER, value: { type: ObjectType.DEVICE, instance: 50101 } }], {});
        await client.writeProperty(router, { type: ObjectType.DEVICE, instance: OFFSET }, P.OBJECT_NAME,
            [{ type: T.CHARACTER_STRING, value: 'Row_C_Gateway' }], {});
        await client.writeProperty(router, { type: ObjectType.ANALOG_VALUE, instance: 2 }, P.PRESENT_VALUE,
            [{ type: T.REAL, value: 77 }], {});
        await assert.rejects(client.writeProperty(router, { type: ObjectType.ANALOG_VALUE, instance: 2 }, P.PRESENT_VALUE,
            [{ type: T.REAL, value: 70000 }], {}), /Class:2 - Code:37/);
        // Still the old network until a restart.
        assert.equal(value(await client.readProperty(panel(1), { type: ObjectType.DEVICE, instance: 50101 }, P.OBJECT_NAME)),
            'BCPME_1');

        const check = async (what) => {
            NET = 77;
            const seen = await discover();
            assert.deepEqual([...seen.keys()].sort((a, b) => a - b), [OFFSET, OFFSET + 2, 50101], what);
            assert.equal(seen.get(50101).net, 77, what);
            assert.deepEqual(seen.get(50101).adr, [1]);
            assert.equal(value(await client.readProperty(router, { type: ObjectType.DEVICE, instance: OFFSET }, P.OBJECT_NAME)),
                'Row_C_Gateway', what);
            assert.equal(value(await client.readProperty(panel(1), { type: ObjectType.DEVICE, instance: 50101 }, P.OBJECT_NAME)),
                'BCPME_1', what);
            // The recipient added in the event test is kept too.
            const recipients = await client.readProperty(panel(1), { type: ObjectType.NOTIFICATION_CLASS, instance: 1 },
                P.RECIPIENT_LIST);
            // One BACnetDestination: days, from, to, recipient, process 77, confirmed, transitions.
            assert.equal(recipients.values.length, 7, what);
            assert.ok(recipients.values.some((v) => v.type === T.UNSIGNED_INTEGER && v.value === 77), what);
        };

        // ReinitializeDevice (password): the meter restarts in process.
        await assert.rejects(client.reinitializeDevice(router, 1, { password: 'nope' }), /Class:4 - Code:26/);
        await client.reinitializeDevice(router, 1, { password: 'secret' });
        await meter.waitFor((l) => l.includes('system restart'));
        await meter.ready(2);
        await check('after ReinitializeDevice');

        await meter.stop();
        meter.start();
        await meter.ready();
        await check('after a process restart');

        // The EDE export of this meter (its config and state) has the written identities.
        const ede = path.join(tmp, 'ede');
        const files = execFileSync(BINARY, ['export', 'ede', '-o', ede, '-c', path.join(tmp, 'meter.toml'),
            '-s', path.join(tmp, 'state')], { encoding: 'utf8' }).trim().split('\n');
        assert.equal(files.length, 4);
        const rows = fs.readFileSync(path.join(ede, 'BCPME84_EDE.csv'), 'utf8').split('\n');
        assert.ok(rows.includes('VERSION_OF_LAYOUT;2.3;;;;;;;;;;;;;;;'));
        const av164 = rows.find((r) => r.startsWith('BCPME_1_AV164;'));
        assert.ok(av164, 'AV164 of panel 1');
        assert.equal(av164.split(';')[1], '50101');
        assert.equal(av164.split(';')[15], 'Modbus 62017');
        assert.ok(rows.some((r) => r.startsWith('Row_C_Gateway;50000;Row_C_Gateway;8;50000;')));
    });

test('BBMD enabled without bdt.ini: the meter starts alone in its table, answers, and warns in the log and in diagnostics',
    { timeout: 60000 }, async () => {
        const PORT2 = 47927, WEB2 = 47951, MODBUS2 = 47942, OFFSET2 = 70000;  // PORT2: run_with_capture.sh decodes it
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openbcpm-bbmd-alone-'));
        fs.mkdirSync(path.join(dir, 'state'));
        fs.writeFileSync(path.join(dir, 'meter.toml'), `
[gateway]
protocol_mode = 2
[network]
ip_address = "${HOST}"
netmask = "255.255.255.0"
[faces]
web = true
snmp = false
[modbus]
tcp_port = ${MODBUS2}
[web]
port = ${WEB2}
allow_plain_http = true
[bacnet]
ip_port = ${PORT2}
device_id_offset = ${OFFSET2}
bbmd_enable = true
`);
        const alone = new Meter(dir, { binary: BINARY });
        const raw = new RawSocket(RAW_PORT, { address: HOST, target: { address: HOST, port: PORT2 } });
        try {
            alone.start();
            await alone.ready();
            const warning = (l) => l.includes('BBMD without a usable bdt.ini') && l.includes('this meter alone');
            assert.equal(alone.count(warning), 1, alone.lines.join('\n'));

            // It answers a global Who-Is: the router and both panels.
            const seen = new Map();
            const on = (c) => seen.set(c.payload.deviceId, c.header.sender);
            client.on('iAm', on);
            client.whoIs({ address: `${HOST}:${PORT2}`, net: 0xffff });
            await sleep(600);
            client.off('iAm', on);
            assert.deepEqual([...seen.keys()].sort(), [OFFSET2, OFFSET2 + 1, OFFSET2 + 2]);

            // Read-BDT: the meter alone, mask all ones.
            await raw.open();
            raw.send(Buffer.from([0x81, 0x02, 0x00, 0x04]));
            const ack = await raw.waitFor((m) => m[1] === 0x03, 'Read-BDT-Ack');
            assert.deepEqual([...ack], [0x81, 0x03, 0x00, 0x0e, 127, 0, 0, 1, PORT2 >> 8, PORT2 & 0xff,
                0xff, 0xff, 0xff, 0xff]);

            // Diagnostics: the device log the GUI's Diagnostics → Storage shows (GET /api/storage).
            const base = `http://${HOST}:${WEB2}`;
            const password = fs.readFileSync(path.join(dir, 'state', 'initial-admin-password'), 'utf8').trim();
            const login = await fetch(`${base}/api/login`, {
                method: 'POST', headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ username: 'admin', password }),
            });
            assert.equal(login.status, 200, await login.clone().text());
            const cookie = login.headers.get('set-cookie').split(';')[0];
            const { csrf } = await login.json();
            const chosen = await fetch(`${base}/api/security`, {
                method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrf },
                body: JSON.stringify({ mode: 'http' }),
            });
            assert.equal(chosen.status, 200, await chosen.text());
            const storage = await fetch(`${base}/api/storage`, { headers: { Cookie: cookie } });
            assert.equal(storage.status, 200);
            const entries = (await storage.json()).log.filter((e) => e.kind === 'bacnet');
            assert.equal(entries.length, 1, JSON.stringify(entries));
            assert.match(entries[0].text, /^BACnet\/IP: BBMD without a usable bdt\.ini \(BBMD: cannot read .*bdt\.ini\)/);
        } finally {
            raw.close();
            await alone.stop();
            if (process.env.BACNET_KEEP_LOGS) console.log(`meter log kept in ${dir}`);
            else fs.rmSync(dir, { recursive: true, force: true });
        }
    });
