'use strict';
(async () => {
  await bcpm.init('/simulation');
  const state = async () => {
    const s = await bcpm.api('GET', '/api/sim');
    document.getElementById('sim-state').textContent = s.simulating
      ? `Source: panel simulator at ${s.speed}x real time.` : 'Source: replay (simulator controls are not available).';
    document.getElementById('speed').value = s.speed;
  };
  await state();
  const num = (id) => Number(document.getElementById(id).value);
  const run = async (path, body, done) => {
    try {
      await bcpm.api('POST', path, body);
      bcpm.message(done, 'info');
    } catch (e) {
      bcpm.message(e.message, 'error');
    }
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
