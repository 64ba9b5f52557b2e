'use strict';
(async () => {
  await bcpm.init('/simulation');
  const text = (id, t) => { document.getElementById(id).textContent = t; };
  let started = 0;  // when the meter (re)started: the simulator holds nothing set before
  const state = async () => {
    const s = await bcpm.api('GET', '/api/sim');
    started = s.started || 0;
    text('sim-state', s.simulating
      ? `Source: panel simulator at ${s.speed}x real time.` : 'Source: replay (simulator controls are not available).');
    document.getElementById('speed').value = s.speed;
    text('state-speed', `${s.speed}x real time`);
  };
  await state();

  // What was set through the web since the meter last started (System
  // Restart or the process's start): the audit log's simulator entries from
  // then on, replayed in order (the log outlives restarts, the simulator's
  // overrides do not).
  const history = async () => {
    const a = await bcpm.api('GET', '/api/audit?limit=1000');
    const entries = a.entries.slice().sort((x, y) => x.time - y.time);
    let start = 0;
    entries.forEach((e, i) => { if (e.action === 'system restart' || e.this_start === false || e.time < started) start = i + 1; });
    const loads = new Map();
    const trips = new Set();
    let voltage = null;
    for (const e of entries.slice(start)) {
      let m;
      if (e.action === 'sim load' && (m = e.detail.match(/panel (\d+) channel (\d+): ([\d.e+-]+) A/))) {
        loads.set(`${m[1]}-${m[2]}`, `panel ${m[1]} channel ${m[2]}: ${m[3]} A`);
      } else if ((e.action === 'sim trip' || e.action === 'sim restore') && (m = e.detail.match(/panel (\d+) channel (\d+)/))) {
        if (e.action === 'sim trip') trips.add(`panel ${m[1]} channel ${m[2]}`);
        else trips.delete(`panel ${m[1]} channel ${m[2]}`);
      } else if (e.action === 'sim voltage' && (m = e.detail.match(/phases (\w+): x([\d.e+-]+) for ([\d.e+-]+) s/))) {
        voltage = { phases: m[1], magnitude: Number(m[2]), seconds: Number(m[3]), time: e.time };
      }
    }
    const speed = Number(document.getElementById('speed').value) || 1;
    let sag = 'none';
    if (voltage) {
      const kind = voltage.magnitude < 1 ? 'sag' : voltage.magnitude > 1 ? 'swell' : 'nominal';
      const ends = voltage.time + voltage.seconds / speed;
      if (voltage.magnitude === 1) sag = `none (phases ${voltage.phases} set back to nominal at ${bcpm.when(voltage.time)})`;
      else if (voltage.seconds === 0) sag = `${kind} of phases ${voltage.phases} to ${voltage.magnitude} x nominal, until changed (since ${bcpm.when(voltage.time)})`;
      else if (ends > Date.now() / 1000) sag = `${kind} of phases ${voltage.phases} to ${voltage.magnitude} x nominal, for ${voltage.seconds} s from ${bcpm.when(voltage.time)}`;
      else sag = `none (the last, ${kind} of phases ${voltage.phases} to ${voltage.magnitude} x nominal, ended)`;
    }
    text('state-sag', sag);
    text('state-trips', trips.size ? [...trips].join('; ') : 'none');
    text('state-loads', loads.size ? [...loads.values()].join('; ') : 'none');
    document.getElementById('state').dataset.ready = 'true';
  };
  const refresh = () => history().catch((e) => bcpm.message(e.message, 'error'));
  await refresh();

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
  const run = async (path, body, done) => {
    try {
      await bcpm.api('POST', path, body);
      bcpm.message(done, 'info');
    } catch (e) {
      bcpm.message(e.message, 'error');
    }
    refresh();
  };
  document.getElementById('load-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const pf = document.getElementById('load-pf').value;
    const body = { panel: num('load-panel'), channel: num('load-channel'), amps: num('load-amps') };
    if (pf !== '') body.pf = Number(pf);
    run('/api/sim/load', body, `Panel ${body.panel} channel ${body.channel} now draws ${body.amps} A.`);
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
  document.getElementById('speed-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    await run('/api/sim/speed', { speed: num('speed') }, `Speed set to ${num('speed')}x.`);
    state();
  });
})();
