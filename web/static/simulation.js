'use strict';
(async () => {
  await bcpm.init('/simulation');
  const text = (id, t) => { document.getElementById(id).textContent = t; };
  const clock = (t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false });
  const left = (t) => `${Math.max(0, Math.round(t - Date.now() / 1000))} s left`;
  const loadsBody = document.querySelector('#state-loads tbody');
  bcpm.wrap(document.getElementById('state-loads'), 'Loads set at run time');

  // The simulator's own state (GET /api/sim), read from it, redrawn every second.
  const draw = (s) => {
    text('sim-state', s.simulating
      ? `Source: panel simulator at ${s.speed}x real time.` : 'Source: replay (simulator controls are not available).');
    text('state-speed', `${s.speed}x real time`);
    const st = s.state;
    if (!st) return;
    text('state-sim-frequency', st.frequency === st.nominal_frequency
      ? `${st.frequency} Hz (nominal)` : `${st.frequency} Hz (nominal ${st.nominal_frequency} Hz)`);
    // Phases with the same sag or swell together: "sag of phases AB to 0.8 x nominal, until ...".
    const groups = new Map();
    for (const v of st.voltage) {
      const key = `${v.kind}|${v.magnitude}|${v.until}`;
      if (!groups.has(key)) groups.set(key, { ...v, phases: '' });
      groups.get(key).phases += v.phase;
    }
    text('state-sag', groups.size ? [...groups.values()].map((g) => `${g.kind} of phase${g.phases.length > 1 ? 's' : ''} ${g.phases} `
      + `to ${g.magnitude} x nominal, ${g.until === null ? 'until changed' : `until ${clock(g.until)} (${left(g.until)})`}`).join('; ') : 'none');
    text('state-trips', st.trips.length ? st.trips.map((t) => `panel ${t.panel} channel ${t.channel}`).join('; ') : 'none');
    const sc = st.scenario;
    text('state-scenario', !sc ? 'none' : sc.running
      ? `${sc.name}: running, ${sc.done} of ${sc.events} events done, ${Math.round(sc.elapsed)} s in; next at ${sc.next_at} s (${clock(sc.next_time)})`
      : `${sc.name}: finished (${sc.events} events)`);
    // Loads: one row each, with the kept switch; redrawn only when they change (focus stays).
    const rows = st.loads.map((l) => JSON.stringify([l.panel, l.channel, l.amps, l.pf, l.kept]));
    if (loadsBody.dataset.rows !== rows.join()) {
      loadsBody.dataset.rows = rows.join();
      loadsBody.replaceChildren(...st.loads.map((l) => {
        const box = bcpm.el('input', { type: 'checkbox', id: `keep-${l.panel}-${l.channel}`, checked: l.kept,
          'aria-label': `Keep panel ${l.panel} channel ${l.channel} across restarts` });
        box.addEventListener('change', () => run('/api/sim/keep', { panel: l.panel, channel: l.channel, keep: box.checked },
          `Panel ${l.panel} channel ${l.channel} ${box.checked ? 'kept across restarts' : 'no longer kept'}.`));
        const ramp = l.ramp_until ? ` (ramping until ${clock(l.ramp_until)})` : '';
        return bcpm.el('tr', { id: `load-${l.panel}-${l.channel}` }, bcpm.el('td', {}, l.panel), bcpm.el('td', {}, l.channel),
          bcpm.el('td', {}, `${l.amps} A${ramp}`), bcpm.el('td', {}, l.pf === null ? '-' : l.pf), bcpm.el('td', {}, box));
      }));
    }
    document.getElementById('state-loads-none').hidden = st.loads.length > 0;
    document.getElementById('state').dataset.ready = 'true';
  };
  const refresh = async () => {
    try {
      const s = await bcpm.api('GET', '/api/sim');
      draw(s);
      return s;
    } catch (e) {
      bcpm.message(e.message, 'error');
      return null;
    }
  };
  const first = await refresh();
  if (first) document.getElementById('speed').value = first.speed;
  setInterval(refresh, 1000);

  bcpm.stream({
    onSnapshot: (s) => {
      const v = s.panels[0].voltage;
      text('state-voltage', `A ${bcpm.fmt(v.an, 1)} V, B ${bcpm.fmt(v.bn, 1)} V, C ${bcpm.fmt(v.cn, 1)} V`);
      text('state-frequency', `${bcpm.fmt(v.frequency, 2)} Hz`);
      const off = [];
      for (const p of s.panels) {
        for (const c of p.channels) if (!c.aux && c.current < 0.05) off.push(`${p.panel}/${c.channel}`);
      }
      text('state-off', off.length ? off.join(', ') + ' (panel/channel)' : 'none');
    },
  });

  const num = (id) => Number(document.getElementById(id).value);
  async function run(path, body, done) {
    try {
      await bcpm.api('POST', path, body);
      bcpm.message(done, 'info');
    } catch (e) {
      bcpm.message(e.message, 'error');
    }
    return refresh();
  }
  document.getElementById('load-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const pf = document.getElementById('load-pf').value;
    const keep = document.getElementById('load-keep').checked;
    const body = { panel: num('load-panel'), channel: num('load-channel'), amps: num('load-amps'), keep };
    if (pf !== '') body.pf = Number(pf);
    run('/api/sim/load', body, `Panel ${body.panel} channel ${body.channel} now draws ${body.amps} A${keep ? ', kept across restarts' : ''}.`);
  });
  const trip = (tripped) => {
    const body = { panel: num('trip-panel'), channel: num('trip-channel'), tripped };
    run('/api/sim/trip', body, `Panel ${body.panel} channel ${body.channel} ${tripped ? 'tripped' : 'restored'}.`);
  };
  document.getElementById('trip-form').addEventListener('submit', (ev) => { ev.preventDefault(); trip(true); });
  document.getElementById('restore-submit').addEventListener('click', () => trip(false));
  document.getElementById('voltage-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = { phases: document.getElementById('v-phases').value, magnitude: num('v-mag'), seconds: num('v-seconds') };
    run('/api/sim/voltage', body, `Phases ${body.phases} at ${body.magnitude} x nominal.`);
  });
  document.getElementById('speed-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    run('/api/sim/speed', { speed: num('speed') }, `Speed set to ${num('speed')}x.`);
  });
  document.getElementById('scenario-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const file = document.getElementById('scenario-file').files[0];
    if (!file) return;
    if (file.size > 65536) {
      bcpm.message(`${file.name} is ${file.size} bytes: a scenario file is at most 65536 bytes.`, 'error');
      return;
    }
    const name = file.name.slice(0, 63);
    run('/api/sim/scenario', { name, text: await file.text() }, `Scenario ${name} started.`);
  });
  document.getElementById('scenario-stop').addEventListener('click', () => run('/api/sim/scenario', { stop: true }, 'Scenario stopped.'));
})();
