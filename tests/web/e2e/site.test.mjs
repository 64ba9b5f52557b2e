// End-to-end: the site page of a 3-meter fleet ([fleet] count = 3 on
// 127.0.3.1..3, one process) in headless Chromium: meter 0's menu has Site,
// the page lists the three meters with their addresses, serial numbers,
// model, BACnet devices and readings, and each link opens that meter's own
// GUI at its own address; GET /api/site and /metrics?scope=site agree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { startMeter, launchBrowser, root } from './meter.mjs';

const axeSource = fs.readFileSync(
  createRequire(path.join(root, 'tests', 'web', 'package.json')).resolve('axe-core/axe.min.js'), 'utf8');

const first = [127, 0, 3, 1];
const address = (k) => `127.0.3.${first[3] + k}`;
let meter;
let browser;
let page;
let origin;  // meter 0's GUI

before(async () => {
  meter = await startMeter({ extraConfig: `\n[fleet]\ncount = 3\nfirst_address = "${first.join('.')}"\n` });
  origin = `https://${address(0)}:${meter.port}`;
  browser = await launchBrowser();
  page = await browser.context.newPage();
});

after(async () => {
  await browser?.close();
  await meter?.stop();
});

test('meter 0 of the fleet: log in, choose self-signed HTTPS, the menu has Site', async () => {
  const password = fs.readFileSync(path.join(meter.stateDir, 'meters', '0000', 'initial-admin-password'), 'utf8').trim();
  await page.goto(`${origin}/login`);
  await page.fill('#password', password);
  await page.click('#login-button');
  await page.waitForURL(`${origin}/security`);
  await page.check('#mode-self');
  await page.click('#save');
  await page.waitForURL(`${origin}/`);
  await page.locator('header.top').waitFor();
  const links = await page.locator('#main-menu a').allInnerTexts();
  assert.ok(links.includes('Site'), `menu: ${links}`);
});

test('the site page lists all three meters with their status and working links', async () => {
  await page.click('#main-menu a[href="/site"]');
  await page.waitForURL(`${origin}/site`);
  await page.locator('#meters tbody tr').nth(2).waitFor();
  const rows = await page.locator('#meters tbody tr').count();
  assert.equal(rows, 3);
  const site = await page.evaluate(async () => (await fetch('/api/site')).json());
  assert.equal(site.count, 3);
  assert.equal(site.self, 0);
  for (let k = 0; k < 3; ++k) {
    const row = page.locator(`#meter-${k}`);
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[0], String(k));
    assert.ok(cells[1].startsWith(address(k)), cells[1]);
    assert.equal(cells[2], (0x4E3B73CB + k).toString(16).toUpperCase());
    assert.equal(cells[3], 'BCPME84');
    assert.equal(cells[9], 'running');
    const m = site.meters[k];
    assert.equal(m.address, address(k));
    assert.ok(m.kw > 0, `meter ${k} kW ${m.kw}`);
    assert.equal(m.web_url, `https://${address(k)}:${meter.port}/`);
    assert.equal(await row.locator('a').getAttribute('href'), m.web_url);
  }
  // Each link opens that meter's own GUI, served from its own address.
  for (const k of [1, 2]) {
    await page.goto(`${origin}/site`);
    await page.locator(`#meter-${k} a`).waitFor();
    await Promise.all([page.waitForURL((u) => u.host === `${address(k)}:${meter.port}`), page.click(`#meter-${k} a`)]);
    // Not configured yet: its own first-visit page, from its own server.
    await page.waitForURL(`https://${address(k)}:${meter.port}/unconfigured`);
    assert.match(await page.title(), /openbcpm/);
  }
});

test('the site page fits 360 to 1920 px and passes axe-core', async () => {
  for (const width of [360, 768, 1920]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${origin}/site`);
    await page.locator('#meter-2').waitFor();
    const r = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: innerWidth }));
    assert.ok(r.scroll <= r.inner, `/site at ${width} px: the page is ${r.scroll} px wide`);
  }
  await page.evaluate(axeSource);
  const bad = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] }))
    .violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id));
  assert.deepEqual(bad, []);
  await page.setViewportSize({ width: 1400, height: 900 });
});

test('the site metrics have every meter with a meter label', async () => {
  await page.goto(`${origin}/site`);
  const text = await page.evaluate(async () => (await fetch('/metrics?scope=site')).text());
  for (let k = 0; k < 3; ++k) {
    assert.match(text, new RegExp(`bcpm_meter_up\\{meter="${k}"\\} 1`));
    assert.match(text, new RegExp(`bcpm_channel_power_watts\\{meter="${k}",panel="1",channel="1"\\}`));
  }
  assert.equal(text.match(/^# TYPE bcpm_channel_power_watts /mg).length, 1);
});
