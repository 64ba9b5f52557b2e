'use strict';
// The site page: every meter this process runs (GET /api/site), with its
// status and a link to its own GUI; refreshed every 5 s.
(async () => {
  await bcpm.init('/site');
  const tbody = document.querySelector('#meters tbody');
  const summary = document.getElementById('summary');
  const draw = (site) => {
    const latched = site.meters.reduce((n, m) => n + m.latched_events, 0);
    const kw = site.meters.reduce((n, m) => n + m.kw, 0);
    summary.textContent = `${site.meters.length} meters in this process` +
      (site.shards > 1 ? ` (shard ${site.shard} of ${site.shards}, ${site.count} meters in the site)` : '') +
      `; ${latched} latched events; ${bcpm.fmt(kw, 1)} kW`;
    tbody.replaceChildren(...site.meters.map((m) => bcpm.el('tr',
      { id: `meter-${m.index}`, class: m.index === site.self ? 'self' : null },
      bcpm.el('td', { class: 'num' }, m.index),
      bcpm.el('td', {}, bcpm.el('a', { href: m.web_url, 'aria-current': m.index === site.self ? 'page' : null },
        m.address), m.index === site.self ? ' (this meter)' : ''),
      bcpm.el('td', {}, m.serial_number),
      bcpm.el('td', {}, m.model),
      bcpm.el('td', {}, m.location),
      bcpm.el('td', {}, m.bacnet_devices.join(', ')),
      bcpm.el('td', { class: 'num' + (m.latched_events ? ' latched' : '') }, m.latched_events),
      bcpm.el('td', { class: 'num' }, bcpm.fmt(m.kw, 2)),
      bcpm.el('td', { class: 'num' }, bcpm.fmt(m.kwh, 1)),
      bcpm.el('td', {}, m.running ? 'running' : 'not running'))));
  };
  const load = async () => {
    try {
      draw(await bcpm.api('GET', '/api/site'));
      bcpm.message('');
    } catch (e) {
      bcpm.message(e.message, 'error');
    }
  };
  await load();
  setInterval(load, 5000);
})();
