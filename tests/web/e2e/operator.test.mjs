// End-to-end: the operator's GUI (issue 15) in headless Chromium against the
// embedded default: every page from 360 to 1920 px without horizontal scroll,
// the folding menu, the panel dashboard and a breaker's detail, a trip and a
// sag seen as badges and events, the simulator's state, events filtered and
// paged with units, System Restart from Diagnostics, no 404 (favicon), whole-
// second chart ticks, keyboard reach of every control and axe-core with no
// serious or critical violation. The steps run in order on one meter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { startMeter, launchBrowser, screenshotDir, removeScreenshots, root } from './meter.mjs';

// axe-core from tests/web/node_modules (npm ci in tests/web; scripts/install-deps.sh does).
let axeFile;
try {
  axeFile = createRequire(path.join(root, 'tests', 'web', 'package.json')).resolve('axe-core/axe.min.js');
} catch {
  throw new Error('axe-core is missing: run `npm ci` in tests/web (scripts/install-deps.sh does)');
}
const axeSource = fs.readFileSync(axeFile, 'utf8');

let meter;
let browser;
let page;
let started;                // when the meter started (ms)
const notFound = [];        // every 404 any page asked for
const pageErrors = [];      // uncaught errors in the pages' scripts
const password = 'Operator#Panel-15';
const pages = ['/', '/panel', '/settings', '/charts', '/events', '/simulation', '/diagnostics', '/network', '/security'];
const widths = [360, 390, 768, 1024, 1400, 1920];

async function shot(name) {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`) });
}

// The page is drawn once its script has put the top bar in.
async function open(url) {
  await page.goto(`${meter.https}${url}`);
  await page.locator('header.top').waitFor();
}

async function noHorizontalScroll(what) {
  const r = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: innerWidth }));
  assert.ok(r.scroll <= r.inner, `${what}: the page is ${r.scroll} px wide in a ${r.inner} px window`);
}

async function axe(what) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${what}: axe-core found ${JSON.stringify(bad, null, 1)}`);
}

// Presses Tab until focus comes back round; returns what got focus.
async function tabThrough(limit) {
  await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
  const seen = new Set();
  for (let i = 0; i < limit; ++i) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return null;
      if (!e.dataset.tabSeen) e.dataset.tabSeen = String(Math.random());
      return e.dataset.tabSeen;
    });
    if (id === null) continue;
    if (seen.has(id)) break;
    seen.add(id);
  }
  return seen;
}

// Every visible control of the page can be reached with Tab.
async function keyboardReachesEverything(what, limit = 400) {
  await tabThrough(limit);
  const missed = await page.evaluate(() => {
    // With a modal dialog open only its controls count (the rest is inert).
    const scope = document.querySelector('dialog[open]') || document;
    const controls = scope.querySelectorAll('a[href], button, input, select, textarea, [tabindex="0"]');
    return [...controls].filter((e) => {
      if (e.disabled || e.closest('dialog:not([open])') || e.closest('[inert]')) return false;
      const r = e.getBoundingClientRect();
      const style = getComputedStyle(e);
      if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') return false;
      if (e.type === 'radio' && !e.checked && document.querySelector(`input[type=radio][name="${e.name}"]:checked`)) return false;
      return !e.dataset.tabSeen;
    }).map((e) => e.id || e.outerHTML.slice(0, 80));
  });
  assert.deepEqual(missed, [], `${what}: not reachable with Tab`);
}

async function api(method, url, body) {
  return page.evaluate(async ({ method, url, body }) => {
    const s = await (await fetch('/api/session')).json();
    const r = await fetch(url, { method, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf },
      body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, body: await r.json() };
  }, { method, url, body });
}

before(async () => {
  meter = await startMeter();
  started = Date.now();
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('dialog', (d) => d.accept());
  page.on('pageerror', (e) => { pageErrors.push(e.message); console.log('page error:', e.message); });
  // Pages and their files; the API answers 404 for what is not there (no bdt.ini yet).
  page.on('response', (r) => {
    if (r.status() === 404 && !new URL(r.url()).pathname.startsWith('/api/')) notFound.push(r.url());
  });
});

after(async () => {
  if (browser) await browser.close();
  if (meter) await meter.stop();
  removeScreenshots();
});

test('before a mode is chosen: unconfigured and login pages fit every width and pass axe-core', async () => {
  for (const w of widths) {
    await page.setViewportSize({ width: w, height: 900 });
    await page.goto(`${meter.http}/unconfigured`);
    await page.getByRole('heading', { name: 'Web Server Security Unconfigured' }).waitFor();
    await noHorizontalScroll(`/unconfigured at ${w} px`);
    await page.goto(`${meter.http}/login`);
    await page.locator('#login-button').waitFor();
    await noHorizontalScroll(`/login at ${w} px`);
  }
  await axe('/login');
  await page.goto(`${meter.http}/unconfigured`);
  await axe('/unconfigured');
});

test('log in, choose self-signed HTTPS; the security page offers no links that bounce', async () => {
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(`${meter.https}/login`);
  await page.fill('#password', meter.initialPassword());
  await page.click('#login-button');
  await page.waitForURL(`${meter.https}/security`);
  const links = await page.locator('#main-menu a').allInnerTexts();
  assert.deepEqual(links, ['Web Server Security'], 'before a mode is chosen the menu has only the mode choice');
  await axe('/security (unconfigured)');
  await page.check('#mode-self');
  await page.click('#save');
  await page.waitForURL(`${meter.https}/`);
  const r = await api('POST', '/api/password', { current: meter.initialPassword(), password, confirm: password });
  assert.equal(r.status, 200, JSON.stringify(r.body));
});

test('every page fits from 360 to 1920 px; the menu folds below 900 px', async () => {
  for (const w of widths) {
    await page.setViewportSize({ width: w, height: 900 });
    for (const url of pages) {
      await open(url);
      if (url === '/panel') await page.locator('#p1-c1').waitFor();
      await noHorizontalScroll(`${url} at ${w} px`);
      const folded = !(await page.locator('#main-menu a').first().isVisible());
      assert.equal(folded, w < 900, `${url} at ${w} px: the menu is ${folded ? '' : 'not '}folded`);
    }
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await open('/panel');
  await page.click('#menu-toggle');
  assert.equal(await page.getAttribute('#menu-toggle', 'aria-expanded'), 'true');
  await page.getByRole('link', { name: 'Events' }).waitFor();
  await noHorizontalScroll('/panel with the menu open');
  await axe('/panel at 390 px, menu open');  // colour contrast of the open menu included
  await shot('menu-390x844');
  await page.click('#menu-toggle');
  assert.equal(await page.locator('#main-menu a').first().isVisible(), false);
});

test('the embedded default starts clean: no event active 30 s after start', async () => {
  const wait = started + 31000 - Date.now();
  if (wait > 0) await page.waitForTimeout(wait);
  const s = await page.evaluate(async () => (await fetch('/api/snapshot')).json());
  const active = [];
  for (const p of s.panels) {
    for (const c of p.channels) if (c.event_status) active.push(`panel ${p.panel} channel ${c.channel}: 0x${c.event_status.toString(16)}`);
    p.events.voltage_status.forEach((v, i) => { if (v) active.push(`panel ${p.panel} voltage ${i}: 0x${v.toString(16)}`); });
  }
  assert.deepEqual(active, []);
});

test('the panel view reflows its strips into one column on a phone, side by side on a wide screen', async () => {
  const strips = async () => page.evaluate(() => [...document.querySelectorAll('#panel-1 .strip')].map((e) => {
    const r = e.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, left: r.left };
  }));
  await page.setViewportSize({ width: 390, height: 844 });
  await open('/panel');
  await page.locator('#p1-c1').waitFor();
  let [a, b] = await strips();
  assert.ok(b.top >= a.bottom - 1, `390 px: strip B (${b.top}) is under strip A (${a.bottom})`);
  await page.waitForFunction(() => (document.getElementById('p1-freq')?.textContent ?? '').includes('Hz'));
  await shot('panel-390x844');
  await page.setViewportSize({ width: 768, height: 1024 });
  await shot('panel-768x1024');
  await page.setViewportSize({ width: 1400, height: 900 });
  [a, b] = await strips();
  assert.ok(Math.abs(a.top - b.top) < 2 && b.left > a.left, '1400 px: the strips are side by side');
  await shot('panel-1400x900');
});

test('the panel view is a dashboard: voltages, frequency, totals, demand, power factor', async () => {
  await page.setViewportSize({ width: 1400, height: 900 });
  await open('/panel');
  await page.waitForFunction(() => (document.getElementById('p2-freq')?.textContent ?? '').includes('Hz'));
  const text = async (id) => page.locator(`#${id}`).innerText();
  for (const p of [1, 2]) {
    assert.match(await text(`p${p}-vln`), /^1[12]\d\.\d \/ 1[12]\d\.\d \/ 1[12]\d\.\d V$/);
    assert.match(await text(`p${p}-vll`), /^20\d\.\d \/ 20\d\.\d \/ 20\d\.\d V$/);
    assert.match(await text(`p${p}-freq`), /^60\.0\d Hz$/);
    assert.match(await text(`p${p}-kw`), /^\d+\.\d\d kW$/);
    assert.match(await text(`p${p}-kwh`), /^\d+\.\d kWh$/);
    assert.match(await text(`p${p}-demand`), /^\d+\.\d\d kW$/);
    assert.match(await text(`p${p}-maxdemand`), /^\d+\.\d\d kW$/);
    assert.match(await text(`p${p}-pf`), /^0\.\d{3}$/);
    assert.match(await text(`p${p}-vstatus`), /none/);
  }
  await axe('/panel');
});

test('a tripped breaker shows NL↓, then L and LL as badges; its detail has every value', async () => {
  await open('/simulation');
  await page.getByText('Source: panel simulator').waitFor();
  await page.fill('#trip-panel', '1');
  await page.fill('#trip-channel', '20');
  await page.click('#trip-submit');
  await page.getByText('Panel 1 channel 20 tripped.').waitFor();
  await open('/panel');
  const cell = page.locator('#p1-c20');
  await cell.locator('.badge', { hasText: 'NL↓' }).waitFor({ timeout: 10000 });
  await cell.locator('.badge', { hasText: /^LL$/ }).waitFor({ timeout: 25000 });  // Low-Low after its 10 s delay
  assert.match(await cell.locator('.sr').textContent(), /low-low latched/, 'the badges in words for screen readers');
  assert.match(await cell.getAttribute('class'), /ev-latched/);

  // Keyboard: focus the breaker, Enter opens its detail, Escape closes it and focus comes back.
  await cell.focus();
  await page.keyboard.press('Enter');
  const dialog = page.locator('#detail');
  await dialog.waitFor();
  assert.equal(await page.locator('#detail-title').innerText(), 'Panel 1, channel 20');
  const values = await page.locator('#detail-values').innerText();
  // The point catalogue's names (GET /api/quantities), each with its unit.
  for (const [label, unit] of [['Current', 'A'], ['Current phase angle', '\u00b0'], ['Real power', 'kW'],
    ['Apparent power', 'kVA'], ['Power factor', ''], ['Energy', 'kWh'], ['Energy snapshot', 'kWh'],
    ['Current demand', 'A'], ['Real power demand', 'kW'], ['Max current', 'A'], ['Max real power', 'kW'],
    ['Max current demand', 'A'], ['Max real power demand', 'kW']]) {
    const num = unit === '\u00b0' ? '-?\\d+\\.\\d\u00b0' : `-?\\d+\\.\\d+${unit ? ' ' + unit : ''}`;
    assert.match(values, new RegExp(`^${label}\\s+${num}$`, 'm'), `the detail shows ${label} in ${unit || 'no unit'}`);
  }
  assert.match(values, /^Event status \(register\)\s+0x[0-9a-f]{4}$/m);
  const thresholds = await page.locator('#detail-thresholds').innerText();
  assert.match(thresholds, /Low-Low\s+2\.5 % = 0\.50 A for 10 s/);
  assert.match(thresholds, /High-High\s+70\.0 % = 14\.00 A for 10 s/);
  assert.match(await page.locator('#detail-circuit').innerText(), /Logical circuit 20: channels 20/);
  await page.locator('#detail-events tbody tr', { hasText: 'low-low' }).first().waitFor();
  assert.match(await page.locator('#detail-events tbody').innerText(), /0\.00 A\s+0\.50 A/);
  assert.match(await page.locator('#detail-status').innerText(), /LL/);
  await axe('/panel with a breaker detail open');
  await keyboardReachesEverything('the breaker detail', 80);
  await page.setViewportSize({ width: 390, height: 844 });
  await noHorizontalScroll('the breaker detail at 390 px');
  await shot('channel-detail-390x844');
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.getElementById('detail').open);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'p1-c20');
});

test('the detail edits breaker and CT size and the panel thresholds through POST /api/settings', async () => {
  await open('/panel#p1-c21');
  await page.locator('#detail[open]').waitFor();
  await page.fill('#edit-breaker', '30');
  await page.fill('#edit-ct', '50');
  await page.click('#edit-sizes-submit');
  await page.locator('#detail-msg:not(:empty)').waitFor();
  assert.equal(await page.locator('#detail-msg').innerText(), 'Channel 21: breaker 30 A, CT 50 A stored.');
  const s = await page.evaluate(async () => (await fetch('/api/settings?prefix=panel.1.')).json());
  const value = (k) => s.settings.find((x) => x.key === k).value;
  assert.equal(value('panel.1.breaker_size.21'), 30);
  assert.equal(value('panel.1.ct_size.21'), 50);
  assert.match(await page.locator('#detail-where').innerText(), /breaker 30 A, CT 50 A/);
  // A value the settings table refuses comes back with its message and changes nothing.
  await page.fill('#edit-hh_threshold', '1001');
  await page.click('#edit-thresholds-submit');
  await page.locator('#detail-msg.error').waitFor();
  assert.match(await page.locator('#detail-msg').innerText(), /hh_threshold/);
  await page.fill('#edit-hh_threshold', '700');
  await page.keyboard.press('Escape');
});

test('a sag set on the simulation page raises an under-voltage event within its delay', async () => {
  await open('/simulation');
  await page.getByText('Source: panel simulator').waitFor();
  await page.selectOption('#v-phases', 'ABC');
  await page.fill('#v-mag', '0.8');
  await page.fill('#v-seconds', '15');
  await page.click('#voltage-submit');
  await page.getByText('Phases ABC at 0.8 x nominal.').waitFor();
  // The simulator's own state (GET /api/sim, read from it) as the page shows it.
  await page.locator('#state-sag', { hasText: /^sag of phases ABC to 0\.8 x nominal, until \d\d:\d\d:\d\d \(1[0-5] s left\)$/ }).waitFor();
  assert.match(await page.locator('#state-trips').innerText(), /panel 1 channel 20/);
  const sim = (await api('GET', '/api/sim')).body.state;
  assert.deepEqual(sim.voltage.map((v) => [v.phase, v.kind, v.magnitude]), [['A', 'sag', 0.8], ['B', 'sag', 0.8], ['C', 'sag', 0.8]]);
  assert.ok(sim.voltage[0].until > Date.now() / 1000 + 5 && sim.voltage[0].until < Date.now() / 1000 + 16, 'the sag ends 15 s after it began');
  assert.deepEqual(sim.trips, [{ panel: 1, channel: 20 }]);
  await page.waitForFunction(() => /A 9\d\.\d V/.test((document.getElementById('state-voltage')?.textContent ?? '')));
  await axe('/simulation');
  await open('/panel');
  await page.locator('#p1-vstatus .badge', { hasText: 'UV↓' }).first().waitFor({ timeout: 5000 });
  await page.locator('#p1-vstatus .badge', { hasText: /UV$/ }).first().waitFor({ timeout: 15000 });  // latched after 10 s
  await open('/events?level=under');
  const latched = page.locator('#events tbody tr', { hasText: 'under-voltage (latching)' }).first();
  await latched.waitFor({ timeout: 10000 });
  const row = await latched.innerText();
  assert.match(row, /voltage (AB|BC|CA)/);
  assert.match(row, /1[5-7]\d\.\d V\s+191\.0 V/);
});

test('events: units, filter by panel, channel and level, paging, no live placeholder rows', async () => {
  await page.setViewportSize({ width: 1400, height: 900 });
  await open('/events');
  await page.locator('#events tbody tr').first().waitFor();
  await page.selectOption('#f-panel', '1');
  await page.selectOption('#f-where', 'channel=20');
  await page.selectOption('#f-level', '');
  await page.click('#f-apply');
  await page.waitForFunction(() => [...document.querySelectorAll('#events tbody tr')].length > 0 &&
    [...document.querySelectorAll('#events tbody tr')].every((r) => r.cells[3].textContent === 'channel 20'));
  assert.match(page.url(), /\?panel=1&channel=20$/);
  const rows = await page.locator('#events tbody tr').allInnerTexts();
  for (const r of rows) assert.match(r, /\d A\s+\d+\.\d\d A$/, 'value and threshold in amps');
  await page.selectOption('#f-level', 'll');
  await page.click('#f-apply');
  await page.waitForFunction(() => [...document.querySelectorAll('#events tbody tr')].every((r) => r.cells[4].textContent === 'low-low'));

  // Paging over everything, 25 a page.
  await page.selectOption('#f-panel', '');
  await page.selectOption('#f-where', '');
  await page.selectOption('#f-level', '');
  await page.selectOption('#f-size', '25');
  // The sag's end adds events: wait for more than a page.
  let total = 0;
  for (let i = 0; i < 30 && total <= 25; ++i) {
    if (i) await page.waitForTimeout(1000);
    await page.click('#f-apply');
    await page.waitForFunction(() => /match|No events/.test((document.getElementById('count')?.textContent ?? '')) &&
      (document.getElementById('page')?.textContent ?? '') === 'Page 1');
    const m = (await page.locator('#count').innerText()).match(/^(\d+) events? match/);
    total = m ? Number(m[1]) : 0;
  }
  assert.ok(total > 25, `more than a page of events (${total})`);
  await page.waitForFunction(() => document.querySelectorAll('#events tbody tr').length === 25);
  const ids = async () => (await page.locator('#events tbody tr td:first-child').allInnerTexts()).map(Number);
  const first = await ids();
  assert.ok(first.every((x) => Number.isInteger(x) && x > 0), 'every row has its id (no "live" rows)');
  await page.click('#older');
  await page.waitForFunction(() => (document.getElementById('page')?.textContent ?? '') === 'Page 2');
  const second = await ids();
  assert.ok(Math.max(...second) < Math.min(...first), 'the older page holds older events');
  await page.click('#newer');
  await page.waitForFunction(() => (document.getElementById('page')?.textContent ?? '') === 'Page 1');
  assert.deepEqual((await ids()).slice(-5), first.slice(-5));
  await axe('/events');
  await page.setViewportSize({ width: 390, height: 844 });
  await noHorizontalScroll('/events at 390 px');
  await shot('events-390x844');
  await page.setViewportSize({ width: 1400, height: 900 });
});

test('GET /api/events/query refuses a filter out of range with 400 and says why', async () => {
  const get = (q) => page.evaluate(async (q) => {
    const r = await fetch('/api/events/query?' + q);
    return { status: r.status, body: await r.json() };
  }, q);
  for (const [q, why] of [['limit=0', /limit must be 1 to 500/], ['limit=501', /limit must be 1 to 500/],
    ['panel=0', /panel must be 1 to 2/], ['panel=3', /panel must be 1 to 2/], ['channel=0', /channel must be 1 to 46/],
    ['channel=47', /channel must be 1 to 46/], ['voltage=an', /voltage must be ab, bc or ca/],
    ['channel=1&voltage=ab', /not both/], ['level=x', /level must be/], ['before=0', /before must be/],
    ['before=-1', /before must be/], ['limit=1e3', /limit must be/]]) {
    const r = await get(q);
    assert.equal(r.status, 400, q);
    assert.match(r.body.error, why, q);
  }
  const all = await get('limit=500');
  assert.equal(all.status, 200);
  assert.ok(all.body.events.length <= 500 && all.body.total >= all.body.events.length);
  const one = await get('limit=1');
  assert.equal(one.body.events.length, 1);
  assert.equal(one.body.next_before, one.body.events[0].id, 'the next page starts below the last row');
  const rest = await get(`limit=500&before=${one.body.next_before}`);
  assert.equal(rest.body.events.length, Math.min(500, one.body.total - 1));
  assert.ok(rest.body.events.every((e) => e.id < one.body.next_before));
});

test('charts tick in whole seconds', async () => {
  await open('/charts');
  await page.waitForFunction(() => window.bcpmCharts && window.bcpmCharts.current.d[0].length >= 4, null, { timeout: 15000 });
  const labels = await page.evaluate(() => window.bcpmCharts.current.plot.axes[0]._values);
  assert.ok(Array.isArray(labels) && labels.length > 0, 'the time axis has labels');
  for (const l of labels) assert.match(l, /^\d\d:\d\d:\d\d$/);
  await axe('/charts');
});

test('keyboard reaches every control and axe-core passes on every page', async () => {
  await page.setViewportSize({ width: 1400, height: 900 });
  for (const url of pages) {
    await open(url);
    if (url === '/panel') await page.locator('#p1-c1').waitFor();
    if (url === '/diagnostics') {
      for (const section of ['file-transfer', 'user-management', 'audit-log', 'storage', 'help']) {
        await open(`/diagnostics#${section}`);
        await axe(`/diagnostics#${section}`);
        await keyboardReachesEverything(`/diagnostics#${section}`);
      }
      continue;
    }
    await axe(url);
    await keyboardReachesEverything(url, 400);
  }
});

test('the simulation page: loads set and kept, scenarios uploaded, stopped and refused', async () => {
  await page.setViewportSize({ width: 1400, height: 900 });
  await open('/simulation');
  // A load kept across restarts, and one that is not.
  for (const [channel, amps, keep] of [[5, 3.3, true], [7, 4.4, false]]) {
    await page.fill('#load-panel', '1');
    await page.fill('#load-channel', String(channel));
    await page.fill('#load-amps', String(amps));
    await page.setChecked('#load-keep', keep);
    await page.click('#load-submit');
    await page.locator(`#load-1-${channel}`, { hasText: `${amps} A` }).waitFor();
  }
  assert.equal(await page.isChecked('#keep-1-5'), true);
  assert.equal(await page.isChecked('#keep-1-7'), false);
  // Kept afterwards from the table, and forgotten again.
  await page.setChecked('#keep-1-7', true);
  await page.getByText('Panel 1 channel 7 kept across restarts.').waitFor();
  assert.deepEqual((await api('GET', '/api/sim')).body.state.kept.map((k) => [k.channel, k.amps]), [[5, 3.3], [7, 4.4]]);
  await page.setChecked('#keep-1-7', false);
  await page.getByText('Panel 1 channel 7 no longer kept.').waitFor();
  assert.deepEqual((await api('GET', '/api/sim')).body.state.kept, [{ panel: 1, channel: 5, amps: 3.3, pf: null }]);

  // A bad scenario file: the parser's message, nothing changes.
  const upload = async (name, content) => {
    await page.setInputFiles('#scenario-file', { name, mimeType: 'text/plain', buffer: Buffer.from(content) });
    await page.click('#scenario-submit');
  };
  await upload('bad.toml', '[[simulation.event]]\nat = 5\naction = "explode"\n');
  await page.locator('#msg.error', { hasText: /bad\.toml.*simulation\.event\[0\]\.action.*must be set-load, trip/ }).waitFor();
  assert.equal((await api('GET', '/api/sim')).body.state.scenario, null);
  const big = await api('POST', '/api/sim/scenario', { name: 'big.toml', text: '#'.repeat(65537) });
  assert.equal(big.status, 413);
  assert.match(big.body.error, /at most 65536 bytes/);
  // A good one runs from now: its first event at once, the next in 600 s.
  await upload('two-steps.toml', '[[simulation.event]]\nat = 0\naction = "trip"\npanel = 2\nchannel = 9\n\n'
    + '[[simulation.event]]\nat = 600\naction = "restore"\npanel = 2\nchannel = 9\n');
  await page.locator('#state-scenario', { hasText: /^two-steps\.toml: running, 1 of 2 events done, \d+ s in; next at 600 s/ }).waitFor();
  await page.locator('#state-trips', { hasText: 'panel 2 channel 9' }).waitFor();
  await axe('/simulation with loads and a scenario');
  await keyboardReachesEverything('/simulation', 200);
  await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
  await shot('simulation-1400x900');
  await page.setViewportSize({ width: 390, height: 844 });
  await noHorizontalScroll('/simulation at 390 px');
  await shot('simulation-390x844');
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.click('#scenario-stop');
  await page.getByText('Scenario stopped.').waitFor();
  await page.locator('#state-scenario', { hasText: /^none$/ }).waitFor();
});

test('Diagnostics shows the trends storage', async () => {
  await open('/diagnostics#storage');
  await page.locator('#trends-file', { hasText: /^\d+\.\d\d MB of at most 128\.00 MB \(minutes older than 30 days are pruned\)$/ }).waitFor();
  assert.match(await page.locator('#trends-rows').innerText(), /^\d+ of at most \d{5,}$/);
  assert.match(await page.locator('#trends-memory').innerText(), /^\d+ of 18000 windows \(\d+\.\d\d MB\), since \d{4}-/);
  assert.equal(await page.locator('#trends-error').innerText(), 'none');
  const t = (await api('GET', '/api/trends')).body.storage;
  assert.ok(t.bytes > 0 && t.max_rows > 0 && t.ok, JSON.stringify(t));
});

test('Diagnostics has System Restart', async () => {
  await open('/diagnostics#help');
  const before = meter.output().split('system restart').length;
  // The button confirms (the dialog is accepted), waits for the meter to come back, reloads.
  await Promise.all([page.waitForEvent('load', { timeout: 30000 }), page.click('#restart')]);
  await page.locator('header.top').waitFor();
  await page.waitForFunction(() => document.getElementById('help')?.classList.contains('hidden') === false, null, { timeout: 30000 });
  for (let i = 0; i < 50 && meter.output().split('system restart').length === before; ++i) await page.waitForTimeout(100);
  assert.ok(meter.output().split('system restart').length > before, 'the meter restarted');
});

test('after System Restart and after kill -9 only the kept load is applied', async () => {
  const kept = async (what) => {
    await open('/simulation');
    await page.locator('#load-1-5', { hasText: '3.3 A' }).waitFor();
    assert.equal(await page.isChecked('#keep-1-5'), true, what);
    const st = (await api('GET', '/api/sim')).body.state;
    assert.deepEqual(st.loads.map((l) => [l.panel, l.channel, l.amps, l.kept]), [[1, 5, 3.3, true]], `${what}: channel 7 went, 5 stayed`);
    assert.deepEqual(st.trips, [], `${what}: trips are not kept`);
    // The channel reads it (the snapshot, the same the faces serve).
    let amps = 0;
    for (let i = 0; i < 50 && Math.abs(amps - 3.3) > 0.1; ++i) {
      const snap = (await api('GET', '/api/snapshot')).body;
      amps = snap.panels[0].channels.find((c) => c.channel === 5).current;
      if (Math.abs(amps - 3.3) > 0.1) await page.waitForTimeout(100);
    }
    assert.ok(Math.abs(amps - 3.3) < 0.1, `${what}: panel 1 channel 5 reads ${amps} A`);
  };
  await kept('after System Restart');
  meter.child.kill('SIGKILL');
  await new Promise((r) => meter.child.once('exit', r));
  await meter.restart();
  await page.goto(`${meter.https}/simulation`);
  if (new URL(page.url()).pathname === '/login') {  // the session went with the process
    await page.fill('#password', password);
    await Promise.all([page.waitForURL((u) => u.pathname !== '/login'), page.click('#login-button')]);
  }
  await kept('after kill -9');
});

test('no page asked for anything that is not there (favicon included)', async () => {
  const icon = await page.evaluate(async () => {
    const r = await fetch(document.querySelector('link[rel=icon]').href);
    return { status: r.status, type: r.headers.get('Content-Type') };
  });
  assert.deepEqual(icon, { status: 200, type: 'image/svg+xml' });
  assert.deepEqual(notFound, []);
  assert.deepEqual(pageErrors, [], 'no script error on any page');
});
