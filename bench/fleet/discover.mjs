// BACnet discovery of a site, as a BMS's client does it (@bacnet-js/client):
// a global Who-Is (net 0xFFFF, so the panels behind each meter's router answer
// too) sent to each meter's address, BATCH meters every 20 ms; the I-Ams come
// back to this client. Expected: the router (offset + 10k) and both panels
// (+1, +2) of each meter k. A meter whose devices are not all heard 2 s after
// the last I-Am is asked again (at most 3 rounds), as clients retry.
// Prints one line: devices heard of expected, the time until the last one
// (from the first Who-Is), how many the first round found, rounds.
// Usage: node discover.mjs FIRST_ADDRESS COUNT PORT CLIENT_PORT OFFSET [BATCH]
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const clientModule = createRequire(path.join(here, '../../tests/bacnet/package.json'));
const Bacnet = clientModule('@bacnet-js/client').default;

const [first, count, port, clientPort, offset, batchArg] = process.argv.slice(2);
const n = Number(count);
const batch = Number(batchArg ?? 20);
const base = first.split('.').map(Number).reduce((a, b) => a * 256 + b, 0);
const addressOf = (k) => [24, 16, 8, 0].map((s) => Math.floor((base + k) / 2 ** s) % 256).join('.');
const devicesOf = (k) => [0, 1, 2].map((d) => Number(offset) + 10 * k + d);

const client = new Bacnet({ port: Number(clientPort), interface: '127.0.0.1', apduTimeout: 2000 });
const heard = new Set();
let started = 0;
let last = 0;
client.on('error', (e) => { console.error(e.message); process.exitCode = 1; });
client.on('iAm', (c) => {
    if (!heard.has(c.payload.deviceId)) last = performance.now();
    heard.add(c.payload.deviceId);
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function ask(meters) {
    for (let i = 0; i < meters.length; i += batch) {
        for (const k of meters.slice(i, i + batch))
            client.whoIs({ address: `${addressOf(k)}:${port}`, net: 0xffff });
        await sleep(20);
    }
}
// Waits until 2 s pass with nothing new heard.
async function quiet() {
    let seen = -1;
    while (seen !== heard.size) {
        seen = heard.size;
        await sleep(2000);
    }
}

client.on('listening', async () => {
    const all = [...Array(n).keys()];
    started = performance.now();
    let missing = all;
    let firstRound = 0;
    let rounds = 0;
    while (missing.length > 0 && rounds < 3) {
        ++rounds;
        await ask(missing);
        await quiet();
        if (rounds === 1) firstRound = heard.size;
        missing = all.filter((k) => devicesOf(k).some((d) => !heard.has(d)));
    }
    client.close();
    const expected = all.flatMap(devicesOf);
    const found = expected.filter((d) => heard.has(d)).length;
    const strays = heard.size - found;
    console.log(`devices ${found} of ${expected.length} in ${((last - started) / 1000).toFixed(2)} s ` +
                `(first round ${firstRound}, rounds ${rounds}, unexpected ${strays}` +
                `${missing.length ? `, meters missing a device: ${missing.slice(0, 10).join(' ')}` : ''})`);
    if (found !== expected.length) process.exitCode = 1;
});
