// A global Who-Is (the panels behind each meter's router answer too) sent from
// 127.0.0.1:<client port> to <port> of each of ADDRESSES (comma-separated):
// `broadcast`: as a B/IP broadcast (Original-Broadcast-NPDU; ADDRESSES is a
// subnet's broadcast address; the meters answer with broadcasts to that
// address, which this client cannot hear: the test captures them), or
// `directed`: to each meter (Original-Unicast-NPDU; they answer to the client).
// The I-Ams heard for MS milliseconds are printed as a JSON array of
// {deviceId, address}.
// Usage: node who_is.mjs broadcast|directed ADDRESSES PORT CLIENT_PORT MS
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const Bacnet = createRequire(path.join(here, '../bacnet/package.json'))('@bacnet-js/client').default;

const [how, address, port, clientPort, ms] = process.argv.slice(2);
const client = new Bacnet({
    port: Number(clientPort), interface: '127.0.0.1', broadcastAddress: `${address.split(',')[0]}:${port}`,
    apduTimeout: 2000,
});
client.on('error', (e) => { console.error(e.message); process.exitCode = 1; });
const heard = new Map();
client.on('iAm', (c) => heard.set(c.payload.deviceId, {
    deviceId: c.payload.deviceId, address: c.header.sender.address,
}));
client.on('listening', () => {
    if (how === 'broadcast') client.whoIs({ net: 0xffff });
    else for (const a of address.split(',')) client.whoIs({ address: `${a}:${port}`, net: 0xffff });
});
setTimeout(() => {
    client.close();
    console.log(JSON.stringify([...heard.values()]));
}, Number(ms));
