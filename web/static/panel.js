'use strict';
// The panel drawn as it is wired: two strips side by side, rows from the top
// of the panel, each CT at its breaker position (from /api/layout, which maps
// strip positions to channels per the panel's strip configuration).
(async () => {
  await bcpm.init('/panel');
  const layout = await bcpm.api('GET', '/api/layout');
  const root = document.getElementById('panels');
  const cells = new Map();  // "panel-channel" -> element
  const levelNames = { 1: 'high-high', 2: 'high', 4: 'low', 8: 'low-low', 16: 'off' };

  // Multi-pole breakers: channels of one logical circuit share a colour band.
  const poles = new Map();
  for (const p of layout.panels) {
    for (const s of p.strips) {
      for (const r of s.rows) {
        if (r.logical_circuit) {
          const k = `${p.panel}-${r.logical_circuit}`;
          poles.set(k, (poles.get(k) || 0) + 1);
        }
      }
    }
  }
  const bands = ['#2e7d32', '#1565c0', '#6a1b9a', '#ef6c00', '#00838f', '#ad1457', '#4e342e', '#455a64'];

  const cell = (p, r) => {
    const spare = r.breaker_size === 0;
    const members = r.logical_circuit ? poles.get(`${p.panel}-${r.logical_circuit}`) || 0 : 0;
    const e = bcpm.el('div', {
      class: 'breaker' + (spare ? ' spare' : '') + (members > 1 ? ' multi-pole' : ''),
      id: `p${p.panel}-c${r.channel}`,
      'data-circuit': members > 1 ? r.logical_circuit : null,
      title: `Channel ${r.channel}: strip position ${r.position}, breaker ${r.breaker_size} A, CT ${r.ct_size} A` +
        (r.logical_circuit ? `, logical circuit ${r.logical_circuit}` : ''),
    },
    bcpm.el('span', { class: 'ch' }, r.channel),
    bcpm.el('span', { class: 'ph' }, r.phase),
    bcpm.el('span', { class: 'a', 'data-field': 'current' }, '-'),
    bcpm.el('span', { class: 'kw', 'data-field': 'kw' }, '-'));
    if (members > 1) e.style.setProperty('--band', bands[r.logical_circuit % bands.length]);
    cells.set(`${p.panel}-${r.channel}`, e);
    return e;
  };

  for (const p of layout.panels) {
    const [a, b] = p.strips;
    const grid = bcpm.el('div', { class: 'breakers', role: 'table', 'aria-label': `Panel ${p.panel} breakers` });
    grid.append(bcpm.el('div', { class: 'feed', role: 'columnheader' }, `Strip ${a.strip} (connector at the ${a.feed})`));
    grid.append(bcpm.el('div', { class: 'feed', role: 'columnheader' }, `Strip ${b.strip} (connector at the ${b.feed})`));
    for (let i = 0; i < p.strip_size; ++i) {
      grid.append(cell(p, a.rows[i]));
      grid.append(cell(p, b.rows[i]));
    }
    const mains = bcpm.el('div', { class: 'breakers mains', role: 'table', 'aria-label': `Panel ${p.panel} aux inputs` });
    for (const x of p.aux) mains.append(cell(p, { ...x, phase: x.name, position: 'aux', logical_circuit: 0 }));
    root.append(bcpm.el('section', { class: 'panel', id: `panel-${p.panel}` },
      bcpm.el('h2', {}, `Panel ${p.panel}: ${p.location}`),
      bcpm.el('div', { class: 'feed' }, `Configuration: ${p.configuration}, ${p.strip_size} CTs per strip`),
      grid, bcpm.el('h3', {}, 'Mains and neutral (aux inputs)'), mains));
  }

  bcpm.stream({
    onSnapshot: (s) => {
      for (const p of s.panels) {
        for (const c of p.channels) {
          const e = cells.get(`${p.panel}-${c.channel}`);
          if (!e) continue;
          e.querySelector('[data-field=current]').textContent = bcpm.fmt(c.current, 2) + ' A';
          e.querySelector('[data-field=kw]').textContent = bcpm.fmt(c.kw, 3) + ' kW';
          e.dataset.current = c.current;
          const st = c.event_status;
          e.classList.toggle('ev-off', (st & 0x10) !== 0);
          e.classList.toggle('ev-latched', (st & 0x0f) !== 0);
          e.classList.toggle('ev-active', (st & 0x300) !== 0);
          const active = Object.entries(levelNames).filter(([bit]) => st & bit).map(([, n]) => n);
          if (st & 0x100) active.push('non-latching high');
          if (st & 0x200) active.push('non-latching low');
          e.setAttribute('aria-label', `Channel ${c.channel}, ${bcpm.fmt(c.current, 2)} amps, ${bcpm.fmt(c.kw, 3)} kilowatts` +
            (active.length ? ', events: ' + active.join(', ') : ''));
        }
      }
    },
  });
})();
