'use strict';
(async () => {
  await bcpm.init('/events');
  const tbody = document.querySelector('#events tbody');
  const row = (e) => bcpm.el('tr', {},
    bcpm.el('td', {}, e.id ?? 'live'),
    bcpm.el('td', {}, e.recorded ? new Date(e.recorded * 1000).toISOString().replace('.000', '') : new Date().toISOString().slice(0, 19) + 'Z'),
    bcpm.el('td', {}, e.panel),
    bcpm.el('td', {}, e.voltage ? 'voltage ' + e.voltage.toUpperCase() : 'channel ' + e.channel),
    bcpm.el('td', {}, e.level), bcpm.el('td', {}, e.kind),
    bcpm.el('td', { class: 'num' }, bcpm.fmt(e.value, 3)), bcpm.el('td', { class: 'num' }, bcpm.fmt(e.threshold, 3)));
  const data = await bcpm.api('GET', '/api/events?limit=500');
  for (const e of data.events) tbody.append(row(e));
  if (!data.events.length) bcpm.message('No events recorded yet.', 'info');
  bcpm.stream({ onEvent: (e) => { bcpm.message('', 'info'); tbody.prepend(row(e)); } });
})();
