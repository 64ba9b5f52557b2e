// End-to-end: alarm handling and the Settings page (issue 15) in headless
// Chromium, checked over Modbus TCP with mbpoll and SNMP with snmpget (the
// meter's own faces, other clients than the browser). A channel latched by a breaker tripped on
// the simulation page is cleared from its detail and the very next Modbus read
// shows it cleared; a panel's "Clear all latches" clears channels and L-L
// voltage latches alike; every clear is in the audit log. On the Settings
// page a threshold, sizes and logical circuits edited read back over Modbus,
// a refused value shows the settings table's message at its field and changes
// nothing, and a panel's CSV export imports back (a bad file refused with its
// line, nothing changed). The steps run in order on one meter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { startMeter, launchBrowser, root, screenshotDir, removeScreenshots, binary as meterBinary } from './meter.mjs';

// axe-core from tests/web/node_modules (npm ci in tests/web; scripts/install-deps.sh does).
const axeSource = fs.readFileSync(createRequire(path.join(root, 'tests', 'web', 'package.json'))
  .resolve('axe-core/axe.min.js'), 'utf8');

let meter;
let browser;
let page;
const pageErrors = [];
const password = 'Settings#Panel-15';

async function open(url) {
  await page.goto(`${meter.https}${url}`);
  await page.locator('header.top').waitFor();
}

async function api(method, url, body) {
  return page.evaluate(async ({ method, url, body }) => {
    const s = await (await fetch('/api/session')).json();
    const r = await fetch(url, { method, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf },
      body: body ? JSON.stringify(body) : undefined });
    const type = r.headers.get('Content-Type') || '';
    return { status: r.status, body: type.startsWith('application/json') ? await r.json() : await r.text() };
  }, { method, url, body });
}

// One read of holding registers by mbpoll (1-based register numbers, as the
// point map prints them); no retry: the answer is what the meter holds now.
async function modbusRead(unit, register, count = 1) {
  const { stdout } = await promisify(execFile)('mbpoll', ['-m', 'tcp', '-a', String(unit), '-p', String(meter.modbusPort),
    '-r', String(register), '-c', String(count), '-1', '-t', '4', '127.0.0.1']);
  const values = [];
  for (let r = register; r < register + count; ++r) {
    const m = stdout.match(new RegExp(`\\[${r}\\]:\\s*(-?\\d+)`));
    assert.ok(m, `register ${r} not in mbpoll's answer:\n${stdout}`);
    values.push(Number(m[1]));
  }
  return count === 1 ? values[0] : values;
}

// One snmpget by MIB name (the meter's exported MIB; Debian's net-snmp lacks
// the IETF base modules, which the npm net-snmp package brings).
async function snmpRead(name) {
  const mibs = [path.join(root, 'tests', 'snmp', 'node_modules', 'net-snmp', 'lib', 'mibs'), path.join(meter.dir, 'mibs')];
  const { stdout } = await promisify(execFile)('snmpget', ['-v2c', '-c', 'public', '-t', '2', '-r', '1', '-M', mibs.join(':'),
    '-m', 'SNMPv2-MIB:OPENBCPM-BCPME-MIB', '-Oqv', `127.0.0.1:${meter.snmpPort}`, `OPENBCPM-BCPME-MIB::${name}`]);
  return stdout.trim();
}

const statusRegister = (channel) => 177 + channel;  // Branch/AUX Alarm Status
const latchedBits = 0x1f;

async function waitForRegister(unit, register, predicate, what, timeout = 30000) {
  const deadline = Date.now() + timeout;
  let v;
  while (Date.now() < deadline) {
    v = await modbusRead(unit, register);
    if (predicate(v)) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${what}: register ${register} reads 0x${v.toString(16)}`);
}

before(async () => {
  meter = await startMeter({ faces: { modbus_tcp: true, snmp: true } });
  fs.mkdirSync(path.join(meter.dir, 'mibs'));
  await promisify(execFile)(meterBinary, ['export', 'mib', '-o', path.join(meter.dir, 'mibs', 'OPENBCPM-BCPME-MIB')]);
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('dialog', (d) => d.accept());
  page.on('pageerror', (e) => { pageErrors.push(e.message); console.log('page error:', e.message); });
  await page.goto(`${meter.https}/login`);
  await page.fill('#password', meter.initialPassword());
  await page.click('#login-button');
  await page.waitForURL(`${meter.https}/security`);
  await page.check('#mode-self');
  await page.click('#save');
  await page.waitForURL(`${meter.https}/`);
  const r = await api('POST', '/api/password', { current: meter.initialPassword(), password, confirm: password });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // Short delays (ON after 1 s, Low-Low and UV latched after 1 s), so that the steps take seconds.
  const s = await api('POST', '/api/settings', { settings: { 'panel.1.ll_delay': 1, 'panel.1.l_delay': 1,
    'panel.1.on_time': 1, 'panel.1.under_voltage_timer': 1 } });
  assert.equal(s.status, 200, JSON.stringify(s.body));
});

after(async () => {
  if (browser) await browser.close();
  if (meter) await meter.stop();
  removeScreenshots();
});

// docs/screenshots/ with OPENBCPM_SCREENSHOTS=1, else a temporary directory.
async function shot(name) {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`) });
}

async function trip(channel, tripped) {
  await open('/simulation');
  await page.getByText('Source: panel simulator').waitFor();
  await page.fill('#trip-panel', '1');
  await page.fill('#trip-channel', String(channel));
  await page.click(tripped ? '#trip-submit' : '#restore-submit');
  await page.getByText(`Panel 1 channel ${channel} ${tripped ? 'tripped' : 'restored'}.`).waitFor();
}

// A breaker tripped and restored: its Low-Low (and OFF) latches stay.
async function latch(channel) {
  await trip(channel, true);
  await waitForRegister(1, statusRegister(channel), (v) => (v & 0x08) !== 0, `channel ${channel} latching LL`);
  await trip(channel, false);
  await waitForRegister(1, statusRegister(channel), (v) => (v & 0x300) === 0, `channel ${channel} back on`);
}

test('a channel latched by a trip is cleared from its detail; the next Modbus read shows it cleared', async () => {
  await latch(20);
  const before = await modbusRead(1, statusRegister(20));
  assert.ok(before & latchedBits, `channel 20 is latched over Modbus (0x${before.toString(16)})`);
  await open('/panel');
  const cell = page.locator('#p1-c20');
  await cell.locator('.badge', { hasText: /^LL$/ }).waitFor({ timeout: 10000 });
  await page.locator('#p1-latched', { hasText: /^[1-9]/ }).waitFor();
  assert.match(await page.locator('#p1-recent').innerText(), /^ch \d+$/);
  await cell.click();
  await page.locator('#detail').waitFor();
  await page.click('#detail-clear');
  await page.locator('#detail-msg', { hasText: 'Channel 20: latches cleared.' }).waitFor();
  // The answer came after the write was applied: one read, no retry.
  const after = await modbusRead(1, statusRegister(20));
  assert.equal(after & latchedBits, 0, `channel 20 after the clear: 0x${after.toString(16)}`);
  await cell.locator('.badge', { hasText: /^LL$/ }).waitFor({ state: 'detached', timeout: 5000 });
  await page.click('#detail-close');
});

test('Clear all latches clears every channel and the L-L voltage latches of the panel', async () => {
  await latch(22);
  await latch(24);
  // A sag for 3 s latches UV on the three L-L voltages (timer 1 s).
  await open('/simulation');
  await page.selectOption('#v-phases', 'ABC');
  await page.fill('#v-mag', '0.8');
  await page.fill('#v-seconds', '3');
  await page.click('#voltage-submit');
  await waitForRegister(1, 241, (v) => (v & 0x03) !== 0, 'voltage AB latching UV', 20000);
  // ... and its end, so that only the latch stays.
  await waitForRegister(1, 241, (v) => (v & 0x300) === 0, 'the sag over', 20000);
  const [ab, bc, ca] = await modbusRead(1, 241, 3);
  assert.ok(ab & 0x03 && bc & 0x03 && ca & 0x03, `voltage latches: ${ab} ${bc} ${ca}`);
  const latched = await modbusRead(1, 228);  // Channels latched
  assert.ok(latched >= 2, `channels latched over Modbus: ${latched}`);

  await open('/panel');
  await page.locator('#p1-c22 .badge', { hasText: /^LL$/ }).waitFor({ timeout: 10000 });
  await shot('panel-latched-1400x900');
  await page.click('#p1-clear-all');
  await page.locator('#p1-alarm-msg', { hasText: 'every channel and voltage latch cleared' }).waitFor();
  const regs = await modbusRead(1, statusRegister(1), 46);
  const stillLatched = regs.map((v, i) => [i + 1, v]).filter(([, v]) => v & latchedBits);
  assert.deepEqual(stillLatched, [], 'no channel latched after Clear all latches');
  const volts = await modbusRead(1, 241, 3);
  assert.deepEqual(volts.map((v) => v & 0x03), [0, 0, 0], 'no voltage latched');
  assert.equal(await modbusRead(1, 228), 0, 'Channels latched register');
  await page.locator('#p1-latched', { hasText: /^0$/ }).waitFor();

  // Both clears are in the audit log, by the user who made them.
  const audit = await api('GET', '/api/audit');
  const clears = audit.body.entries.filter((e) => e.action === 'clear latches').map((e) => e.detail);
  assert.ok(clears.includes('panel 1 channel 20'), JSON.stringify(clears));
  assert.ok(clears.includes('panel 1, every channel and voltage'), JSON.stringify(clears));
});

test('the clear API refuses what names no input, and changes nothing', async () => {
  for (const [body, why] of [[{ panel: 3 }, /panel must be 1 to 2/], [{ panel: 1, channel: 47 }, /channel must name/],
    [{ panel: 1, voltage: 'xy' }, /voltage must be ab, bc or ca/], [{ panel: 1, channel: 1, voltage: 'ab' }, /not both/]]) {
    const r = await api('POST', '/api/alarms/clear', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.body.error, why);
  }
});

// --- The Settings page ---

const f = (k) => `#f-${k.replace(/\./g, '-')}`;
const e = (k) => `#e-${k.replace(/\./g, '-')}`;

test('a threshold, a breaker size and a CT size edited on the Settings page read back over Modbus and SNMP', async () => {
  await open('/settings');
  await page.locator(f('panel.1.hh_threshold')).waitFor();
  await page.waitForFunction(() => document.querySelector('#f-panel-1-hh_threshold').value !== '');
  await page.fill(f('panel.1.hh_threshold'), '850');
  await page.click('#save-thresholds');
  await page.locator('#msg-thresholds', { hasText: '1 setting(s) stored.' }).waitFor();
  assert.equal(await modbusRead(1, 171), 850, 'High-High threshold, register 171');
  await page.fill(f('panel.1.breaker_size.7'), '30');
  await page.fill(f('panel.1.ct_size.7'), '50');
  await page.click('#save-channels');
  await page.locator('#msg-channels', { hasText: '2 setting(s) stored.' }).waitFor();
  assert.equal(await modbusRead(1, 118 + 7), 30, 'breaker size of channel 7');
  assert.equal(await modbusRead(1, 72 + 7), 50, 'CT size of channel 7');
  // ... and over SNMP, by the product MIB's names (its DISPLAY-HINT puts the 0.1 % steps as %).
  assert.equal(await snmpRead('p1HighHighThreshold.0'), '85.0 %');
  assert.match(await snmpRead('p1ChannelBreakerSize.7'), /^30( A)?$/);
  // The page shows what is stored after a reload.
  await open('/settings');
  await page.waitForFunction(() => document.querySelector('#f-panel-1-breaker_size-7').value === '30');
});

test('a refused value shows the settings table\'s message at its field and changes nothing', async () => {
  await open('/settings');
  await page.waitForFunction(() => document.querySelector('#f-panel-1-hh_threshold').value === '850');
  const h = await modbusRead(1, 172);
  await page.fill(f('panel.1.h_threshold'), String(h === 600 ? 610 : 600));  // valid, but in the same request
  await page.fill(f('panel.1.hh_threshold'), '1001');
  await page.click('#save-thresholds');
  await page.locator(e('panel.1.hh_threshold')).waitFor();
  const shown = await page.locator(e('panel.1.hh_threshold')).innerText();
  // The same message the API (and so every face's table) gives.
  const api1 = await api('POST', '/api/settings', { settings: { 'panel.1.hh_threshold': 1001 } });
  assert.equal(api1.status, 400);
  assert.equal(api1.body.key, 'panel.1.hh_threshold');
  assert.equal(shown, api1.body.error);
  assert.match(shown, /panel\.1\.hh_threshold must be 0 to 1000/);
  assert.equal(await modbusRead(1, 171), 850, 'High-High unchanged');
  assert.equal(await modbusRead(1, 172), h, 'High unchanged: the request was refused as a whole');
  // Two breakers that are not adjacent cannot be one logical circuit.
  await page.check('#sel-1');
  await page.check('#sel-20');
  await page.click('#join');
  await page.click('#save-channels');
  await page.locator(e('panel.1.logical_circuit.20')).waitFor();
  assert.match(await page.locator(e('panel.1.logical_circuit.20')).innerText(), /would not be 1 to 3 adjacent channels/);
  assert.equal(await modbusRead(1, 3220), 20, 'channel 20 keeps its own circuit');
});

test('logical circuits are formed from adjacent breakers and read back over Modbus', async () => {
  // The default's three-pole breakers: channels 1, 3, 5 are circuit 1, and 2, 4, 6 circuit 2.
  assert.deepEqual(await modbusRead(1, 3201, 6), [1, 2, 1, 2, 1, 2], 'circuits of channels 1..6');
  await open('/settings');
  await page.waitForFunction(() => document.querySelector('#f-panel-1-logical_circuit-1').value !== '');
  for (const c of [1, 3, 5]) await page.check(`#sel-${c}`);
  await page.click('#separate');
  await page.click('#save-channels');
  await page.locator('#msg-channels', { hasText: '2 setting(s) stored.' }).waitFor();
  assert.deepEqual(await modbusRead(1, 3201, 6), [1, 2, 3, 2, 5, 2], 'each its own circuit');
  await open('/settings');
  await page.waitForFunction(() => document.querySelector('#f-panel-1-logical_circuit-3').value === '3');
  for (const c of [1, 3, 5]) await page.check(`#sel-${c}`);
  await page.click('#join');
  await page.click('#save-channels');
  await page.locator('#msg-channels', { hasText: '2 setting(s) stored.' }).waitFor();
  assert.deepEqual(await modbusRead(1, 3201, 6), [1, 2, 1, 2, 1, 2], 'one circuit again');
});

test('CSV export and import round-trip; a bad file is refused with its line and changes nothing', async () => {
  await open('/settings');
  const exported = await page.evaluate(async () => (await fetch('/api/settings/export?panel=1')).text());
  assert.match(exported, /^key,value\r\n/);
  assert.match(exported, /\r\npanel\.1\.hh_threshold,850\r\n/);
  assert.match(exported, /\r\npanel\.1\.location,DC1 Row C RPP-1A\r\n/);
  assert.doesNotMatch(exported, /panel\.2\./);
  // Changed elsewhere, then the file brings the panel back.
  const r = await api('POST', '/api/settings', { settings: { 'panel.1.hh_threshold': 800, 'panel.1.breaker_size.7': 40 } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(await modbusRead(1, 171), 800);
  await page.setInputFiles('#csv-file', { name: 'panel-1-settings.csv', mimeType: 'text/csv', buffer: Buffer.from(exported) });
  await page.click('#csv-import-submit');
  await page.locator('#csv-msg', { hasText: 'settings imported into panel 1.' }).waitFor();
  assert.equal(await modbusRead(1, 171), 850);
  assert.equal(await modbusRead(1, 118 + 7), 30);
  assert.equal(await page.inputValue(f('panel.1.hh_threshold')), '850', 'the form shows the imported values');
  const again = await page.evaluate(async () => (await fetch('/api/settings/export?panel=1')).text());
  assert.equal(again, exported, 'export, import, export gives the same file');
  // One bad line: refused with its line, nothing else changed either.
  const bad = exported.replace('panel.1.hh_threshold,850', 'panel.1.hh_threshold,700')
    .replace(/panel\.1\.h_threshold,\d+/, 'panel.1.h_threshold,1001');
  const line = bad.split('\r\n').findIndex((l) => l.startsWith('panel.1.h_threshold,')) + 1;
  await page.setInputFiles('#csv-file', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  await page.click('#csv-import-submit');
  await page.locator('#csv-msg.error').waitFor();
  const msg = await page.locator('#csv-msg').innerText();
  assert.match(msg, new RegExp(`^line ${line}: panel\\.1\\.h_threshold must be 0 to 1000 \\(nothing was changed\\)$`));
  assert.equal(await modbusRead(1, 171), 850, 'hh_threshold (an earlier line) unchanged');
  for (const [text, why] of [['panel.2.hh_threshold,1\r\n', /line 1: panel\.2\.hh_threshold is not a setting of panel 1/],
    ['panel.1.hh_threshold,1\r\npanel.1.hh_threshold,2\r\n', /line 2: .* appears twice/],
    ['panel.1.location,"open\r\n', /line 1: an unclosed quote/], ['', /no settings/]]) {
    const x = await api('POST', '/api/settings/import', { panel: 1, csv: text });
    assert.equal(x.status, 400, text);
    assert.match(x.body.error, why);
  }
  assert.equal(await modbusRead(1, 171), 850);
  const audit = await api('GET', '/api/audit');
  assert.ok(audit.body.entries.some((x) => x.action === 'settings import'), 'the import is audited');
});

test('strip configuration, user phase assignment and demand sub-intervals from the Settings page, over Modbus', async () => {
  await open('/settings');
  await page.waitForFunction(() => document.querySelector('#f-panel-1-demand_subintervals').value !== '');
  await page.check('#bit-1');  // user CT phase assignment
  await page.selectOption(f('panel.1.configuration'), '2');  // Sequential
  await page.click('#save-panel');
  await page.locator('#msg-panel', { hasText: '2 setting(s) stored.' }).waitFor();
  assert.equal(await modbusRead(1, 6), 2, 'Configuration, register 6');
  assert.equal((await modbusRead(1, 62017)) & 1, 1, 'User Defined Status Register bit 0');
  // The channel table's positions follow: sequential numbering puts channel 2 at A2 (top feed: B1).
  await page.locator('#row-2 td', { hasText: /^A2$/ }).waitFor();
  await page.selectOption(f('panel.1.phase.2'), '2');  // C
  await page.click('#save-channels');
  await page.locator('#msg-channels', { hasText: '1 setting(s) stored.' }).waitFor();
  assert.equal(await modbusRead(1, 62115 + 2), 2, 'voltage phase of channel 2');
  await page.fill(f('panel.1.demand_subintervals'), '7');
  await page.click('#save-demand');
  await page.locator(e('panel.1.demand_subintervals'), { hasText: 'must be 1 to 6' }).waitFor();
  await page.fill(f('panel.1.demand_subintervals'), '4');
  await page.click('#save-demand');
  await page.locator('#msg-demand', { hasText: '1 setting(s) stored.' }).waitFor();
  assert.equal(await page.locator(e('panel.1.demand_subintervals')).innerText(), '', 'the old refusal is gone');
  // Back as it was.
  const r = await api('POST', '/api/settings', { settings: { 'panel.1.configuration': 0, 'panel.1.user_defined': 0,
    'panel.1.phase.2': 0, 'panel.1.demand_subintervals': 3 } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(await modbusRead(1, 6), 0);
});

test('the simulation page shows only what is in force: a trip made before the process restarted is not', async () => {
  await trip(20, true);
  await page.locator('#state[data-ready] #state-trips', { hasText: 'panel 1 channel 20' }).waitFor();
  await meter.restart();  // kill -TERM and start again on the same state directory
  await open('/simulation');  // the session survives the restart
  await page.locator('#state[data-ready]').waitFor();
  assert.equal(await page.locator('#state-trips').innerText(), 'none');
  const s = await page.evaluate(async () => (await fetch('/api/snapshot')).json());
  const c20 = s.panels[0].channels.find((c) => c.channel === 20);
  assert.ok(c20.current > 0.5, `channel 20 draws its configured load again (${c20.current} A)`);
});

test('the Settings page fits from 360 to 1920 px, passes axe-core, and shows a refusal to screen readers', async () => {
  for (const w of [360, 390, 768, 1024, 1400, 1920]) {
    await page.setViewportSize({ width: w, height: 900 });
    await open('/settings');
    await page.locator('#channels tbody tr').first().waitFor();
    const r = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: innerWidth }));
    assert.ok(r.scroll <= r.inner, `/settings at ${w} px: ${r.scroll} px wide`);
    if (w === 390 || w === 1400) {
      await page.setViewportSize({ width: w, height: w === 390 ? 844 : 900 });
      await shot(`settings-${w}x${w === 390 ? 844 : 900}`);
    }
  }
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.fill(f('panel.1.ct_size.9'), '-1');
  await page.click('#save-channels');
  await page.locator(e('panel.1.ct_size.9'), { hasText: 'must be 0 to 32767' }).waitFor();
  assert.equal(await page.getAttribute(f('panel.1.ct_size.9'), 'aria-describedby'), e('panel.1.ct_size.9').slice(1));
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] }))
    .violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })));
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], JSON.stringify(bad, null, 1));
});

test('no script error on any page', () => {
  assert.deepEqual(pageErrors, []);
});
