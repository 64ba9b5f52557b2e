// Trends (docs/trends.md): the meter keeps history (windows of the last hour
// in memory, minute rows in <state-dir>/trends.sqlite), the charts open
// filled with it, zoom, and export the visible range as CSV; the API refuses
// bad queries; minutes already written survive a kill -9. The simulator runs
// at 30x real time (POST /api/sim/speed), so minutes pass in seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startMeter, launchBrowser, pageApi, removeScreenshots, screenshotDir } from './meter.mjs';

let meter;
let browser;
let page;
const pageErrors = [];
const password = 'Trends#History-15';
const speed = 30;

const api = (method, url, body) => pageApi(page, method, url, body);

async function login(first) {
  await page.goto(`${meter.https}/`);
  if (!first && !page.url().includes('/login')) return;  // the session outlived the process
  await page.goto(`${meter.https}/login`);
  await page.fill('#password', first ? meter.initialPassword() : password);
  await page.click('#login-button');
  if (first) {
    await page.waitForURL(`${meter.https}/security`);
    await page.check('#mode-self');
    await page.click('#save');
  }
  await page.waitForURL(`${meter.https}/`);
}

// Waits until the trends file holds minutes up to at least `minutes` after the first one.
async function waitForMinutes(minutes, timeout = 60000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const info = (await api('GET', '/api/trends')).body;
    if (info.storage.oldest && info.storage.newest - info.storage.oldest >= minutes * 60) return info;
    if (Date.now() > deadline) throw new Error('no minutes stored: ' + JSON.stringify(info.storage));
    await page.waitForTimeout(500);
  }
}

before(async () => {
  meter = await startMeter();
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => { pageErrors.push(e.message); console.log('page error:', e.message); });
  await login(true);
  const r = await api('POST', '/api/password', { current: meter.initialPassword(), password, confirm: password });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const s = await api('POST', '/api/sim/speed', { speed });
  assert.equal(s.status, 200, JSON.stringify(s.body));
});

after(async () => {
  if (browser) await browser.close();
  if (meter) await meter.stop();
  removeScreenshots();
});

test('the API lists the series and serves windows with min/avg/max, as JSON and CSV', async () => {
  await waitForMinutes(2);
  const info = (await api('GET', '/api/trends')).body;
  const keys = info.series.map((s) => s.key);
  for (const k of ['p1.ch1.current', 'p1.ch1.kw', 'p1.kw', 'p1.kwh', 'p1.pf', 'p2.kw', 'v.an', 'v.ab', 'frequency'])
    assert.ok(keys.includes(k), k);
  assert.equal(info.memory.capacity, 18000);
  assert.ok(info.memory.windows > 40, JSON.stringify(info.memory));
  assert.equal(info.storage.ok, true);
  // The last two minutes: windows from memory (at 30x the loop's 50 ms poll takes
  // one window in several; at real time every one).
  const q = (await api('GET', `/api/trends?series=p1.kw,v.an&from=${info.now - 120}&to=${info.now}&points=20000`)).body;
  assert.deepEqual(q.series.map((s) => [s.key, s.unit]), [['p1.kw', 'kW'], ['v.an', 'V']]);
  assert.ok(q.t.length > 40, `${q.t.length} points`);
  assert.equal(q.from_memory, q.t.length);
  assert.ok(q.t[0] >= info.now - 120 && q.t.at(-1) <= info.now);
  assert.ok(q.series[1].avg.every((v) => v > 100 && v < 140), 'V A-N about 120 V');
  // Merged to 10 points.
  const m = (await api('GET', `/api/trends?panel=1&quantity=kw&from=${info.now - 120}&to=${info.now}&points=10`)).body;
  assert.equal(m.t.length, 10);
  assert.equal(m.series[0].key, 'p1.kw');
  assert.ok(m.series[0].min.every((v, i) => v <= m.series[0].avg[i] && m.series[0].avg[i] <= m.series[0].max[i]));
  // CSV of a range.
  const csv = await api('GET', `/api/trends?series=p1.ch1.current&from=${info.now - 60}&to=${info.now}&format=csv`);
  assert.equal(csv.status, 200);
  assert.match(csv.type, /^text\/csv/);
  const lines = csv.body.trim().split('\r\n');
  assert.equal(lines[0], 'time,unix,windows,p1.ch1.current,p1.ch1.current.min,p1.ch1.current.max');
  assert.ok(lines.length > 20, `${lines.length} lines`);
  for (const l of lines.slice(1)) {
    const f = l.split(',');
    assert.match(f[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Number(f[1]) >= info.now - 60.001 && Number(f[1]) <= info.now + 0.001, l);
  }
});

test('bad trend queries are refused with 400 and say why', async () => {
  const bad = [
    ['series=p9.kw', /unknown series 'p9.kw'/],
    ['series=p1.kw&from=10&to=5', /from must not be after to/],
    ['series=p1.kw&from=abc', /from is Unix seconds/],
    ['series=p1.kw&points=0', /points must be 1 to 20000/],
    ['series=p1.kw&format=xml', /format is json or csv/],
    ['series=' + Array.from({ length: 17 }, (_, i) => `p1.ch${i + 1}.kw`).join(','), /at most 16 series/],
  ];
  for (const [query, why] of bad) {
    const r = await api('GET', '/api/trends?' + query);
    assert.equal(r.status, 400, query);
    assert.match(r.body.error, why, query);
  }
});

test('charts open filled with history, zoom, and export the visible range as CSV', async () => {
  await page.goto(`${meter.https}/charts`);
  // At open, before any stream message could add a point: minutes of history.
  await page.waitForFunction(() => window.bcpmCharts && window.bcpmCharts.power.d[0].length > 0, null, { timeout: 15000 });
  const first = await page.evaluate(() => {
    const d = window.bcpmCharts.power.d;
    return { points: d[0].length, span: d[0].at(-1) - d[0][0], series: d.length, total: d[1].filter((v) => v != null).length };
  });
  assert.ok(first.span > 120, `the chart opens with ${first.span} s of history`);
  assert.ok(first.points > 50 && first.total > 50, JSON.stringify(first));
  assert.equal(first.series, 6, 'time, panel total and four channels');
  // The charts with their history, wide and on a phone (docs/screenshots with OPENBCPM_SCREENSHOTS=1).
  await page.screenshot({ path: path.join(screenshotDir, 'charts-1400x900.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForFunction(() => document.querySelector('#chart-power .u-over').getBoundingClientRect().width < 390);
  const narrow = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: innerWidth }));
  assert.ok(narrow.scroll <= narrow.inner, `/charts at 390 px is ${narrow.scroll} px wide`);
  await page.screenshot({ path: path.join(screenshotDir, 'charts-390x844.png') });
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.waitForFunction(() => document.querySelector('#chart-power .u-over').getBoundingClientRect().width > 600);
  // 1 h: the range follows the button.
  await page.click('button.range[data-span="3600"]');
  await page.waitForFunction(() => {
    const s = window.bcpmCharts.power.plot.scales.x;
    return Math.abs(s.max - s.min - 3600) < 1;
  });
  assert.equal(await page.getAttribute('button.range[data-span="3600"]', 'aria-pressed'), 'true');
  // Drag across the power chart: zoomed in, no longer following live.
  const box = await page.locator('#chart-power .u-over').boundingBox();
  await page.mouse.move(box.x + box.width * 0.93, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.99, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => {
    const s = window.bcpmCharts.power.plot.scales.x;
    return s.max - s.min < 600;
  });
  assert.equal(await page.getAttribute('#live-button', 'aria-pressed'), 'false');
  const zoomed = await page.evaluate(() => window.bcpmCharts.power.plot.scales.x);
  // The wheel zooms out about the cursor.
  await page.mouse.move(box.x + box.width * 0.96, box.y + box.height / 2);
  await page.mouse.wheel(0, 200);
  await page.waitForFunction((w) => {
    const s = window.bcpmCharts.power.plot.scales.x;
    return s.max - s.min > w * 1.2;
  }, zoomed.max - zoomed.min);
  // Export: the link names the visible range once the charts have fetched it (a
  // refresh is asynchronous; one asked for while another runs follows it); its CSV
  // has the charts' series and rows within it.
  await page.waitForFunction(() => {
    const u = new URL(document.getElementById('export-csv').href, location.href);
    const s = window.bcpmCharts.power.plot.scales.x;
    return Math.abs(Number(u.searchParams.get('from')) - s.min) < 1 &&
      Math.abs(Number(u.searchParams.get('to')) - s.max) < 1;
  }, null, { timeout: 15000 });
  const href = await page.getAttribute('#export-csv', 'href');
  const url = new URL(href, meter.https);
  assert.equal(url.searchParams.get('format'), 'csv');
  const from = Number(url.searchParams.get('from'));
  const to = Number(url.searchParams.get('to'));
  const scale = await page.evaluate(() => window.bcpmCharts.power.plot.scales.x);
  assert.ok(Math.abs(from - scale.min) < 1 && Math.abs(to - scale.max) < 1, `${from}..${to} is the visible range`);
  const csv = await api('GET', href);
  const lines = csv.body.trim().split('\r\n');
  assert.ok(lines[0].startsWith('time,unix,windows,p1.ch1.current,'), lines[0]);
  assert.ok(lines[0].includes(',v.cn,v.cn.min,v.cn.max'), lines[0]);
  assert.ok(lines.length > 10, `${lines.length} lines`);
  for (const l of lines.slice(1)) {
    const t = Number(l.split(',')[1]);
    assert.ok(t >= from - 0.001 && t <= to + 0.001, `${t} within ${from}..${to}`);
  }
  // The 30 d button draws a month's range (its ticks are dates).
  await page.click('button.range[data-span="2592000"]');
  await page.waitForFunction(() => {
    const s = window.bcpmCharts.power.plot.scales.x;
    return Math.abs(s.max - s.min - 2592000) < 1 && window.bcpmCharts.power.plot.axes[0]._values?.every((v) => /^\d\d-\d\d \d\d:\d\d$/.test(v));
  });
  assert.deepEqual(pageErrors, []);
});

test('minutes already written survive a kill -9, and come back from SQLite with their values', async () => {
  const info = await waitForMinutes(3);
  // One whole stored minute, and what memory holds for it now (every window taken).
  const minute = info.storage.newest - 60;
  const before = (await api('GET', `/api/trends?series=p1.kw,v.an&from=${minute}&to=${minute + 59.999}&points=20000`)).body;
  assert.ok(before.t.length > 10, `${before.t.length} windows in the minute`);
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  const stored = info.storage;
  meter.child.kill('SIGKILL');
  await new Promise((r) => meter.child.once('exit', r));
  await meter.restart();
  await login(false);
  // The series are known from the first metering window after the start.
  let again;
  for (const end = Date.now() + 10000; ;) {
    again = (await api('GET', '/api/trends')).body;
    if (again.series?.some((s) => s.key === 'p1.kw')) break;
    assert.ok(Date.now() < end, `the series after the restart: ${JSON.stringify(again).slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(again.storage.oldest <= stored.oldest && again.storage.newest >= stored.newest,
    `${JSON.stringify(again.storage)} keeps ${JSON.stringify(stored)}`);
  // The ring starts afresh after the newest stored minute: the minute comes from SQLite.
  const after = (await api('GET', `/api/trends?series=p1.kw,v.an&from=${minute}&to=${minute}`)).body;
  assert.equal(after.from_minutes, 1);
  assert.equal(after.t[0], minute);
  assert.equal(after.windows[0], before.t.length, 'the windows behind the minute');
  for (const [i, tol] of [[0, 1e-3], [1, 1e-3]]) {
    const want = mean(before.series[i].avg);
    assert.ok(Math.abs(after.series[i].avg[0] - want) <= tol * Math.max(1, Math.abs(want)),
      `${before.series[i].key}: stored ${after.series[i].avg[0]}, windows averaged ${want}`);
    assert.equal(after.series[i].min[0], Math.min(...before.series[i].min));
    assert.equal(after.series[i].max[0], Math.max(...before.series[i].max));
  }
});
