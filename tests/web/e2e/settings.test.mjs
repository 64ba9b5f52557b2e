// End-to-end: alarm handling and the Settings page (issue 15) in headless
// Chromium, checked over Modbus TCP with mbpoll (the meter's own Modbus face,
// another client than the browser). A channel latched by a breaker tripped on
// the simulation page is cleared from its detail and the very next Modbus read
// shows it cleared; a panel's "Clear all latches" clears channels and L-L
// voltage latches alike; every clear is in the audit log. The steps run in
// order on one meter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startMeter, launchBrowser } from './meter.mjs';

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
  meter = await startMeter({ faces: { modbus_tcp: true } });
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
});

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

test('no script error on any page', () => {
  assert.deepEqual(pageErrors, []);
});
