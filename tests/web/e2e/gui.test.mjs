// End-to-end: the web GUI in headless Chromium against a running openbcpm.
// The steps run in order on one meter, as a person would go through them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startMeter, launchBrowser, screenshotDir, removeScreenshots } from './meter.mjs';

let meter;
let browser;
let page;
const newPassword = 'Panel-Board#2026';
const modbusAddress = 7;  // set on the configuration page below; panel 2 answers at +1

// Where a load set on the simulation page must show up. Each check gets the
// panel, channel and amps and throws when the meter does not show them. The
// Modbus face adds one more entry here ("and over Modbus").
const loadChecks = [
  async function panelView({ panel, channel, amps }) {
    await page.goto(`${meter.https}/panel`);
    const cell = page.locator(`#p${panel}-c${channel}`);
    await cell.waitFor();
    await page.waitForFunction(({ id, want }) => {
      const e = document.getElementById(id);
      return e && e.dataset.current && Math.abs(Number(e.dataset.current) - want) / want < 0.05;
    }, { id: `p${panel}-c${channel}`, want: amps }, { timeout: 20000 });
    const text = await cell.innerText();
    assert.match(text, new RegExp(`^${channel}\\b`), 'the cell is the channel asked for');
  },
  // ... and over Modbus, read by mbpoll: the channel's current float, MSW first.
  async function overModbus({ panel, channel, amps }) {
    const register = 2252 + 2 * (channel - 1);
    let last = '';
    for (let attempt = 0; attempt < 40; ++attempt) {
      const { stdout } = await promisify(execFile)('mbpoll', ['-m', 'tcp', '-a', String(modbusAddress + panel - 1),
        '-p', String(meter.modbusPort), '-r', String(register), '-c', '1', '-1', '-t', '4:float', '-B',
        '127.0.0.1']);
      last = stdout;
      const m = stdout.match(new RegExp(`\\[${register}\\]:\\s*([-0-9.e+]+)`));
      if (m && Math.abs(Number(m[1]) - amps) / amps < 0.05) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.fail(`Modbus register ${register} never read ${amps} A:\n${last}`);
  },
];

async function shot(name) {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

async function login(password) {
  await page.fill('#username', 'admin');
  await page.fill('#password', password);
  await page.click('#login-button');
}

before(async () => {
  meter = await startMeter({ faces: { modbus_tcp: true } });
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('dialog', (d) => d.accept());  // the System Restart confirmation
});

after(async () => {
  if (browser) await browser.close();
  if (meter) await meter.stop();
  removeScreenshots();
});

test('first start: the initial password is printed once and written to the state directory', () => {
  const pw = meter.initialPassword();
  assert.match(pw, /^.{16}$/);
  assert.ok(meter.output().includes(pw), 'printed on the console');
});

test('first visit shows Web Server Security Unconfigured', async () => {
  await page.goto(`${meter.http}/`);
  await page.getByRole('heading', { name: 'Web Server Security Unconfigured' }).waitFor();
  // The guide's third mode, not plain HTTP.
  await page.getByText('HTTP with built-in payload encryption (vulnerable to man-in-the-middle attack)').waitFor();
  assert.equal(await page.innerText('#use-http'), 'Continue over HTTP (built-in payload encryption)');
  await shot('unconfigured');
});

test('Use HTTPS leads to the login page over TLS; the initial password logs in', async () => {
  await page.click('#use-https');
  await page.waitForURL(`${meter.https}/login`);
  await shot('login');
  await login('wrong-password-1');
  await page.getByText('wrong user name or password').waitFor();
  await login(meter.initialPassword());
  await page.waitForURL(`${meter.https}/security`);
  await page.getByRole('heading', { name: 'Web server security is not configured' }).waitFor();
});

test('choosing the self-signed HTTPS mode opens Configuration Parameters', async () => {
  // The guide's three modes; plain HTTP only with [web] allow_plain_http.
  const modes = await page.locator('fieldset.modes label').allInnerTexts();
  assert.deepEqual(modes.map((m) => m.trim()), [
    'HTTPS with own trusted TLS certificate (recommended and most secure)',
    'HTTPS with default untrusted self-signed TLS certificate (vulnerable to man-in-the-middle attack)',
    'HTTP with built-in payload encryption (vulnerable to man-in-the-middle attack)']);
  await page.check('#mode-self');
  await shot('security');
  await page.click('#save');
  await page.getByText('Redirecting').waitFor();
  await page.waitForURL(`${meter.https}/`);
  await page.getByRole('heading', { name: 'Configuration Parameters' }).waitFor();
  // From now on plain HTTP moves over to HTTPS.
  const res = await fetch(`${meter.http}/login`, { redirect: 'manual' });
  assert.equal(res.status, 301);
  assert.equal(res.headers.get('location'), `${meter.https}/login`);
});

test('Configuration Parameters shows exactly the Modbus mode parameters', async () => {
  await page.locator('#parameters tbody tr').first().waitFor();
  const names = await page.locator('#parameters tbody th').allInnerTexts();
  assert.deepEqual(names, ['Operating_Mode', 'Protocol_Mode', 'Upstream_Baud', 'Modbus_Address', 'Modbus_Parity']);
  await page.getByText('You are using the factory password').waitFor();
  // Active profiles: the guide's Parameters column and a Remove button per profile.
  const heads = await page.locator('#profiles thead th').allInnerTexts();
  assert.deepEqual(heads.slice(0, 4), ['Nr', 'Node ID', 'Current profile', 'Parameters']);
  assert.match(await page.innerText('#profile-2'), /Modbus unit 2/);
  await page.locator('#remove-1').waitFor();
  await page.click('#remove-2');
  await page.getByText('Profile 2 removed. It takes effect at System Restart').waitFor();
  await page.locator('#profile-2').getByText('Removed at System Restart').waitFor();
  assert.equal(await page.locator('#remove-2').count(), 0);
  await page.getByText('Operating_Mode is Discovery').waitFor();
  await shot('configuration');
});

test('password change with the strength rule; the new password logs in, the old one does not', async () => {
  // Read before the change: the meter removes the file once the password is changed.
  const initial = meter.initialPassword();
  await page.goto(`${meter.https}/diagnostics#user-management`);
  await page.fill('#pw-current', initial);
  await page.fill('#pw-new', 'short');
  await page.fill('#pw-confirm', 'short');
  await page.click('#pw-submit');
  await page.getByText('at least 10 characters').waitFor();
  await page.fill('#pw-current', initial);
  await page.fill('#pw-new', newPassword);
  await page.fill('#pw-confirm', newPassword);
  await page.click('#pw-submit');
  await page.getByText('The password was changed.').waitFor();
  await shot('diagnostics-user-management');
  await page.click('#logout');
  await page.waitForURL(`${meter.https}/login`);
  await login(initial);
  await page.getByText('wrong user name or password').waitFor();
  assert.ok(!fs.existsSync(path.join(meter.stateDir, 'initial-admin-password')),
    'the initial password file is removed once the password is changed');
  await login(newPassword);
  await page.waitForURL(`${meter.https}/`);
  assert.equal(await page.getByText('You are using the factory password').count(), 0);
});

test('a configuration change survives System Restart', async () => {
  await page.locator('#value-Modbus_Address').waitFor();
  await page.fill('#value-Modbus_Address', String(modbusAddress));
  await page.click('#submit-Modbus_Address');
  await page.getByText('Modbus_Address stored. Restart the system').waitFor();
  await page.fill('#value-Protocol_Mode', '3');
  await page.click('#submit-Protocol_Mode');
  await page.getByText('Protocol_Mode stored').waitFor();
  await page.getByText('Protocol_Mode 3 is stored: restart the system').waitFor({ timeout: 1000 }).catch(() => {});
  const before = meter.output().split('system restart').length;
  await page.click('#restart');  // confirms the dialog, waits for the meter, reloads
  await page.waitForFunction(() => document.querySelectorAll('#row-Read_Community').length === 1, null,
    { timeout: 30000 });
  assert.ok(meter.output().split('system restart').length > before, 'the meter restarted in process');
  assert.equal(await page.inputValue('#value-Modbus_Address'), String(modbusAddress));
  const names = await page.locator('#parameters tbody th').allInnerTexts();
  assert.deepEqual(names, ['Operating_Mode', 'Protocol_Mode', 'Upstream_Baud', 'Modbus_Address', 'Modbus_Parity',
    'Read_Community', 'Write_Community', 'Trap_Community', 'SNMP_Notif_IP']);
  const profiles = await page.locator('#profiles tbody tr').allInnerTexts();
  assert.equal(profiles.length, 2);
  assert.match(profiles[0], /7\s+Schneider Electric BCPME SNMP/);
  // Discovery mode: the profile removed before the restart is back, with its Remove button.
  await page.locator('#remove-2').waitFor();
  assert.match(profiles[1], /8\s+Schneider Electric BCPME SNMP\s+SNMP rows of panel 2/);
  await shot('configuration-snmp-mode');
});

test('a load set on the simulation page shows up in the panel view and over Modbus', async () => {
  await page.goto(`${meter.https}/simulation`);
  await page.getByText('Source: panel simulator').waitFor();
  const want = { panel: 1, channel: 10, amps: 17.5 };
  await page.fill('#load-panel', String(want.panel));
  await page.fill('#load-channel', String(want.channel));
  await page.fill('#load-amps', String(want.amps));
  await page.click('#load-submit');
  await page.getByText(`Panel 1 channel 10 now draws 17.5 A.`).waitFor();
  await shot('simulation');
  for (const check of loadChecks) await check(want);
  await shot('panel');
});

test('a tripped breaker reads zero in the panel view', async () => {
  await page.goto(`${meter.https}/simulation`);
  await page.getByText('Source: panel simulator').waitFor();
  await page.fill('#trip-panel', '2');
  await page.fill('#trip-channel', '19');
  await page.click('#trip-submit');
  await page.getByText('Panel 2 channel 19 tripped.').waitFor();
  await page.goto(`${meter.https}/panel`);
  await page.waitForFunction(() => {
    const e = document.getElementById('p2-c19');
    return e && e.dataset.current !== undefined && Number(e.dataset.current) < 0.1;
  }, null, { timeout: 20000 });
});

test('charts draw with uPlot from the stream', async () => {
  await page.goto(`${meter.https}/charts`);
  await page.waitForFunction(() => document.querySelectorAll('.uplot canvas').length === 3);
  await page.waitForTimeout(4000);  // a few stream messages
  await shot('charts');
});

test('network settings, events and file transfer pages work', async () => {
  await page.goto(`${meter.https}/network`);
  await page.waitForFunction(() => document.getElementById('ip_address').value === '127.0.0.1');
  await shot('network');
  await page.goto(`${meter.https}/events`);
  // The breaker tripped above dropped below its low threshold: a recorded event.
  await page.locator('#events tbody tr', { hasText: 'channel 19' }).first().waitFor({ timeout: 20000 });
  await shot('events');
  await page.goto(`${meter.https}/diagnostics#file-transfer`);
  await page.setInputFiles('#file', { name: 'bdt.ini', mimeType: 'text/plain',
    buffer: Buffer.from('// Bdt.ini\n127.0.0.1,47808,255.255.255.255\n10.1.2.3,47808,255.255.255.0\n') });
  await page.click('#file-submit');
  await page.getByText('The file was updated successfully.').waitFor();
  await page.getByText('10.1.2.3,47808,255.255.255.0').waitFor();
  await page.setInputFiles('#file', { name: 'bdt.ini', mimeType: 'text/plain',
    buffer: Buffer.from('10.1.2.3, 47808,255.255.255.0\n') });
  await page.click('#file-submit');
  await page.getByText('spaces are not allowed').waitFor();
  await shot('diagnostics-file-transfer');
});

test('a bad certificate upload is refused with a clear message and the old certificate stays', async () => {
  await page.goto(`${meter.https}/security`);
  const fingerprint = page.locator('#cert tr', { hasText: 'SHA-256' }).locator('td');
  await fingerprint.waitFor();
  const before = await fingerprint.innerText();
  await page.check('#mode-own');
  await page.setInputFiles('#certificate', { name: 'cert.pem', mimeType: 'application/x-pem-file',
    buffer: Buffer.from('-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n') });
  await page.setInputFiles('#private_key', { name: 'key.pem', mimeType: 'application/x-pem-file',
    buffer: Buffer.from('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n') });
  await page.click('#save');
  await page.getByText('The certificate was not accepted: the SSL certificate is not a PEM X.509 certificate')
    .waitFor();
  await page.getByText('The previous certificate stays in use.').waitFor();
  await shot('security-bad-certificate');
  await page.reload();
  await fingerprint.waitFor();
  assert.equal(await fingerprint.innerText(), before);
  assert.equal(await page.isChecked('#mode-self'), true);
});
