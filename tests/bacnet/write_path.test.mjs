// The one write path over BACnet/IP, on the REAL binary (OPENBCPM_BINARY)
// with @bacnet-js/client: a Present_Value that is not a whole register step
// is refused with value-out-of-range and changes nothing (AV102 = 72.55 and
// 50.04 %, AV4 = 600.4 A), and a write is acknowledged only once the meter
// shows it: the next ReadPropertyMultiple, and the next Modbus read (mbpoll),
// see it. 60 cycles of channel 5 swinging over its high-high threshold and
// back: in each low phase the latch is cleared (AV113 = 0), the maxima
// cleared (AO7 = 29877) and channel 8's energy reset (AO10 = 10203); 100
// settings (AV102). Ports 47941..47946.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { sleep } from './common.mjs';

const require = createRequire(import.meta.url);
const Bacnet = require('@bacnet-js/client').default;
const { ObjectType, PropertyIdentifier: P, ApplicationTag: T } = require('@bacnet-js/client');

const BINARY = process.env.OPENBCPM_BINARY ?? path.resolve('../../build/openbcpm');
const HOST = '127.0.0.1';
const BACNET_PORT = 47941, CLIENT_PORT = 47943, MODBUS_PORT = 47946;
const panel = { address: `${HOST}:${BACNET_PORT}`, net: 50, adr: [1] };
const SPEED = 20, PERIOD = 5.0, CYCLES = 60;

// Instances from docs/bacnet-objects.md (panel 1).
const av = (instance) => ({ type: ObjectType.ANALOG_VALUE, instance });
const ai = (instance) => ({ type: ObjectType.ANALOG_INPUT, instance });
const ao = (instance) => ({ type: ObjectType.ANALOG_OUTPUT, instance });
const AV_HH = av(102), AV_CT_CH1 = av(4), AV_STATUS_CH5 = av(108 + 5);
const AO_RESET_CH5 = ao(2 + 5), AO_RESET_CH8 = ao(2 + 8);
const AI_KWH_CH8 = ai(290 + 8), AI_MAX_CH5 = ai(668 + 5), AI_CURRENT_CH5 = ai(416 + 5);
const real = (v) => [{ type: T.REAL, value: v }];
const HH = 1;  // high-high latched bit
const HH_COUNTER_CH5 = 305;  // channel 5's high-high latching alarm counter

function config() {
    const steps = [];
    for (let i = 0; i < CYCLES + 40; ++i)
        steps.push(`[${(i * PERIOD).toFixed(1)}, 20.0]`, `[${(i * PERIOD + 0.6).toFixed(1)}, 2.0]`);
    return `
[device]
channels = 84
[gateway]
protocol_mode = 2
[network]
ip_address = "${HOST}"
[faces]
web = false
snmp = false
modbus_tcp = true
[modbus]
tcp_port = ${MODBUS_PORT}
[bacnet]
ip_port = ${BACNET_PORT}
[panel.1]
hh_delay = 0
h_delay = 0
[[panel.1.channel]]
channel = 8
ct_size = 100
breaker_size = 100
[simulation]
speed = ${SPEED}
voltage_noise = 0.0
current_noise = 0.0
[[simulation.load]]
panel = 1
channel = 5
amps = 2.0
schedule = "steps"
steps = [${steps.join(', ')}]
[[simulation.load]]
panel = 1
channel = 8
amps = 60.0
`;
}

// Registers over Modbus TCP with mbpoll: integers, or IEEE floats.
function modbus(register, { count = 1, float = false } = {}) {
    const out = execFileSync('mbpoll', ['-m', 'tcp', '-a', '1', '-r', String(register),
        '-c', String(count), '-t', float ? '4:float' : '4', '-B', '-1', '-p', String(MODBUS_PORT), HOST],
    { encoding: 'utf8' });
    return [...out.matchAll(/^\[(\d+)\]:\s+(-?[\d.e+-]+)/gm)].map((m) => Number(m[2]));
}

let proc, client, tmp, lines = [];

before(async () => {
    assert.ok(fs.existsSync(BINARY), `the meter binary: ${BINARY}`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openbcpm-bacnet-write-'));
    fs.writeFileSync(path.join(tmp, 'meter.toml'), config());
    proc = spawn(BINARY, ['run', '--config', path.join(tmp, 'meter.toml'), '--state-dir', path.join(tmp, 'state')],
        { stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (chunk) => lines.push(...chunk.split('\n'));
    proc.stdout.setEncoding('utf8').on('data', take);
    proc.stderr.setEncoding('utf8').on('data', take);
    const end = Date.now() + 15000;
    while (!lines.some((l) => l.includes('bacnet-ip started'))) {
        if (proc.exitCode !== null || Date.now() > end) throw new Error(`meter did not start: ${lines.slice(-5).join(' | ')}`);
        await sleep(20);
    }
    client = new Bacnet({ port: CLIENT_PORT, interface: HOST, broadcastAddress: HOST, apduTimeout: 2000 });
    client.on('error', () => {});
    await sleep(100);
});

after(async () => {
    client?.close();
    if (proc && proc.exitCode === null) {
        proc.kill('SIGTERM');
        await once(proc, 'exit');
    }
    assert.equal(proc?.exitCode, 0, `meter exit; ${lines.slice(-3).join(' | ')}`);
    fs.rmSync(tmp, { recursive: true, force: true });
});

const read = async (obj) => (await client.readProperty(panel, obj, P.PRESENT_VALUE)).values[0].value;  // a number
// Present_Value of several objects in one ReadPropertyMultiple: one snapshot.
async function readMany(objs) {
    const r = await client.readPropertyMultiple(panel, objs.map((objectId) =>
        ({ objectId, properties: [{ id: P.PRESENT_VALUE }] })));
    return r.values.map((o) => o.values[0].value[0].value);
}
const write = (obj, v) => client.writeProperty(panel, obj, P.PRESENT_VALUE, real(v), {});

test('a Present_Value between two register steps is refused with value-out-of-range, nothing changed', async () => {
    const hh = await read(AV_HH);
    const ct = await read(AV_CT_CH1);
    assert.equal(hh, 70);
    for (const [obj, v] of [[AV_HH, 72.55], [AV_HH, 50.04], [AV_CT_CH1, 600.4]]) {
        await assert.rejects(write(obj, v), (e) => {
            // BACnet error class property (2), code value-out-of-range (37).
            assert.match(String(e.message), /Class:2 - Code:37\b/, String(e.message));
            return true;
        }, `${v} to ${obj.type}:${obj.instance}`);
    }
    assert.deepEqual(await read(AV_HH), hh, 'AV102 unchanged');
    assert.deepEqual(await read(AV_CT_CH1), ct, 'AV4 unchanged');
    assert.deepEqual(modbus(171), [700], 'register 171 unchanged');
    assert.deepEqual(modbus(73), [ct], 'register 73 unchanged');
    // Whole steps are taken: 72.5 % is register 725.
    await write(AV_HH, 72.5);
    assert.deepEqual(modbus(171), [725]);
    await write(AV_HH, 70);
});

test('100 settings: the acknowledged value is what BACnet and Modbus read next', async () => {
    let stale = 0;
    for (let i = 0; i < 100; ++i) {
        const v = 50 + (i * 7) % 40;  // percent, whole steps of 0.1
        await write(AV_HH, v);
        const [b] = await readMany([AV_HH]);
        const [m] = modbus(171);
        if (Math.abs(b - v) > 1e-3 || m !== v * 10) {
            ++stale;
            console.log(`stale after write ${i} of ${v}: BACnet ${b}, Modbus ${m}`);
        }
    }
    assert.equal(stale, 0, `${stale} stale reads`);
});

test('60 cycles: latch clear, maxima clear and energy reset are seen by the next reads', async () => {
    let stale = 0, overrun = 0;
    for (let i = 0; i < CYCLES; ++i) {
        // The start of a low phase: high first (the latch forms), then low (the condition gone).
        const end = Date.now() + 10000;
        let high = false;
        for (;;) {
            assert.ok(Date.now() < end, `cycle ${i}: channel 5 never latched and fell back`);
            const [status, current] = await readMany([AV_STATUS_CH5, AI_CURRENT_CH5]);
            high = high || current > 15;
            if (high && (status & HH) && current < 5) break;
            await sleep(2);
        }
        const [maxBefore, kwhBefore] = await readMany([AI_MAX_CH5, AI_KWH_CH8]);
        assert.ok(maxBefore > 15, `cycle ${i}: the maximum before the clear (${maxBefore})`);
        const [latchesBefore] = modbus(HH_COUNTER_CH5);
        await write(AV_STATUS_CH5, 0);
        await write(AO_RESET_CH5, 29877);
        await write(AO_RESET_CH8, 10203);
        const acked = Date.now();
        const [status, max, kwh] = await readMany([AV_STATUS_CH5, AI_MAX_CH5, AI_KWH_CH8]);
        const [mStatus] = modbus(182);
        const [mMax] = modbus(2764, { float: true });
        const [mKwh] = modbus(2014, { float: true });
        // At most what 7.2 kW meters in the simulated time since the acknowledgement
        // (mbpoll takes tens of milliseconds, SPEED times as many simulated ones).
        const since = (t) => 7.2 * (((Date.now() - t) / 1000) * SPEED + 0.5) / 3600;
        const bound = since(acked);
        const fresh = (status & HH) === 0 && max < 10 && kwh < bound && kwh < kwhBefore &&
            (mStatus & HH) === 0 && mMax < 10 && mKwh < bound && mKwh < kwhBefore;
        // Channel 5's high-high latch counter (register 305) moved on means the
        // next high phase came during these reads (the low phase is 220 ms real;
        // spawning mbpoll three times on a loaded machine can take longer): its
        // maximum and latch are new, not stale, so such a cycle is not judged.
        const [latchesAfter] = modbus(HH_COUNTER_CH5);
        if (latchesAfter !== latchesBefore) {
            ++overrun;
            await sleep(10);
            continue;
        }
        if (!fresh) {
            ++stale;
            console.log(`stale in cycle ${i}: BACnet status ${status} max ${max} kWh ${kwh}; ` +
                `Modbus status ${mStatus} max ${mMax} kWh ${mKwh} (kWh before ${kwhBefore}, bound ${bound})`);
        }
        await sleep(10);  // the next cycle's low phase
    }
    console.log(`${CYCLES - overrun} of ${CYCLES} cycles judged, ${stale} stale`);
    assert.equal(stale, 0, `${stale} stale reads in ${CYCLES} cycles`);
    // Enough cycles judged for the test to mean something.
    assert.ok(CYCLES - overrun >= CYCLES / 4, `${overrun} of ${CYCLES} cycles ran into the next high phase`);
});
