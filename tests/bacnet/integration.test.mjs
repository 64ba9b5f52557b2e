// Integration tests of the BACnet/IP face with an independent client
// (@bacnet-js/client) against bacnet_test_server on 127.0.0.1. The server
// path comes from BACNET_TEST_SERVER (CTest sets it). Ports 47901..47915.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { sleep, waitEvent, value, destinationOctets } from './common.mjs';

const require = createRequire(import.meta.url);
const Bacnet = require('@bacnet-js/client').default;
const { ObjectType, PropertyIdentifier: P, ApplicationTag: T } = require('@bacnet-js/client');

const SERVER = process.env.BACNET_TEST_SERVER ?? path.resolve('../../build-bacnet/src/protocols/bacnet/bacnet_test_server');
const HOST = '127.0.0.1';
const MAIN_PORT = 47901, CLIENT_PORT = 47903;
const BBMD_PORT = 47911, PEER_PORT = 47912, FD_PORT = 47913;
const router = { address: `${HOST}:${MAIN_PORT}` };
const panel = (mac) => ({ address: `${HOST}:${MAIN_PORT}`, net: 50, adr: [mac] });
const OFFSET = 50000;

class Server {
    constructor(args) {
        this.lines = [];
        this.proc = spawn(SERVER, args, { stdio: ['ignore', 'pipe', 'inherit'] });
        this.proc.stdout.setEncoding('utf8');
        let partial = '';
        this.proc.stdout.on('data', (chunk) => {
            partial += chunk;
            const parts = partial.split('\n');
            partial = parts.pop();
            this.lines.push(...parts);
        });
    }
    async ready() { await this.waitFor((l) => l.startsWith('READY')); }
    async waitFor(pred, ms = 5000) {
        const end = Date.now() + ms;
        while (Date.now() < end) {
            const hit = this.lines.find(pred);
            if (hit) return hit;
            await sleep(20);
        }
        throw new Error(`server did not print the expected line; got ${JSON.stringify(this.lines)}`);
    }
    async stop() {
        if (this.proc.exitCode !== null) return;
        this.proc.kill('SIGTERM');
        await once(this.proc, 'exit');
    }
}

let main, client, tmp;

before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openbcpm-bacnet-'));
    main = new Server(['--address', HOST, '--port', String(MAIN_PORT), '--password', 'secret', '--lifetime', '120']);
    await main.ready();
    client = new Bacnet({ port: CLIENT_PORT, interface: HOST, broadcastAddress: HOST, apduTimeout: 1500 });
    client.on('error', () => {});
    await sleep(100);
});

after(async () => {
    client?.close();
    await main?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
});

test('discovery: the router and both panel devices answer Who-Is, panels with SNET/SADR', async () => {
    const seen = new Map();
    const on = (content) => seen.set(content.payload.deviceId, content.header.sender);
    client.on('iAm', on);
    client.whoIs({ address: `${HOST}:${MAIN_PORT}`, net: 0xffff });
    await sleep(500);
    client.off('iAm', on);
    assert.deepEqual([...seen.keys()].sort(), [OFFSET, OFFSET + 1, OFFSET + 2]);
    assert.equal(seen.get(OFFSET).net, undefined);
    assert.equal(seen.get(OFFSET + 1).net, 50);
    assert.deepEqual(seen.get(OFFSET + 1).adr, [1]);
    assert.deepEqual(seen.get(OFFSET + 2).adr, [2]);
    // A ranged Who-Is to the virtual network finds only panel 2.
    const ranged = waitEvent(client, 'iAm');
    client.whoIs({ address: `${HOST}:${MAIN_PORT}`, net: 50 }, { lowLimit: OFFSET + 2, highLimit: OFFSET + 2 });
    assert.equal((await ranged).payload.deviceId, OFFSET + 2);
});

test('ReadProperty of every object type through the router', async () => {
    let r = await client.readProperty(panel(1), { type: ObjectType.DEVICE, instance: OFFSET + 1 }, P.OBJECT_NAME);
    assert.equal(value(r), 'BCPME_1');
    r = await client.readProperty(panel(1), { type: ObjectType.DEVICE, instance: OFFSET + 1 }, P.VENDOR_IDENTIFIER);
    assert.equal(value(r), 335);
    r = await client.readProperty(panel(1), { type: ObjectType.DEVICE, instance: OFFSET + 1 }, P.PROTOCOL_REVISION);
    assert.equal(value(r), 12);
    r = await client.readProperty(router, { type: ObjectType.DEVICE, instance: OFFSET }, P.OBJECT_NAME);
    assert.equal(value(r), 'BCPME_Gateway');
    r = await client.readProperty(router, { type: ObjectType.ANALOG_VALUE, instance: 2 }, P.PRESENT_VALUE);
    assert.equal(value(r), 50);
    r = await client.readProperty(panel(2), { type: ObjectType.ANALOG_INPUT, instance: 1 }, P.PRESENT_VALUE);
    assert.equal(value(r), 20);
    r = await client.readProperty(panel(2), { type: ObjectType.ANALOG_INPUT, instance: 1 }, P.UNITS);
    assert.equal(value(r), 3);  // amperes
    r = await client.readProperty(panel(1), { type: ObjectType.ANALOG_OUTPUT, instance: 1 }, P.RELINQUISH_DEFAULT);
    assert.equal(value(r), 0);
    r = await client.readProperty(panel(1), { type: ObjectType.NOTIFICATION_CLASS, instance: 1 }, P.PRIORITY);
    assert.deepEqual(r.values.map((v) => v.value), [100, 100, 200]);
    r = await client.readProperty(panel(1), { type: ObjectType.DEVICE, instance: OFFSET + 1 }, P.OBJECT_LIST, { arrayIndex: 0 });
    assert.equal(value(r), 45);
    await assert.rejects(
        client.readProperty(panel(1), { type: ObjectType.ANALOG_INPUT, instance: 999 }, P.PRESENT_VALUE),
        /Class:1 - Code:31/);  // object, unknown-object
});

test('ReadPropertyMultiple, including a segmented RPM of ALL properties of all objects', async () => {
    const small = await client.readPropertyMultiple(panel(1), [
        { objectId: { type: ObjectType.ANALOG_VALUE, instance: 1 }, properties: [{ id: P.PRESENT_VALUE }, { id: P.OBJECT_NAME }] },
        { objectId: { type: ObjectType.NOTIFICATION_CLASS, instance: 1 }, properties: [{ id: P.ALL }] },
    ]);
    assert.equal(small.values.length, 2);
    assert.equal(small.values[0].values[1].value[0].value, 'Panel1_Load');
    assert.ok(small.values[1].values.length >= 7);

    const list = await client.readProperty(panel(1), { type: ObjectType.DEVICE, instance: OFFSET + 1 }, P.OBJECT_LIST);
    const specs = list.values.map((v) => ({ objectId: v.value, properties: [{ id: P.ALL }] }));
    assert.equal(specs.length, 45);
    const all = await client.readPropertyMultiple(panel(1), specs);
    assert.equal(all.values.length, 45);
    const ai40 = all.values.find((o) => o.objectId.type === ObjectType.ANALOG_INPUT && o.objectId.instance === 40);
    assert.ok(ai40, 'AI40 in the segmented answer');
    const name = ai40.values.find((p) => p.id === P.OBJECT_NAME);
    assert.equal(name.value[0].value, 'Panel1_Current_40');
    const stats = all.values.reduce((n, o) => n + o.values.length, 0);
    assert.ok(stats > 450, `properties in the answer: ${stats}`);
});

test('WriteProperty with good and bad values', async () => {
    const av2 = { type: ObjectType.ANALOG_VALUE, instance: 2 };
    await client.writeProperty(panel(1), av2, P.PRESENT_VALUE, [{ type: T.REAL, value: 250 }], {});
    let r = await client.readProperty(panel(1), av2, P.PRESENT_VALUE);
    assert.equal(value(r), 250);
    await assert.rejects(client.writeProperty(panel(1), av2, P.PRESENT_VALUE, [{ type: T.REAL, value: 1 }], {}),
        /Class:2 - Code:37/);  // property, value-out-of-range
    r = await client.readProperty(panel(1), av2, P.PRESENT_VALUE);
    assert.equal(value(r), 250, 'a refused write changes nothing');
    await assert.rejects(client.writeProperty(panel(1), { type: ObjectType.ANALOG_INPUT, instance: 2 }, P.PRESENT_VALUE,
        [{ type: T.REAL, value: 1 }], {}), /Class:2 - Code:40/);  // write-access-denied
    await client.writeProperty(panel(2), { type: ObjectType.ANALOG_OUTPUT, instance: 1 }, P.PRESENT_VALUE,
        [{ type: T.REAL, value: 42 }], { priority: 8 });
    r = await client.readProperty(panel(2), { type: ObjectType.ANALOG_OUTPUT, instance: 1 }, P.PRESENT_VALUE);
    assert.equal(value(r), 42);
    await client.writePropertyMultiple(panel(2), [
        { objectId: { type: ObjectType.ANALOG_VALUE, instance: 2 }, values: [{ property: { id: P.PRESENT_VALUE, index: 0xffffffff }, value: [{ type: T.REAL, value: 400 }], priority: 16 }] },
    ]);
    r = await client.readProperty(panel(2), av2, P.PRESENT_VALUE);
    assert.equal(value(r), 400);
    // Object_Name of a device is writable and reported to the meter for storage.
    await client.writeProperty(panel(2), { type: ObjectType.DEVICE, instance: OFFSET + 2 }, P.OBJECT_NAME,
        [{ type: T.CHARACTER_STRING, value: 'East_Panel' }], {});
    await main.waitFor((l) => l === `IDENTITY 2 ${OFFSET + 2} East_Panel`);
});

test('COV subscription and notifications', async () => {
    const ai1 = { type: ObjectType.ANALOG_INPUT, instance: 1 };
    const first = waitEvent(client, 'covNotifyUnconfirmed', (c) => c.payload.subscriberProcessId === 11);
    await client.subscribeCov(panel(1), ai1, 11, false, false, 120);
    const initial = await first;
    assert.equal(initial.payload.initiatingDeviceId.instance, OFFSET + 1);
    assert.equal(initial.header.sender.net, 50);
    const pv = (c) => c.payload.values.find((v) => v.property.id === P.PRESENT_VALUE).value[0].value;
    assert.equal(pv(initial), 10);
    const change = waitEvent(client, 'covNotifyUnconfirmed', (c) => c.payload.subscriberProcessId === 11 && pv(c) === 30);
    await client.writeProperty(panel(1), { type: ObjectType.ANALOG_VALUE, instance: 1 }, P.PRESENT_VALUE, [{ type: T.REAL, value: 30 }], {});
    await change;
    // Confirmed notifications, acknowledged by the client.
    const confirmed = waitEvent(client, 'covNotify', (c) => c.payload.subscriberProcessId === 12);
    await client.subscribeCov(panel(1), ai1, 12, false, true, 60);
    const note = await confirmed;
    client.simpleAckResponse(note.header.sender, note.service, note.invokeId);
    const subs = await client.readProperty(panel(1), { type: ObjectType.DEVICE, instance: OFFSET + 1 }, P.ACTIVE_COV_SUBSCRIPTIONS);
    assert.equal(subs.values.length, 2);
    await client.subscribeCov(panel(1), ai1, 11, true, false, 0);
    await client.subscribeCov(panel(1), ai1, 12, true, false, 0);
    await assert.rejects(client.subscribeCov(panel(1), { type: ObjectType.NOTIFICATION_CLASS, instance: 1 }, 13, false, false, 60),
        /Class:1 - Code:45/);  // object, optional-functionality-not-supported
});

test('an event notification and its acknowledgement', async () => {
    const nc1 = { type: ObjectType.NOTIFICATION_CLASS, instance: 1 };
    await client.addListElement(panel(1), nc1, { id: P.RECIPIENT_LIST, index: 0xffffffff },
        [{ type: 'raw', value: destinationOctets(CLIENT_PORT) }]);
    const event = waitEvent(client, 'eventNotify', (c) => c.payload.toState === 3);  // high-limit
    await client.writeProperty(panel(1), { type: ObjectType.ANALOG_VALUE, instance: 1 }, P.PRESENT_VALUE, [{ type: T.REAL, value: 95 }], {});
    const e = await event;
    assert.equal(e.payload.processId, 77);
    assert.equal(e.payload.eventObjectId.type, ObjectType.ANALOG_INPUT);
    assert.equal(e.payload.eventObjectId.instance, 1);
    assert.equal(e.payload.ackRequired, true);
    const info = await client.getEventInformation(panel(1));
    assert.equal(info.length, 1);
    assert.equal(info[0].objectId.instance, 1);
    const ackNote = waitEvent(client, 'eventNotify', (c) => c.payload.notifyType === 2);
    await client.acknowledgeAlarm(panel(1), { type: ObjectType.ANALOG_INPUT, instance: 1 }, 3, 'integration test',
        e.payload.timeStamp, { type: 2, value: new Date() });
    await ackNote;
    const acked = await client.readProperty(panel(1), { type: ObjectType.ANALOG_INPUT, instance: 1 }, P.ACKED_TRANSITIONS);
    assert.deepEqual(value(acked), { bitsUsed: 3, value: [7] });
    const normal = waitEvent(client, 'eventNotify', (c) => c.payload.toState === 0);
    await client.writeProperty(panel(1), { type: ObjectType.ANALOG_VALUE, instance: 1 }, P.PRESENT_VALUE, [{ type: T.REAL, value: 10 }], {});
    await normal;
    await client.removeListElement(panel(1), nc1, { id: P.RECIPIENT_LIST, index: 0xffffffff },
        [{ type: 'raw', value: destinationOctets(CLIENT_PORT) }]);
});

test('time synchronisation reaches the meter', async () => {
    client.timeSync(router, new Date(2026, 10, 24, 12, 34, 56));
    await main.waitFor((l) => l === 'TIMESYNC local 2026-11-24 12:34:56');
    client.timeSyncUTC({ address: `${HOST}:${MAIN_PORT}`, net: 0xffff }, new Date(2026, 10, 24, 1, 2, 3));
    await main.waitFor((l) => l.startsWith('TIMESYNC utc 2026-11-24'));
});

test('DeviceCommunicationControl: disable, silence, enable', async () => {
    const dev = { type: ObjectType.DEVICE, instance: OFFSET + 1 };
    await assert.rejects(client.deviceCommunicationControl(panel(1), 0, 1, { password: 'wrong' }), /Class:4 - Code:26/);
    await client.deviceCommunicationControl(panel(1), 5, 1, { password: 'secret' });
    await assert.rejects(client.readProperty(panel(1), dev, P.OBJECT_NAME), /ERR_TIMEOUT/);
    // The other devices keep answering.
    const r = await client.readProperty(panel(2), { type: ObjectType.DEVICE, instance: OFFSET + 2 }, P.OBJECT_NAME);
    assert.equal(value(r), 'East_Panel');
    await client.deviceCommunicationControl(panel(1), 0, 0, { password: 'secret' });
    const back = await client.readProperty(panel(1), dev, P.OBJECT_NAME);
    assert.equal(value(back), 'BCPME_1');
});

test('foreign device registration is refused when BBMD support is off', async () => {
    await assert.rejects(client.registerForeignDevice(router, 60), /Result:48/);
});

test('BBMD: foreign device registration and forwarding between two sockets', async () => {
    const bdt = path.join(tmp, 'bdt.ini');
    fs.writeFileSync(bdt, `// Bdt.ini\n${HOST},${BBMD_PORT},255.255.255.255\n${HOST},${PEER_PORT},255.255.255.255\n`);
    const bbmd = new Server(['--address', HOST, '--port', String(BBMD_PORT), '--bbmd', bdt, '--lifetime', '120']);
    await bbmd.ready();
    const peer = dgram.createSocket('udp4');
    const fd = new Bacnet({ port: FD_PORT, interface: HOST, broadcastAddress: HOST, apduTimeout: 1500 });
    fd.on('error', () => {});
    try {
        await new Promise((r) => peer.bind(PEER_PORT, HOST, r));
        const received = [];
        peer.on('message', (msg) => received.push(msg));
        const toBbmd = (bytes) => peer.send(Buffer.from(bytes), BBMD_PORT, HOST);
        const waitPeer = async (pred, what) => {
            const end = Date.now() + 3000;
            while (Date.now() < end) {
                const hit = received.find(pred);
                if (hit) return hit;
                await sleep(20);
            }
            throw new Error(`peer socket did not get ${what}`);
        };
        await sleep(100);
        await fd.registerForeignDevice({ address: `${HOST}:${BBMD_PORT}` }, 60);

        // Read-FDT from the peer shows the foreign device, TTL 60, 90 s left at most.
        toBbmd([0x81, 0x06, 0x00, 0x04]);
        const fdt = await waitPeer((m) => m[1] === 0x07, 'Read-FDT-Ack');
        assert.equal(fdt.length, 14);
        assert.deepEqual([...fdt.subarray(4, 10)], [127, 0, 0, 1, FD_PORT >> 8, FD_PORT & 0xff]);
        assert.equal(fdt.readUInt16BE(10), 60);
        assert.ok(fdt.readUInt16BE(12) <= 90 && fdt.readUInt16BE(12) >= 85);

        // Read-BDT: the two entries of bdt.ini. Write-BDT is refused.
        toBbmd([0x81, 0x02, 0x00, 0x04]);
        const bdtAck = await waitPeer((m) => m[1] === 0x03, 'Read-BDT-Ack');
        assert.equal(bdtAck.length, 24);
        toBbmd([0x81, 0x01, 0x00, 0x04]);
        const nak = await waitPeer((m) => m[1] === 0x00 && m.readUInt16BE(4) === 0x0010, 'Write-BDT NAK');
        assert.ok(nak);

        // The foreign device's Distribute-Broadcast-To-Network: forwarded to the
        // peer, and the I-Am it causes comes back to the foreign device.
        const iam = waitEvent(fd, 'iAm', (c) => c.payload.deviceId === OFFSET);
        fd.whoIsThroughBBMD({ address: `${HOST}:${BBMD_PORT}` });
        const fwdWhoIs = await waitPeer((m) => m[1] === 0x04 && m[m.length - 1] === 0x08 && m[m.length - 2] === 0x10,
            'the forwarded Who-Is');
        assert.deepEqual([...fwdWhoIs.subarray(4, 10)], [127, 0, 0, 1, FD_PORT >> 8, FD_PORT & 0xff]);
        await iam;
        await waitPeer((m) => m[1] === 0x04 && m.includes(0xc4) && m.subarray(4, 10).readUInt16BE(4) === BBMD_PORT,
            'the I-Am forwarded to the peer');

        // A Forwarded-NPDU from the peer (a global Who-Is from a station
        // behind it) reaches the devices and the foreign device.
        received.length = 0;
        const whoIsAtFd = waitEvent(fd, 'whoIs');
        const iams = new Set();
        const onIam = (c) => iams.add(c.payload.deviceId);
        fd.on('iAm', onIam);
        toBbmd([0x81, 0x04, 0x00, 0x14, 10, 9, 8, 7, 0xba, 0xc0, 0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x08]
            .map((b, i) => (i === 3 ? 18 : b)));
        await whoIsAtFd;
        await sleep(300);
        fd.off('iAm', onIam);
        assert.deepEqual([...iams].sort(), [OFFSET, OFFSET + 1, OFFSET + 2]);
        const forwardedIams = received.filter((m) => m[1] === 0x04);
        assert.equal(forwardedIams.length, 3);

        // Delete-FDT-Entry, then the table is empty.
        toBbmd([0x81, 0x08, 0x00, 0x0a, 127, 0, 0, 1, FD_PORT >> 8, FD_PORT & 0xff]);
        await waitPeer((m) => m[1] === 0x00 && m.readUInt16BE(4) === 0, 'Delete-FDT-Entry result');
        received.length = 0;
        toBbmd([0x81, 0x06, 0x00, 0x04]);
        const empty = await waitPeer((m) => m[1] === 0x07, 'Read-FDT-Ack');
        assert.equal(empty.length, 4);
    } finally {
        fd.close();
        peer.close();
        await bbmd.stop();
    }
});
