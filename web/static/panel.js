'use strict';
// The panel drawn as it is wired: a summary of the panel (voltages, frequency,
// totals, demand), then its two strips, rows from the top of the panel, each CT
// at its breaker position (from /api/layout, which maps strip positions to
// channels per the panel's strip configuration). Side by side on a wide screen,
// one under the other on a narrow one. A breaker opens its detail.
(async () => {
  await bcpm.init('/panel');
  let layout = await bcpm.api('GET', '/api/layout');
  const settings = new Map();  // "panel.1.hh_threshold" -> value
  const loadSettings = async () => {
    const s = await bcpm.api('GET', '/api/settings?prefix=panel.');
    for (const x of s.settings) settings.set(x.key, x.value);
  };
  await loadSettings();
  // What each key of the snapshot is, its label, unit and digits: the point catalogue's.
  const quantities = await bcpm.api('GET', '/api/quantities');
  const byKey = (list) => new Map(list.map((q) => [q.key, q]));
  const chQ = byKey(quantities.channel);
  const mainsQ = byKey(quantities.circuit);  // the mains carry what a circuit does
  const voltQ = byKey(quantities.voltage);
  // A value with its quantity's unit ("12.50 A", "30.0°"); `digits` overrides the unit's.
  const show = (q, v, digits) => {
    const t = bcpm.fmt(v, digits ?? q.decimals);
    if (!q.unit) return t;
    return q.unit === '\u00b0' ? t + q.unit : `${t} ${q.unit}`;
  };
  const three = (q, a, b, c) => `${bcpm.fmt(a, q.decimals)} / ${bcpm.fmt(b, q.decimals)} / ${show(q, c)}`;
  const root = document.getElementById('panels');
  const cells = new Map();    // "panel-channel" -> element
  const rows = new Map();     // "panel-channel" -> layout row
  const summary = new Map();  // "panel-field" -> element
  let last = null;            // the newest snapshot
  const fmt = bcpm.fmt;

  // Multi-pole breakers: channels of one logical circuit share a colour band.
  const poles = new Map();
  const countPoles = () => {
    poles.clear();
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
  };
  countPoles();
  const bands = ['#2e7d32', '#1565c0', '#6a1b9a', '#ef6c00', '#00838f', '#ad1457', '#4e342e', '#455a64'];

  const describe = (r) => `Channel ${r.channel}: strip position ${r.position}, breaker ${r.breaker_size} A, ` +
    `CT ${r.ct_size} A` + (r.logical_circuit ? `, logical circuit ${r.logical_circuit}` : '');
  const cell = (p, r) => {
    const key = `${p.panel}-${r.channel}`;
    rows.set(key, { ...r, panel: p.panel });
    const e = bcpm.el('button', { type: 'button', class: 'breaker', id: `p${p.panel}-c${r.channel}`,
      title: describe(r), onclick: () => openDetail(p.panel, r.channel) },
    bcpm.el('span', { class: 'ch' }, r.channel),
    bcpm.el('span', { class: 'ph' }, r.phase),
    bcpm.el('span', { class: 'a', 'data-field': 'current' }, '-'),
    bcpm.el('span', { class: 'kw', 'data-field': 'kw' }, '-'),
    bcpm.el('span', { class: 'badges', 'data-field': 'badges' }),
    bcpm.el('span', { class: 'sr', 'data-field': 'events' }, ''));
    styleCell(e, p.panel, r);
    cells.set(key, e);
    return e;
  };
  function styleCell(e, panel, r) {
    const members = r.logical_circuit ? poles.get(`${panel}-${r.logical_circuit}`) || 0 : 0;
    e.classList.toggle('spare', r.breaker_size === 0);
    e.classList.toggle('multi-pole', members > 1 && r.position !== 'aux');
    if (members > 1) {
      e.dataset.circuit = r.logical_circuit;
      e.style.setProperty('--band', bands[r.logical_circuit % bands.length]);
    }
    e.title = describe(r);
  }

  const item = (panel, field, label) => {
    const dd = bcpm.el('dd', { id: `p${panel}-${field}` }, '-');
    summary.set(`${panel}-${field}`, dd);
    return bcpm.el('div', {}, bcpm.el('dt', {}, label), dd);
  };
  for (const p of layout.panels) {
    const strips = bcpm.el('div', { class: 'strips' });
    for (const s of p.strips) {
      const col = bcpm.el('div', { class: 'strip', role: 'group', 'aria-label': `Panel ${p.panel} strip ${s.strip}` },
        bcpm.el('div', { class: 'feed' }, `Strip ${s.strip} (connector at the ${s.feed})`));
      for (const r of s.rows) col.append(cell(p, r));
      strips.append(col);
    }
    const mains = bcpm.el('div', { class: 'mains', role: 'group', 'aria-label': `Panel ${p.panel} mains and neutral` });
    for (const x of p.aux) mains.append(cell(p, { ...x, phase: x.name === 'Neutral' ? 'N' : x.name.replace('Main ', ''), position: 'aux', logical_circuit: 0 }));
    const dl = bcpm.el('dl', { class: 'summary', 'aria-label': `Panel ${p.panel} summary` },
      item(p.panel, 'vln', 'V L-N (A / B / C)'), item(p.panel, 'vll', 'V L-L (AB / BC / CA)'),
      item(p.panel, 'freq', 'Frequency'), item(p.panel, 'kw', 'Total power'), item(p.panel, 'pf', 'Power factor'),
      item(p.panel, 'kwh', 'Energy'), item(p.panel, 'demand', 'Demand (present)'),
      item(p.panel, 'maxdemand', 'Demand (maximum)'), item(p.panel, 'current', 'Mains current (total)'),
      item(p.panel, 'vstatus', 'Voltage events'),
      item(p.panel, 'latched', 'Channels latched'), item(p.panel, 'nonlatched', 'Channels non-latching'),
      item(p.panel, 'recent', 'Most recent latch'), item(p.panel, 'recentnl', 'Most recent non-latching'));
    // Alarm handling: every latch of the panel, channels and L-L voltages (Global Reset 31010).
    const clearAll = bcpm.el('button', { type: 'button', class: 'secondary', id: `p${p.panel}-clear-all`,
      onclick: () => clearLatches({ panel: p.panel }, `p${p.panel}-alarm-msg`,
        `Panel ${p.panel}: every channel and voltage latch cleared.`) }, 'Clear all latches');
    const alarmMsg = bcpm.el('span', { id: `p${p.panel}-alarm-msg`, class: 'msg inline', role: 'status', 'aria-live': 'polite' });
    const alarms = bcpm.el('div', { class: 'alarm-bar' }, clearAll, alarmMsg);
    root.append(bcpm.el('section', { class: 'panel', id: `panel-${p.panel}`, 'aria-labelledby': `panel-${p.panel}-title` },
      bcpm.el('h2', { id: `panel-${p.panel}-title` }, `Panel ${p.panel}: ${p.location}`),
      bcpm.el('div', { class: 'feed' }, `Configuration: ${p.configuration}, ${p.strip_size} CTs per strip`),
      dl, alarms, strips, bcpm.el('h3', {}, 'Mains and neutral (aux inputs)'), mains));
  }

  const badgeEls = (list) => list.map(([t, cls, words]) => bcpm.el('b', { class: 'badge ' + cls, title: words }, t));
  const setSummary = (panel, field, ...content) => {
    const e = summary.get(`${panel}-${field}`);
    if (!e) return;
    e.textContent = '';
    e.append(...content);
  };

  const onSnapshot = (s) => {
    last = s;
    for (const p of s.panels) {
      const v = p.voltage;
      setSummary(p.panel, 'vln', three(voltQ.get('an'), v.an, v.bn, v.cn));
      setSummary(p.panel, 'vll', three(voltQ.get('ab'), v.ab, v.bc, v.ca));
      setSummary(p.panel, 'freq', show(voltQ.get('frequency'), v.frequency));
      setSummary(p.panel, 'kw', show(mainsQ.get('kw'), p.mains.kw, 2));
      setSummary(p.panel, 'pf', show(mainsQ.get('pf'), p.mains.pf));
      setSummary(p.panel, 'kwh', show(mainsQ.get('kwh'), p.mains.kwh, 1));
      setSummary(p.panel, 'demand', show(mainsQ.get('kw_demand'), p.mains.kw_demand, 2));
      setSummary(p.panel, 'maxdemand', show(mainsQ.get('max_kw_demand'), p.mains.max_kw_demand, 2));
      setSummary(p.panel, 'current', show(mainsQ.get('current'), p.mains.current, 1));
      const vs = p.events.voltage_status || [];
      const vb = [];
      ['AB', 'BC', 'CA'].forEach((name, i) => {
        for (const b of bcpm.voltageBadges(vs[i] || 0)) vb.push([`${name} ${b[0]}`, b[1], `${name} ${b[2]}`]);
      });
      setSummary(p.panel, 'vstatus', ...(vb.length ? badgeEls(vb) : [bcpm.el('b', { class: 'badge ok' }, 'none')]));
      const ev = p.events;
      setSummary(p.panel, 'latched', String(ev.channels_latched));
      setSummary(p.panel, 'nonlatched', String(ev.channels_non_latched));
      setSummary(p.panel, 'recent', ev.recent_latching_channel ? `ch ${ev.recent_latching_channel}` : 'none');
      setSummary(p.panel, 'recentnl', ev.recent_non_latching_channel ? `ch ${ev.recent_non_latching_channel}` : 'none');
      for (const c of p.channels) {
        const e = cells.get(`${p.panel}-${c.channel}`);
        if (!e) continue;
        e.querySelector('[data-field=current]').textContent = show(chQ.get('current'), c.current);
        e.querySelector('[data-field=kw]').textContent = show(chQ.get('kw'), c.kw);
        e.dataset.current = c.current;
        const st = c.event_status;
        if (e.dataset.status !== String(st)) {
          e.dataset.status = st;
          e.classList.toggle('ev-off', (st & 0x10) !== 0);
          e.classList.toggle('ev-latched', (st & 0x0f) !== 0);
          e.classList.toggle('ev-active', (st & 0x300) !== 0);
          const box = e.querySelector('[data-field=badges]');
          box.textContent = '';
          box.append(...badgeEls(bcpm.badges(st)));
          // The badges in words, for screen readers (the name is the button's text).
          const words = bcpm.badges(st).map((b) => b[2]);
          e.querySelector('[data-field=events]').textContent = words.length ? 'events: ' + words.join(', ') : 'no event';
        }
      }
    }
    if (open) drawDetail();
  };

  // --- The detail of one channel ---
  const dialog = document.getElementById('detail');
  let open = null;  // { panel, channel }
  const thresholdKeys = [
    ['hh_threshold', 'High-High threshold (0.1 %)'], ['hh_delay', 'High-High delay (s)'],
    ['h_threshold', 'High threshold (0.1 %)'], ['h_delay', 'High delay (s)'],
    ['l_threshold', 'Low threshold (0.1 %)'], ['l_delay', 'Low delay (s)'],
    ['ll_threshold', 'Low-Low threshold (0.1 %)'], ['ll_delay', 'Low-Low delay (s)'],
    ['on_time', 'ON time (s)'], ['off_time', 'OFF time (s)'],
    ['nl_high_threshold', 'Non-latching high (0.1 %)'], ['nl_low_threshold', 'Non-latching low (0.1 %)'],
    ['nl_hysteresis', 'Non-latching hysteresis (0.1 %)'],
    ['over_voltage_threshold', 'Over-voltage, L-L (0.1 V, 0 = off)'], ['over_voltage_timer', 'Over-voltage timer (s)'],
    ['under_voltage_threshold', 'Under-voltage, L-L (0.1 V, 0 = off)'], ['under_voltage_timer', 'Under-voltage timer (s)'],
    ['voltage_hysteresis', 'Voltage hysteresis (0.1 %)'],
  ];
  const fields = document.getElementById('threshold-fields');
  for (const [k, label] of thresholdKeys) {
    fields.append(bcpm.el('div', { class: 'form-row' }, bcpm.el('label', { for: 'edit-' + k }, label),
      // No min/max here: the settings table judges, with the same message as the other faces.
      bcpm.el('input', { type: 'number', id: 'edit-' + k, name: k, step: 1, required: true })));
  }
  const detailMsg = bcpm.el('div', { id: 'detail-msg', class: 'msg', role: 'status', 'aria-live': 'polite' });
  document.getElementById('detail-where').after(detailMsg);
  const say = (text, kind) => { detailMsg.className = 'msg ' + (kind || 'info'); detailMsg.textContent = text; };

  const rowsOf = (tbody, list) => {
    tbody.textContent = '';
    for (const [k, v] of list) tbody.append(bcpm.el('tr', {}, bcpm.el('th', { scope: 'row' }, k), bcpm.el('td', { class: 'num' }, v)));
  };
  const setting = (panel, key) => settings.get(`panel.${panel}.${key}`);

  function drawDetail() {
    const { panel, channel } = open;
    const r = rows.get(`${panel}-${channel}`);
    const p = last && last.panels.find((x) => x.panel === panel);
    const c = p && p.channels.find((x) => x.channel === channel);
    const aux = r.position === 'aux';
    document.getElementById('detail-title').textContent = `Panel ${panel}, channel ${channel}` + (aux ? ` (${r.name})` : '');
    document.getElementById('detail-where').textContent = aux ? `Aux input, CT ${r.ct_size} A, breaker ${r.breaker_size} A`
      : `Strip position ${r.position}, phase ${r.phase}, breaker ${r.breaker_size} A, CT ${r.ct_size} A` +
        (r.breaker_size === 0 ? ' (spare: no events)' : '');
    if (c) {
      // Every quantity of a channel, as the catalogue names it; the event status as its register.
      rowsOf(document.querySelector('#detail-values tbody'), quantities.channel.map((q) =>
        q.key === 'event_status' ? [`${q.label} (register)`, '0x' + c.event_status.toString(16).padStart(4, '0')]
          : [q.label, show(q, c[q.key])]));
      const status = document.getElementById('detail-status');
      status.textContent = '';
      const b = bcpm.badges(c.event_status);
      if (b.length) {
        for (const x of b) status.append(bcpm.el('b', { class: 'badge ' + x[1] }, x[0]), ' ', x[2], ' ');
      } else {
        status.append('no event');
      }
    }
    const breaker = r.breaker_size;
    const amps = (k) => breaker > 0 ? ` = ${fmt(breaker * setting(panel, k) / 1000, 2)} A` : '';
    rowsOf(document.querySelector('#detail-thresholds tbody'), [
      ['High-High', `${fmt(setting(panel, 'hh_threshold') / 10, 1)} %${amps('hh_threshold')} for ${setting(panel, 'hh_delay')} s`],
      ['High', `${fmt(setting(panel, 'h_threshold') / 10, 1)} %${amps('h_threshold')} for ${setting(panel, 'h_delay')} s`],
      ['Low', `${fmt(setting(panel, 'l_threshold') / 10, 1)} %${amps('l_threshold')} for ${setting(panel, 'l_delay')} s`],
      ['Low-Low', `${fmt(setting(panel, 'll_threshold') / 10, 1)} %${amps('ll_threshold')} for ${setting(panel, 'll_delay')} s`],
      ['ON after / OFF after', `${setting(panel, 'on_time')} s / ${setting(panel, 'off_time')} s`],
      ['Non-latching high', `${fmt(setting(panel, 'nl_high_threshold') / 10, 1)} %${amps('nl_high_threshold')}`],
      ['Non-latching low', `${fmt(setting(panel, 'nl_low_threshold') / 10, 1)} %${amps('nl_low_threshold')}`],
      ['Non-latching hysteresis', `${fmt(setting(panel, 'nl_hysteresis') / 10, 1)} %`],
    ]);
    const lc = aux ? (channel === 46 ? 0 : 43) : r.logical_circuit;
    const circuit = document.getElementById('detail-circuit');
    const table = document.getElementById('detail-circuit-values');
    if (!lc) {
      circuit.textContent = aux ? 'The neutral is in no logical circuit.' : 'None';
      table.classList.add('hidden');
    } else {
      const g = p && (aux ? null : p.logical_circuits.find((x) => x.circuit === lc));
      const members = g ? g.channels : [channel];
      circuit.textContent = aux ? 'The mains of this panel (aux 1 to 3):' : `Logical circuit ${lc}: channels ${members.join(', ')}`;
      const data = aux ? p && p.mains : g;
      table.classList.toggle('hidden', !data);
      if (data) {
        rowsOf(table.querySelector('tbody'), quantities.circuit.map((q) => [q.label, show(q, data[q.key])]));
      }
    }
  }

  const loadEvents = async () => {
    const { panel, channel } = open;
    const tbody = document.querySelector('#detail-events tbody');
    const q = await bcpm.api('GET', `/api/events/query?panel=${panel}&channel=${channel}&limit=10`);
    tbody.textContent = '';
    for (const e of q.events) {
      tbody.append(bcpm.el('tr', {}, bcpm.el('td', {}, bcpm.when(e.recorded)), bcpm.el('td', {}, e.level),
        bcpm.el('td', {}, e.kind), bcpm.el('td', { class: 'num' }, `${fmt(e.value, 2)} ${e.unit}`),
        bcpm.el('td', { class: 'num' }, `${fmt(e.threshold, 2)} ${e.unit}`)));
    }
    if (!q.events.length) tbody.append(bcpm.el('tr', {}, bcpm.el('td', { colspan: 5 }, 'No event recorded for this channel.')));
    document.getElementById('detail-events-link').href = `/events?panel=${panel}&channel=${channel}`;
  };

  function openDetail(panel, channel) {
    // Already showing this channel: keep what is being typed.
    if (dialog.open && open && open.panel === panel && open.channel === channel) return;
    open = { panel, channel };
    say('', 'info');
    const r = rows.get(`${panel}-${channel}`);
    document.getElementById('edit-breaker').value = r.breaker_size;
    document.getElementById('edit-ct').value = r.ct_size;
    for (const [k] of thresholdKeys) document.getElementById('edit-' + k).value = setting(panel, k);
    drawDetail();
    loadEvents().catch((e) => say(e.message, 'error'));
    if (!dialog.open) dialog.showModal();
  }
  const closeDetail = () => dialog.close();
  document.getElementById('detail-close').addEventListener('click', closeDetail);
  dialog.addEventListener('close', () => {
    const from = open && cells.get(`${open.panel}-${open.channel}`);
    open = null;
    if (from) from.focus();
  });

  // Clears through POST /api/alarms/clear (the write path, as Modbus writes do);
  // the answer comes once the meter shows the clear.
  async function clearLatches(body, msgId, done) {
    const box = document.getElementById(msgId);
    try {
      await bcpm.api('POST', '/api/alarms/clear', body);
      box.className = 'msg inline info';
      box.textContent = done;
    } catch (e) {
      box.className = 'msg inline error';
      box.textContent = e.message;
    }
  }
  document.getElementById('detail-clear').addEventListener('click', () => {
    const { panel, channel } = open;
    clearLatches({ panel, channel }, 'detail-msg', `Channel ${channel}: latches cleared.`);
  });

  const save = async (values, done) => {
    try {
      await bcpm.api('POST', '/api/settings', { settings: values });
      say(done, 'info');
      return true;
    } catch (e) {
      say(e.message, 'error');
      return false;
    }
  };
  document.getElementById('detail-sizes').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const { panel, channel } = open;
    const breaker = Number(document.getElementById('edit-breaker').value);
    const ct = Number(document.getElementById('edit-ct').value);
    const ok = await save({ [`panel.${panel}.breaker_size.${channel}`]: breaker, [`panel.${panel}.ct_size.${channel}`]: ct },
      `Channel ${channel}: breaker ${breaker} A, CT ${ct} A stored.`);
    if (!ok) return;
    layout = await bcpm.api('GET', '/api/layout');
    countPoles();
    for (const p of layout.panels) {
      for (const r of [...p.strips.flatMap((s) => s.rows), ...p.aux.map((x) => ({ ...x, position: 'aux', logical_circuit: 0 }))]) {
        const key = `${p.panel}-${r.channel}`;
        const old = rows.get(key);
        rows.set(key, { ...old, ...r, panel: p.panel });
        styleCell(cells.get(key), p.panel, rows.get(key));
      }
    }
    if (open) drawDetail();
  });
  document.getElementById('detail-panel-thresholds').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const { panel } = open;
    const values = {};
    for (const [k] of thresholdKeys) {
      const v = Number(document.getElementById('edit-' + k).value);
      if (v !== setting(panel, k)) values[`panel.${panel}.${k}`] = v;
    }
    if (!Object.keys(values).length) { say('Nothing changed.', 'info'); return; }
    if (await save(values, `Panel ${panel}: ${Object.keys(values).length} setting(s) stored.`)) {
      await loadSettings();
      if (open) drawDetail();
    }
  });

  // A breaker named in the address (#p1-c10) opens its detail.
  const fromHash = () => {
    const m = location.hash.match(/^#p(\d)-c(\d+)$/);
    if (m && rows.has(`${m[1]}-${m[2]}`)) openDetail(Number(m[1]), Number(m[2]));
  };
  window.addEventListener('hashchange', fromHash);
  fromHash();

  bcpm.stream({ onSnapshot });
})();
