// End-to-end: protected HTTP (the guide's "HTTP with built-in payload
// encryption") in headless Chromium. The browser reaches the meter by a name
// (meter.test, mapped to 127.0.0.1 by Chromium's resolver rules) so that the
// page is NOT a secure context, as on a real LAN: no WebCrypto, the noble
// libraries do the work. Every request the browser makes is recorded
// (playwright's request events); the test proves that no password appears in
// any of them and that a captured change, sent again, is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { binary, freePort, chromium } from './meter.mjs';

const host = 'meter.test';
const newPassword = 'Sealed-Change#2026';
let meter;  // { child, dir, stateDir, port, output }
let context;
let userDataDir;
let page;
let origin;
const requests = [];  // every request the browser sent: { method, url, headers, body }

async function start() {
  if (!binary) throw new Error('no openbcpm binary: build it or set OPENBCPM_BIN');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openbcpm-protected-'));
  const stateDir = path.join(dir, 'state');
  const port = await freePort();
  let config = execFileSync(binary, ['config', '--default'], { encoding: 'utf8' });
  // The web face only; the browser's name for the meter is one of its own
  // ([web] host_names), and allow_plain_http is NOT set.
  config = config.replace(/\[web\]\nport = \d+/, `[web]\nport = ${port}\nhost_names = ["${host}"]`)
    .replace(/\[faces\]\n(?:[a-z_]+ = (?:true|false)\n)*/, '');
  config += '\n[faces]\nmodbus_tcp = false\nmodbus_rtu = false\nbacnet_ip = false\nbacnet_mstp = false\n' +
    'snmp = false\nweb = true\n';
  const file = path.join(dir, 'meter.toml');
  fs.writeFileSync(file, config);
  const child = spawn(binary, ['run', '--config', file, '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const deadline = Date.now() + 20000;
  while (!/web: listening on/.test(output)) {
    if (child.exitCode !== null) throw new Error('openbcpm exited:\n' + output);
    if (Date.now() > deadline) throw new Error('openbcpm did not start:\n' + output);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, dir, stateDir, port, output: () => output };
}

// Sends a request as someone on the wire would: the recorded bytes and headers, again.
function resend({ method, url, headers, body }) {
  const u = new URL(url);
  const h = { ...headers };
  for (const k of Object.keys(h)) if (k.startsWith(':')) delete h[k];
  h['content-length'] = String(body ? body.length : 0);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: meter.port, method, path: u.pathname + u.search, headers: h },
      (res) => {
        let data = '';
        res.on('data', (d) => { data += d; });
        res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(data || '{}') }));
      });
    req.on('error', reject);
    req.end(body || undefined);
  });
}

async function modbusAddress() {
  const data = await page.evaluate(() => bcpm.api('GET', '/api/parameters'));
  return Number(data.parameters.find((p) => p.name === 'Modbus_Address').value);
}

before(async () => {
  meter = await start();
  origin = `http://${host}:${meter.port}`;
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openbcpm-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--host-resolver-rules=MAP ${host} 127.0.0.1`],
  });
  page = await context.newPage();
  page.on('dialog', (d) => d.accept());
  page.on('request', async (r) => {
    const entry = { method: r.method(), url: r.url(), headers: {}, body: r.postDataBuffer() };
    requests.push(entry);
    entry.headers = await r.allHeaders().catch(() => r.headers());
  });
});

after(async () => {
  if (context) await context.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  if (meter) {
    if (meter.child.exitCode === null) {
      meter.child.kill('SIGTERM');
      await new Promise((r) => meter.child.once('exit', r));
    }
    fs.rmSync(meter.dir, { recursive: true, force: true });
  }
});

let initial;
let firstChange;  // the recorded POST that set Modbus_Address to 7

test('the page is not a secure context: no WebCrypto', async () => {
  initial = fs.readFileSync(path.join(meter.stateDir, 'initial-admin-password'), 'utf8').trim();
  await page.goto(`${origin}/login`);
  assert.equal(await page.evaluate(() => window.isSecureContext), false);
  assert.equal(await page.evaluate(() => typeof crypto.subtle), 'undefined');
});

test('challenge login over plain HTTP, then the protected HTTP mode is chosen', async () => {
  await page.fill('#username', 'admin');
  await page.fill('#password', initial);
  await page.click('#login-button');
  await page.waitForURL(`${origin}/security`);
  // The guide's three modes; plain HTTP is not offered without allow_plain_http.
  await page.locator('#mode-http-protected').waitFor();
  assert.equal(await page.locator('#mode-http').count(), 0);
  assert.equal(await page.locator('#mode-own').count(), 1);
  assert.equal(await page.locator('#mode-self').count(), 1);
  await page.check('#mode-http-protected');
  await page.click('#save');
  await page.waitForURL(`${origin}/`, { timeout: 10000 });
  const session = await page.evaluate(() => bcpm.api('GET', '/api/session'));
  assert.equal(session.security, 'http-protected');
  assert.equal(session.integrity, true);
  assert.equal(session.session_key, true);
});

test('a setting changed from the page carries an integrity tag; a replay of it is refused', async () => {
  for (const value of [7, 9]) {
    await page.locator('#value-Modbus_Address').waitFor();
    await page.fill('#value-Modbus_Address', String(value));
    await page.click('#submit-Modbus_Address');
    await page.getByText('Modbus_Address stored').first().waitFor();
    assert.equal(await modbusAddress(), value);
    if (value === 7) {
      firstChange = requests.filter((r) => r.method === 'POST' && r.url.endsWith('/api/parameters')).at(-1);
    }
    await page.reload();
  }
  assert.ok(firstChange, 'the change was recorded');
  assert.match(firstChange.headers['x-integrity'], /^[0-9a-f]{64}$/);
  assert.match(firstChange.headers['x-integrity-seq'], /^[1-9][0-9]*$/);
  // The same bytes again, with the same cookie, CSRF token and tag: refused, nothing changed.
  const replay = await resend(firstChange);
  assert.equal(replay.status, 403);
  assert.equal(replay.json.integrity, 'replayed');
  assert.equal(await modbusAddress(), 9);
  // Altered on the way (another value under the same tag and a fresh number): refused.
  const seq = String(Number(firstChange.headers['x-integrity-seq']) + 1000);
  const altered = await resend({ ...firstChange, headers: { ...firstChange.headers, 'x-integrity-seq': seq },
    body: Buffer.from(firstChange.body.toString().replace('"7"', '"5"').replace(':7', ':5')) });
  assert.equal(altered.status, 403);
  assert.equal(altered.json.integrity, 'wrong');
  // Without the tag: refused.
  const headers = { ...firstChange.headers };
  delete headers['x-integrity'];
  delete headers['x-integrity-seq'];
  const untagged = await resend({ ...firstChange, headers });
  assert.equal(untagged.status, 403);
  assert.equal(untagged.json.integrity, 'missing');
  assert.equal(await modbusAddress(), 9);
  const audit = await page.evaluate(() => bcpm.api('GET', '/api/audit?limit=50'));
  const refused = audit.entries.filter((e) => e.action === 'refused').map((e) => e.detail);
  assert.ok(refused.includes('integrity tag replayed on POST /api/parameters'), refused.join('\n'));
  assert.ok(refused.includes('integrity tag missing on POST /api/parameters'), refused.join('\n'));
});

test('the password is changed sealed, and the new one logs in', async () => {
  await page.goto(`${origin}/diagnostics#user-management`);
  await page.fill('#pw-current', initial);
  await page.fill('#pw-new', newPassword);
  await page.fill('#pw-confirm', newPassword);
  await page.click('#pw-submit');
  await page.getByText('The password was changed.').waitFor();
  const change = requests.filter((r) => r.method === 'POST' && r.url.endsWith('/api/password')).at(-1);
  assert.ok(JSON.parse(change.body.toString()).sealed, 'sent sealed');
  await page.click('#logout');
  await page.waitForURL(`${origin}/login`);
  await page.fill('#username', 'admin');
  await page.fill('#password', initial);
  await page.click('#login-button');
  await page.getByText('wrong user name or password').waitFor();
  await page.fill('#password', newPassword);
  await page.click('#login-button');
  await page.waitForURL(`${origin}/`);
});

test('no request ever carried a password', () => {
  assert.ok(requests.length > 20, `${requests.length} requests recorded`);
  const posts = requests.filter((r) => r.method === 'POST').map((r) => new URL(r.url).pathname);
  for (const p of ['/api/login/challenge', '/api/login/proof', '/api/security', '/api/parameters', '/api/password',
    '/api/logout']) {
    assert.ok(posts.includes(p), `${p} was sent`);
  }
  assert.ok(!posts.includes('/api/login'), 'the password login was never used');
  // As typed, URL-encoded, JSON-escaped or base64: nowhere in a URL, a header or a body.
  for (const pw of [initial, newPassword]) {
    const forms = [pw, encodeURIComponent(pw), JSON.stringify(pw).slice(1, -1), Buffer.from(pw).toString('base64')];
    for (const r of requests) {
      const text = [r.url, JSON.stringify(r.headers), r.body ? r.body.toString('latin1') : ''].join('\n');
      for (const f of forms) assert.ok(!text.includes(f), `${r.method} ${r.url} carries a password`);
    }
  }
  // Every state-changing request after the login carried a tag.
  for (const r of requests.filter((q) => q.method === 'POST' && !new URL(q.url).pathname.startsWith('/api/login'))) {
    assert.match(r.headers['x-integrity'] || '', /^[0-9a-f]{64}$/, `${r.url} is tagged`);
  }
  // The noble modules were served (the page could not have logged in otherwise).
  assert.ok(requests.some((r) => r.url.endsWith('/static/noble/hashes/pbkdf2.js')));
  assert.ok(requests.some((r) => r.url.endsWith('/static/noble/ciphers/chacha.js')));
});
