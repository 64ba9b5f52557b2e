// What the @bacnet-js/client test files (here and in tests/lan) share: small
// waiting helpers, the recipient-list value the client cannot encode by
// itself, raw BVLL/NPDU for what the client cannot send, and the meter
// process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const asn1 = require('@bacnet-js/client/dist/lib/asn1.js');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The next `name` event of `emitter` whose content satisfies `pred`.
export function waitEvent(emitter, name, pred = () => true, ms = 5000) {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { emitter.off(name, on); reject(new Error(`timeout waiting for ${name}`)); }, ms);
        const on = (content) => {
            if (!pred(content)) return;
            clearTimeout(timer);
            emitter.off(name, on);
            resolve(content);
        };
        emitter.on(name, on);
    });
}

// The first value of a ReadProperty answer.
export const value = (result) => result.values[0].value;

// The client cannot encode a BACnetDestination (a context-tagged choice
// inside): the tests hand it ready octets as a 'raw' value.
const encodeApplicationData = asn1.bacappEncodeApplicationData;
asn1.bacappEncodeApplicationData = (buffer, v) => {
    if (v.type !== 'raw') return encodeApplicationData(buffer, v);
    for (const b of v.value) buffer.buffer[buffer.offset++] = b;
};

// BACnetDestination: all days, 00:00 to 23:59:59.99, recipient address
// (network 0, the client's B/IP MAC on 127.0.0.1), process 77, unconfirmed,
// all transitions.
export function destinationOctets(port) {
    const mac = [127, 0, 0, 1, port >> 8, port & 0xff];
    return [0x82, 0x01, 0xfe, 0xb4, 0, 0, 0, 0, 0xb4, 23, 59, 59, 99,
        0x1e, 0x21, 0x00, 0x65, 0x06, ...mac, 0x1f,
        0x21, 77, 0x10, 0x82, 0x05, 0xe0];
}

// Raw BVLL/NPDU for what the client cannot send, and their answers.
export const bvll = (fn, npdu) => Buffer.from([0x81, fn, (npdu.length + 4) >> 8, (npdu.length + 4) & 0xff, ...npdu]);
export function parseBvll(msg) {
    const fn = msg[1];
    const off = fn === 0x04 ? 10 : 4;
    return { fn, npdu: msg.subarray(off) };
}
export function parseNpdu(b) {
    const control = b[1];
    let i = 2;
    const h = { network: (control & 0x80) !== 0 };
    if (control & 0x20) { h.dnet = b.readUInt16BE(i); i += 3 + b[i + 2]; }
    if (control & 0x08) { h.snet = b.readUInt16BE(i); h.sadr = [...b.subarray(i + 3, i + 3 + b[i + 2])]; i += 3 + b[i + 2]; }
    if (control & 0x20) i += 1;
    h.body = b.subarray(i);
    return h;
}

// A UDP socket bound to `address` (all addresses when undefined) that keeps
// what it receives and sends to `target` unless told otherwise. With
// reuseAddr it may share its port with the client (a broadcast listener).
export class RawSocket {
    constructor(port, { address, target, reuseAddr = false } = {}) {
        Object.assign(this, { port, address, target, reuseAddr });
        this.received = [];
    }
    async open() {
        this.socket = dgram.createSocket({ type: 'udp4', reuseAddr: this.reuseAddr });
        this.socket.on('message', (msg, rinfo) => this.received.push(Object.assign(msg, { rinfo })));
        await new Promise((r) => this.socket.bind(this.port, this.address, r));
        this.socket.setBroadcast(true);
    }
    send(bytes, to = this.target) { this.socket.send(bytes, to.port, to.address); }
    async waitFor(pred, what, ms = 3000) {
        const end = Date.now() + ms;
        while (Date.now() < end) {
            const hit = this.received.find(pred);
            if (hit) return hit;
            await sleep(20);
        }
        throw new Error(`no ${what}`);
    }
    close() { this.socket?.close(); }
}

// The meter binary: `openbcpm run` on DIR/meter.toml and DIR/state, its
// output kept in DIR/meter.log and in `lines`. `prefix` runs it through
// another command (ip netns exec NAME), which execs it: the pid is the meter's.
export class Meter {
    constructor(dir, { binary, prefix = [] }) {
        Object.assign(this, { dir, binary, prefix });
        this.lines = [];
    }
    start() {
        this.lines = [];
        const log = fs.openSync(path.join(this.dir, 'meter.log'), 'a');
        const args = ['run', '--config', path.join(this.dir, 'meter.toml'), '--state-dir', path.join(this.dir, 'state')];
        const [command, ...rest] = [...this.prefix, this.binary, ...args];
        this.proc = spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
        let partial = '';
        const take = (chunk) => {
            fs.writeSync(log, chunk);
            partial += chunk;
            const parts = partial.split('\n');
            partial = parts.pop();
            this.lines.push(...parts);
        };
        this.proc.stdout.setEncoding('utf8').on('data', take);
        this.proc.stderr.setEncoding('utf8').on('data', take);
        this.proc.on('exit', () => fs.closeSync(log));
    }
    count(pred) { return this.lines.filter(pred).length; }
    async waitFor(pred, ms = 10000, times = 1) {
        const end = Date.now() + ms;
        while (Date.now() < end) {
            if (this.count(pred) >= times) return;
            if (this.proc.exitCode !== null) throw new Error(`meter exited: ${this.lines.slice(-5).join(' | ')}`);
            await sleep(20);
        }
        throw new Error(`meter did not log the expected line; last: ${this.lines.slice(-5).join(' | ')}`);
    }
    async ready(times = 1) { await this.waitFor((l) => l.includes('bacnet-ip started'), 10000, times); }
    // Stops the meter as an operator would; it must exit cleanly (a
    // sanitizer report at exit would not).
    async stop() {
        if (!this.proc) return;
        if (this.proc.exitCode === null && this.proc.signalCode === null) {
            this.proc.kill('SIGTERM');
            await once(this.proc, 'exit');
        }
        assert.equal(this.proc.exitCode, 0, `meter exit: ${this.proc.exitCode ?? this.proc.signalCode}; ${this.lines.slice(-3).join(' | ')}`);
    }
}
