// One BACnet request to a running meter with @bacnet-js/client (from
// tests/bacnet/node_modules), for the storage robustness tests:
//   node bacnet_client.mjs METER_PORT CLIENT_PORT NET MAC read INSTANCE
//   node bacnet_client.mjs METER_PORT CLIENT_PORT NET MAC write INSTANCE VALUE
// reads or writes Present_Value of Analog Value INSTANCE of the panel device
// at NET/MAC behind the meter's router on 127.0.0.1 and prints one JSON line:
// {"ok":true,"value":N} or {"ok":false,"error":"...Class:3 - Code:20..."}.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../bacnet/package.json'));
const Bacnet = require('@bacnet-js/client').default;
const { ObjectType, PropertyIdentifier: P, ApplicationTag: T } = require('@bacnet-js/client');
const { sleep, value } = await import('../../bacnet/common.mjs');

const [meterPort, clientPort, net, mac, op, instance, v] = process.argv.slice(2);
const HOST = '127.0.0.1';
const client = new Bacnet({ port: Number(clientPort), interface: HOST, broadcastAddress: HOST, apduTimeout: 3000 });
client.on('error', () => {});
await sleep(50);
const target = { address: `${HOST}:${meterPort}`, net: Number(net), adr: [Number(mac)] };
const object = { type: ObjectType.ANALOG_VALUE, instance: Number(instance) };
let out;
try {
    if (op === 'write') {
        await client.writeProperty(target, object, P.PRESENT_VALUE, [{ type: T.REAL, value: Number(v) }], {});
        out = { ok: true };
    } else {
        out = { ok: true, value: value(await client.readProperty(target, object, P.PRESENT_VALUE)) };
    }
} catch (e) {
    out = { ok: false, error: String(e.message) };
}
client.close();
console.log(JSON.stringify(out));
