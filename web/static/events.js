'use strict';
// The event history from /api/events/query: filtered by panel, channel (or
// L-L voltage) and level, a page at a time, newest first. New events while
// the newest page is shown bring it up to date.
(async () => {
  await bcpm.init('/events');
  const device = await bcpm.api('GET', '/api/device');
  const panel = document.getElementById('f-panel');
  const where = document.getElementById('f-where');
  const level = document.getElementById('f-level');
  const size = document.getElementById('f-size');
  for (let p = 1; p <= device.panels; ++p) panel.append(bcpm.el('option', { value: p }, `Panel ${p}`));
  for (let c = 1; c <= 46; ++c) {
    const name = c <= 42 ? `Channel ${c}` : c === 46 ? `Channel 46 (neutral)` : `Channel ${c} (main ${'ABC'[c - 43]})`;
    where.append(bcpm.el('option', { value: `channel=${c}` }, name));
  }
  for (const v of ['ab', 'bc', 'ca']) where.append(bcpm.el('option', { value: `voltage=${v}` }, `Voltage ${v.toUpperCase()}`));

  // The address carries the filter (?panel=1&channel=10&level=l), so a link can open it.
  const q = new URLSearchParams(location.search);
  if (q.get('panel')) panel.value = q.get('panel');
  if (q.get('channel')) where.value = `channel=${q.get('channel')}`;
  if (q.get('voltage')) where.value = `voltage=${q.get('voltage')}`;
  if (q.get('level')) level.value = q.get('level');

  const tbody = document.querySelector('#events tbody');
  let pages = [0];  // the `before` of each page seen, 0 = newest
  let next = null;
  const row = (e) => bcpm.el('tr', {},
    bcpm.el('td', {}, e.id),
    bcpm.el('td', {}, bcpm.when(e.recorded)),
    bcpm.el('td', {}, e.panel),
    bcpm.el('td', {}, e.voltage ? 'voltage ' + e.voltage.toUpperCase() : 'channel ' + e.channel),
    bcpm.el('td', {}, e.level), bcpm.el('td', {}, e.kind),
    bcpm.el('td', { class: 'num' }, `${bcpm.fmt(e.value, e.unit === 'V' ? 1 : 2)} ${e.unit}`),
    bcpm.el('td', { class: 'num' }, `${bcpm.fmt(e.threshold, e.unit === 'V' ? 1 : 2)} ${e.unit}`));
  const filter = () => {
    const f = new URLSearchParams();
    if (panel.value) f.set('panel', panel.value);
    if (where.value) { const [k, v] = where.value.split('='); f.set(k, v); }
    if (level.value) f.set('level', level.value);
    return f;
  };
  const load = async () => {
    const f = filter();
    f.set('limit', size.value);
    const before = pages[pages.length - 1];
    if (before) f.set('before', before);
    const data = await bcpm.api('GET', '/api/events/query?' + f.toString());
    tbody.textContent = '';
    for (const e of data.events) tbody.append(row(e));
    next = data.next_before;
    const from = (pages.length - 1) * Number(size.value);
    document.getElementById('count').textContent = data.total
      ? `${data.total} event${data.total === 1 ? '' : 's'} match; showing ${from + 1} to ${from + data.events.length}.`
      : 'No events match.';
    document.getElementById('page').textContent = `Page ${pages.length}`;
    document.getElementById('older').disabled = next === null;
    document.getElementById('newer').disabled = pages.length === 1;
    document.getElementById('newest').disabled = pages.length === 1;
  };
  const run = () => load().catch((e) => bcpm.message(e.message, 'error'));
  document.getElementById('filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    pages = [0];
    const f = filter();
    history.replaceState(null, '', f.toString() ? '?' + f.toString() : location.pathname);
    run();
  });
  document.getElementById('older').addEventListener('click', () => { if (next !== null) { pages.push(next); run(); } });
  document.getElementById('newer').addEventListener('click', () => { if (pages.length > 1) { pages.pop(); run(); } });
  document.getElementById('newest').addEventListener('click', () => { pages = [0]; run(); });
  await load();
  // Events are recorded a moment after they happen: refresh the newest page shortly after each.
  let pending = null;
  bcpm.stream({ onEvent: () => {
    if (pages.length !== 1 || pending) return;
    pending = setTimeout(() => { pending = null; run(); }, 1500);
  } });
})();
