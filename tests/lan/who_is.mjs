// A BACnet client of its own namespace (tests/lan: the far subnet): sends a
// global broadcast Who-Is to the address given, listens 2 s, prints the I-Ams heard
// as JSON (device, the address it came from, the BBMD's forwarded origin).
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const Bacnet = createRequire(path.join(here, '../bacnet/package.json'))('@bacnet-js/client').default;

const broadcastAddress = process.argv[2];
const client = new Bacnet({ port: 47808, broadcastAddress, apduTimeout: 2000 });
client.on('error', (e) => { console.error(e.message); process.exitCode = 1; });
const heard = new Map();
client.on('iAm', (c) => heard.set(c.payload.deviceId, {
    deviceId: c.payload.deviceId, address: c.header.sender.address, forwardedFrom: c.header.sender.forwardedFrom,
    func: c.header.func, net: c.header.sender.net, adr: c.header.sender.adr,
}));
client.on('listening', () => client.whoIs({ net: 0xffff }));  // global: the panels behind the router answer too
setTimeout(() => {
    client.close();
    console.log(JSON.stringify([...heard.values()]));
}, 2000);
