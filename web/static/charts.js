'use strict';
// Rolling charts of the WebSocket measurements, drawn by uPlot.
(async () => {
  const session = await bcpm.init('/charts');
  void session;
  const keep = 300;  // points (one per stream message, 1 s apart)
  const device = await bcpm.api('GET', '/api/device');
  // Units as the point catalogue gives them (GET /api/quantities).
  const quantities = await bcpm.api('GET', '/api/quantities');
  const unitOf = (list, key) => list.find((q) => q.key === key).unit;
  const units = { current: unitOf(quantities.channel, 'current'), power: unitOf(quantities.channel, 'kw'),
    voltage: unitOf(quantities.voltage, 'an') };
  const select = document.getElementById('panel-select');
  for (let p = 1; p <= device.panels; ++p) select.append(bcpm.el('option', { value: p }, `Panel ${p}`));
  const colors = ['#0a6640', '#b3261e', '#1f5fbf', '#9a5b00', '#6b3fa0', '#00838f', '#c2185b', '#5d4037'];
  const width = () => Math.max(200, Math.min(document.querySelector('main').clientWidth - 40, 1300));

  let panel = 1;
  let channels = [1, 2, 3, 4];
  let charts = {};
  let data = {};

  // Whole seconds on the time axis (one point a second): uPlot would otherwise
  // tick every half second (":43.500") while the chart holds only a few points.
  const two = (n) => String(n).padStart(2, '0');
  const timeAxis = {
    space: 70,
    incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600],
    values: (u, ticks) => ticks.map((t) => {
      const d = new Date(t * 1000);
      return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
    }),
  };
  const make = (id, labels, unit) => {
    const series = [{}].concat(labels.map((l, i) => ({ label: l, stroke: colors[i % colors.length], width: 1.5,
      value: (u, v) => v == null ? '-' : v.toFixed(2) + ' ' + unit })));
    const el = document.getElementById(id);
    el.textContent = '';
    const d = [[]].concat(labels.map(() => []));
    const opts = { width: width(), height: 240, series, scales: { x: { time: true } }, axes: [timeAxis, { size: 70 }] };
    return { plot: new uPlot(opts, d, el), d };
  };
  const build = () => {
    charts = {
      current: make('chart-current', channels.map((c) => `ch ${c}`), units.current),
      power: make('chart-power', ['panel total (mains)', ...channels.map((c) => `ch ${c}`)], units.power),
      voltage: make('chart-voltage', ['A-N', 'B-N', 'C-N'], units.voltage),
    };
    data = charts;
    window.bcpmCharts = charts;  // for the browser tests (tick labels)
  };
  build();

  document.getElementById('apply').addEventListener('click', () => {
    panel = Number(select.value);
    const list = document.getElementById('channels').value.split(',').map((x) => Number(x.trim()))
      .filter((x) => Number.isInteger(x) && x >= 1 && x <= 46);
    channels = list.slice(0, 8);
    if (!channels.length) channels = [1];
    build();
  });

  const push = (chart, values) => {
    const t = Date.now() / 1000;
    chart.d[0].push(t);
    values.forEach((v, i) => chart.d[i + 1].push(v));
    if (chart.d[0].length > keep) chart.d.forEach((s) => s.shift());
    chart.plot.setData(chart.d);
  };
  bcpm.stream({
    onSnapshot: (s) => {
      const p = s.panels.find((x) => x.panel === panel) || s.panels[0];
      const byChannel = new Map(p.channels.map((c) => [c.channel, c]));
      push(data.current, channels.map((c) => byChannel.get(c)?.current ?? null));
      push(data.power, [p.mains.kw, ...channels.map((c) => byChannel.get(c)?.kw ?? null)]);
      push(data.voltage, [p.voltage.an, p.voltage.bn, p.voltage.cn]);
    },
  });
  window.addEventListener('resize', () => {
    for (const c of Object.values(charts)) c.plot.setSize({ width: width(), height: 240 });
  });
})();
