'use strict';
// Settings of a panel, grouped as the register map groups them: the panel
// (location, strip configuration, register 62017's bits), demand, thresholds
// and delays, voltage events, and a row per channel (breaker and CT size,
// phase, logical circuit). Every save goes to POST /api/settings with only
// the values that changed; a refusal names its key and its message (the
// settings table's, as over Modbus, BACnet and SNMP) is shown at that field.
(async () => {
  await bcpm.init('/settings');
  let layout = await bcpm.api('GET', '/api/layout');
  const select = document.getElementById('s-panel');
  for (const p of layout.panels) select.append(bcpm.el('option', { value: p.panel }, `Panel ${p.panel}: ${p.location}`));
  const root = document.getElementById('forms');
  let panel = Number(new URLSearchParams(location.search).get('panel')) || layout.panels[0].panel;
  if (!layout.panels.some((p) => p.panel === panel)) panel = layout.panels[0].panel;
  select.value = String(panel);
  let values = new Map();  // key -> value
  const defs = new Map();  // key -> definition (min, max, description)

  const key = (name, channel) => `panel.${panel}.${name}` + (channel ? `.${channel}` : '');
  const fieldId = (k) => 'f-' + k.replace(/\./g, '-');
  const errId = (k) => 'e-' + k.replace(/\./g, '-');

  // name, label, kind (number | text | configuration)
  const groups = [
    ['panel', 'Panel', [['location', 'Location', 'text'], ['configuration', 'Strip configuration', 'configuration']]],
    ['demand', 'Demand', [['demand_subintervals', 'Sub-intervals per demand interval (1 to 6)'],
      ['subinterval_seconds', 'Sub-interval length (s, 0 = sync to comms)']]],
    ['thresholds', 'Thresholds and delays (0.1 % of each breaker\u2019s size)', [
      ['hh_threshold', 'High-High threshold (0.1 %)'], ['hh_delay', 'High-High delay (s)'],
      ['h_threshold', 'High threshold (0.1 %)'], ['h_delay', 'High delay (s)'],
      ['l_threshold', 'Low threshold (0.1 %)'], ['l_delay', 'Low delay (s)'],
      ['ll_threshold', 'Low-Low threshold (0.1 %)'], ['ll_delay', 'Low-Low delay (s)'],
      ['on_time', 'ON time (s)'], ['off_time', 'OFF time (s)'],
      ['nl_high_threshold', 'Non-latching high (0.1 %)'], ['nl_low_threshold', 'Non-latching low (0.1 %)'],
      ['nl_hysteresis', 'Non-latching hysteresis (0.1 %)']]],
    ['voltage', 'Voltage events (L-L)', [
      ['over_voltage_threshold', 'Over-voltage threshold (0.1 V, 0 = off)'], ['over_voltage_timer', 'Over-voltage timer (s)'],
      ['under_voltage_threshold', 'Under-voltage threshold (0.1 V, 0 = off)'], ['under_voltage_timer', 'Under-voltage timer (s)'],
      ['voltage_hysteresis', 'Voltage hysteresis (0.1 %)']]],
  ];
  const configurations = ['Top Feed', 'Bottom Feed', 'Sequential', 'Odd/Even'];
  const userBits = [[1, 'User CT phase assignment (the Phase column below)'], [2, 'Phase angles relative to each channel\u2019s phase'],
    [4, 'RTC as the demand interval source'], [8, 'Legacy 2- and 3-phase maps (registers 4000 to 9999)']];

  const errorBox = (k) => bcpm.el('span', { id: errId(k), class: 'field-error', role: 'alert' });
  const showError = (k, text) => {
    const e = document.getElementById(errId(k));
    if (e) e.textContent = text;
    return Boolean(e);
  };
  const clearErrors = (scope) => { for (const e of scope.querySelectorAll('.field-error')) e.textContent = ''; };

  // Sends the changed values of a form; the refused key's message goes to its field.
  async function save(form, changed, msg) {
    clearErrors(form);
    msg.className = 'msg';
    msg.textContent = '';
    if (!Object.keys(changed).length) {
      msg.className = 'msg info';
      msg.textContent = 'Nothing changed.';
      return;
    }
    try {
      await bcpm.api('POST', '/api/settings', { settings: changed });
      if (key('configuration') in changed) {
        // The strip positions of the channels follow the configuration.
        layout = await bcpm.api('GET', '/api/layout');
        document.getElementById('form-channels').replaceWith(channelsForm());
      }
      // The fields show what is stored before the page says it is: an edit
      // made after the message is never overwritten by this reload.
      await load();
      msg.className = 'msg info';
      msg.textContent = `${Object.keys(changed).length} setting(s) stored.`;
    } catch (e) {
      const k = e.body && e.body.key;
      if (!(k && showError(k, e.message))) {
        msg.className = 'msg error';
        msg.textContent = e.message;
      } else {
        msg.className = 'msg error';
        msg.textContent = 'Refused, nothing changed: see the field marked.';
        document.getElementById(fieldId(k))?.focus();
      }
    }
  }

  function draw() {
    root.textContent = '';
    for (const [name, title, fields] of groups) {
      const msg = bcpm.el('div', { class: 'msg', role: 'status', 'aria-live': 'polite', id: `msg-${name}` });
      const form = bcpm.el('form', { class: 'card settings-form', id: `form-${name}`, 'aria-labelledby': `h-${name}` },
        bcpm.el('h2', { id: `h-${name}` }, title));
      for (const [n, label, kind] of fields) {
        const k = key(n);
        let input;
        if (kind === 'configuration') {
          input = bcpm.el('select', { id: fieldId(k), name: k, 'aria-describedby': errId(k) },
            ...configurations.map((c, i) => bcpm.el('option', { value: i }, `${i} ${c}`)));
        } else {
          input = bcpm.el('input', { type: kind === 'text' ? 'text' : 'number', id: fieldId(k), name: k,
            step: kind === 'text' ? null : 1, 'aria-describedby': errId(k) });
        }
        form.append(bcpm.el('div', { class: 'form-row' }, bcpm.el('label', { for: fieldId(k) }, label), input, errorBox(k)));
      }
      if (name === 'panel') {
        const k = key('user_defined');
        const fs = bcpm.el('fieldset', { id: fieldId(k), 'aria-describedby': errId(k) },
          bcpm.el('legend', {}, 'User defined settings (register 62017)'));
        for (const [bit, label] of userBits) {
          fs.append(bcpm.el('div', {}, bcpm.el('input', { type: 'checkbox', id: `bit-${bit}`, value: bit }),
            ' ', bcpm.el('label', { for: `bit-${bit}` }, label)));
        }
        fs.append(errorBox(k));
        form.append(fs);
      }
      form.append(bcpm.el('button', { type: 'submit', id: `save-${name}` }, 'Save'), msg);
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const changed = {};
        for (const [n, , kind] of fields) {
          const k = key(n);
          const raw = document.getElementById(fieldId(k)).value;
          const v = kind === 'text' ? raw : (raw === '' ? NaN : Number(raw));
          if (v !== values.get(k)) changed[k] = Number.isNaN(v) ? raw : v;
        }
        if (name === 'panel') {
          let bits = values.get(key('user_defined')) & ~15;
          for (const [bit] of userBits) if (document.getElementById(`bit-${bit}`).checked) bits |= bit;
          if (bits !== values.get(key('user_defined'))) changed[key('user_defined')] = bits;
        }
        save(form, changed, msg);
      });
      root.append(form);
    }
    root.append(channelsForm());
  }

  // A row per channel; logical circuits are formed by selecting adjacent breakers.
  function channelsForm() {
    const p = layout.panels.find((x) => x.panel === panel);
    const where = new Map();
    for (const s of p.strips) for (const r of s.rows) where.set(r.channel, `${s.strip}${r.position}`);
    for (const x of p.aux) where.set(x.channel, x.name);
    const tbody = bcpm.el('tbody');
    const channels = [...where.keys()].sort((a, b) => a - b);
    const cols = [['breaker_size', 'Breaker (A)'], ['ct_size', 'CT (A)'], ['phase', 'Phase'], ['logical_circuit', 'Logical circuit']];
    for (const c of channels) {
      const tr = bcpm.el('tr', { id: `row-${c}` },
        bcpm.el('td', {}, bcpm.el('input', { type: 'checkbox', id: `sel-${c}`, 'aria-label': `Select channel ${c}` })),
        bcpm.el('th', { scope: 'row' }, String(c)), bcpm.el('td', {}, where.get(c)));
      const errs = bcpm.el('td', { class: 'errors' });
      for (const [n, label] of cols) {
        const k = key(n, c);
        const a = { id: fieldId(k), name: k, 'aria-label': `Channel ${c} ${label}`, 'aria-describedby': errId(k) };
        const input = n === 'phase'
          ? bcpm.el('select', a, ...['A', 'B', 'C'].map((x, i) => bcpm.el('option', { value: i }, x)))
          : bcpm.el('input', { ...a, type: 'number', step: 1, class: 'narrow' });
        tr.append(bcpm.el('td', {}, input));
        errs.append(errorBox(k));
      }
      tr.append(errs);
      tbody.append(tr);
    }
    const msg = bcpm.el('div', { class: 'msg', role: 'status', 'aria-live': 'polite', id: 'msg-channels' });
    const form = bcpm.el('form', { class: 'card settings-form', id: 'form-channels', 'aria-labelledby': 'h-channels' },
      bcpm.el('h2', { id: 'h-channels' }, 'Channels'),
      bcpm.el('p', { class: 'identity' }, 'Phase is used when "User CT phase assignment" is on. A logical circuit is 1 to 3 ' +
        'adjacent breakers: select them and Join, or Separate to give each its own circuit again; then Save.'),
      bcpm.el('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Channel settings' },
        bcpm.el('table', { id: 'channels' }, bcpm.el('thead', {}, bcpm.el('tr', {},
          bcpm.el('th', { scope: 'col' }, 'Select'), bcpm.el('th', { scope: 'col' }, 'Channel'),
          bcpm.el('th', { scope: 'col' }, 'Position'), ...cols.map(([, l]) => bcpm.el('th', { scope: 'col' }, l)),
          bcpm.el('th', { scope: 'col' }, 'Refused'))), tbody)),
      bcpm.el('div', { class: 'form-row' },
        bcpm.el('button', { type: 'button', class: 'secondary', id: 'join', onclick: () => circuits(true) }, 'Join selected into one circuit'),
        bcpm.el('button', { type: 'button', class: 'secondary', id: 'separate', onclick: () => circuits(false) }, 'Separate selected'),
        bcpm.el('button', { type: 'submit', id: 'save-channels' }, 'Save')), msg);
    const circuits = (join) => {
      const picked = channels.filter((c) => document.getElementById(`sel-${c}`).checked);
      if (!picked.length) { msg.className = 'msg info'; msg.textContent = 'Select channels first.'; return; }
      for (const c of picked) document.getElementById(fieldId(key('logical_circuit', c))).value = join ? picked[0] : c;
      msg.className = 'msg info';
      msg.textContent = join ? `Channels ${picked.join(', ')} set to circuit ${picked[0]}: Save to store.`
        : `Channels ${picked.join(', ')} separated: Save to store.`;
    };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const changed = {};
      for (const c of channels) {
        for (const [n] of cols) {
          const k = key(n, c);
          const raw = document.getElementById(fieldId(k)).value;
          const v = raw === '' ? raw : Number(raw);
          if (v !== values.get(k)) changed[k] = v;
        }
      }
      save(form, changed, msg);
    });
    return form;
  }

  // The stored values into the fields.
  async function load() {
    const s = await bcpm.api('GET', `/api/settings?prefix=panel.${panel}.`);
    values = new Map();
    for (const x of s.settings) { values.set(x.key, x.value); defs.set(x.key, x); }
    for (const [k, v] of values) {
      const e = document.getElementById(fieldId(k));
      if (e && e.tagName !== 'FIELDSET') e.value = v;
    }
    const bits = values.get(key('user_defined')) || 0;
    for (const [bit] of userBits) document.getElementById(`bit-${bit}`).checked = (bits & bit) !== 0;
    document.getElementById('csv-export').href = `/api/settings/export?panel=${panel}`;
  }

  select.addEventListener('change', async () => {
    panel = Number(select.value);
    history.replaceState(null, '', `/settings?panel=${panel}`);
    draw();
    await load();
  });

  document.getElementById('csv-import').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const box = document.getElementById('csv-msg');
    const file = document.getElementById('csv-file').files[0];
    if (!file) return;
    try {
      const r = await bcpm.api('POST', '/api/settings/import', { panel, csv: await file.text() });
      await load();
      box.className = 'msg info';
      box.textContent = `${r.settings} settings imported into panel ${panel}.`;
    } catch (e) {
      box.className = 'msg error';
      box.textContent = e.message;
    }
  });

  draw();
  await load();
})();
