// What the two @bacnet-js/client test files share: small waiting helpers and
// the recipient-list value the client cannot encode by itself.
import { createRequire } from 'node:module';

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
