'use strict';
// Charts of the meter's trends (GET /api/trends, docs/trends.md), drawn by
// uPlot: they open filled with history, follow the meter live, zoom (range
// buttons, drag across a chart, the wheel) and export the visible range as CSV.
(async () => {
  const session = await bcpm.init('/charts');
  void session;
  const device = await bcpm.api('GET', '/api/device');
  // Units as the point catalogue gives them (GET /api/quantities).
  const quantities = await bcpm.api('GET', '/api/quantities');
  const unitOf = (list, key) => list.find((q) => q.key === key).unit;
  const units = { current: unitOf(quantities.channel, 'current'), power: unitOf(quantities.channel, 'kw'),
    voltage: unitOf(quantities.voltage, 'an') };
  const select = document.getElementById('panel-select');
  for (let p = 1; p <= device.panels; ++p) select.append(bcpm.el('option', { value: p }, `Panel ${p}`));
  const colors = ['#0a6640', '#b3261e', '#1f5fbf', '#9a5b00', '#6b3fa0', '#00838f', '#c2185b', '#5d4037', '#37474f'];
  const width = () => Math.max(200, Math.min(document.querySelector('main').clientWidth - 40, 1300));

  let panel = 1;
  let channels = [1, 2, 3, 4];
  let charts = {};
  // The visible range: its span, and its end when not following live.
  let span = 300;
  let live = true;
  let end = null;   // Unix seconds, when not live
  let now = null;   // the newest window the meter recorded
  let busy = false;
  let again = false;  // asked for while a refresh ran: the range may have moved

  // Whole seconds on the time axis (uPlot would otherwise tick every half
  // second, ":43.500"); dates once the range is longer than a day.
  const two = (n) => String(n).padStart(2, '0');
  const timeAxis = {
    space: 70,
    incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 604800],
    values: (u, ticks) => {
      const long = u.scales.x.max - u.scales.x.min > 86400;
      return ticks.map((t) => {
        const d = new Date(t * 1000);
        return long ? `${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`
          : `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
      });
    },
  };
  const make = (id, labels, unit, keys) => {
    const series = [{}].concat(labels.map((l, i) => ({ label: l, stroke: colors[i % colors.length], width: 1.5,
      value: (u, v) => v == null ? '-' : v.toFixed(2) + ' ' + unit })));
    const el = document.getElementById(id);
    el.textContent = '';
    const d = [[]].concat(labels.map(() => []));
    const opts = {
      width: width(), height: 240, series, scales: { x: { time: true } }, axes: [timeAxis, { size: 70 }],
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: { setSelect: [(u) => {
        if (u.select.width < 5) return;
        const from = u.posToVal(u.select.left, 'x');
        const to = u.posToVal(u.select.left + u.select.width, 'x');
        u.setSelect({ left: 0, width: 0 }, false);
        zoomTo(from, to);
      }] },
    };
    const plot = new uPlot(opts, d, el);
    // The wheel zooms about the cursor.
    plot.over.addEventListener('wheel', (e) => {
      e.preventDefault();
      const at = plot.posToVal(e.offsetX, 'x');
      const { min, max } = plot.scales.x;
      const f = e.deltaY < 0 ? 0.8 : 1.25;
      zoomTo(at - (at - min) * f, at + (max - at) * f);
    }, { passive: false });
    return { plot, d, keys };
  };
  const build = () => {
    const p = `p${panel}`;
    charts = {
      current: make('chart-current', channels.map((c) => `ch ${c}`), units.current,
        channels.map((c) => `${p}.ch${c}.current`)),
      power: make('chart-power', ['panel total (mains)', ...channels.map((c) => `ch ${c}`)], units.power,
        [`${p}.kw`, ...channels.map((c) => `${p}.ch${c}.kw`)]),
      voltage: make('chart-voltage', ['A-N', 'B-N', 'C-N'], units.voltage, ['v.an', 'v.bn', 'v.cn']),
    };
    window.bcpmCharts = charts;  // for the browser tests
  };

  const range = () => {
    const to = live || end === null ? (now ?? Date.now() / 1000) : end;
    return { from: to - span, to };
  };
  const query = (c, r, extra) => `/api/trends?series=${encodeURIComponent(c.keys.join(','))}` +
    `&from=${r.from.toFixed(3)}&to=${r.to.toFixed(3)}${extra}`;
  const exportLink = document.getElementById('export-csv');
  const rangeText = document.getElementById('range-text');
  const fmt = (t) => new Date(t * 1000).toLocaleString();

  // Fetches the visible range of every chart (at most a point per pixel).
  const refresh = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      // Live, the first chart's answer tells where the meter is (its newest window).
      let r = live ? null : range();
      for (const c of Object.values(charts)) {
        const res = await bcpm.api('GET', r ? query(c, r, `&points=${Math.round(width())}&values=avg`)
          : `/api/trends?series=${encodeURIComponent(c.keys.join(','))}&span=${span}` +
            `&points=${Math.round(width())}&values=avg`);
        if (!r) {
          now = res.now;
          r = { from: res.from, to: res.to };
        }
        c.d = [res.t, ...res.series.map((s) => s.avg)];
        c.plot.setData(c.d, false);
        c.plot.setScale('x', { min: r.from, max: r.to });
      }
      const all = Object.values(charts).flatMap((c) => c.keys);
      exportLink.href = `/api/trends?series=${encodeURIComponent(all.join(','))}` +
        `&from=${r.from.toFixed(3)}&to=${r.to.toFixed(3)}&format=csv`;
      rangeText.textContent = `${fmt(r.from)} to ${fmt(r.to)}${live ? ' (following live)' : ''}. ` +
        'Drag across a chart to zoom in, the wheel to zoom in and out.';
    } catch (e) {
      bcpm.message('Trends: ' + e.message, 'error');
    } finally {
      busy = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  };
  const setLive = (on) => {
    live = on;
    if (!on && end === null) end = range().to;
    document.getElementById('live-button').setAttribute('aria-pressed', String(on));
  };
  const zoomTo = (from, to) => {
    span = Math.max(10, to - from);
    end = to;
    setLive(false);
    for (const b of document.querySelectorAll('button.range')) b.setAttribute('aria-pressed', 'false');
    refresh();
  };
  for (const b of document.querySelectorAll('button.range')) {
    b.addEventListener('click', () => {
      span = Number(b.dataset.span);
      for (const o of document.querySelectorAll('button.range')) o.setAttribute('aria-pressed', String(o === b));
      end = null;
      setLive(true);
      refresh();
    });
  }
  document.getElementById('live-button').addEventListener('click', () => {
    end = null;
    setLive(!live);
    refresh();
  });

  build();
  await refresh();

  document.getElementById('apply').addEventListener('click', () => {
    panel = Number(select.value);
    const list = document.getElementById('channels').value.split(',').map((x) => Number(x.trim()))
      .filter((x) => Number.isInteger(x) && x >= 1 && x <= 46);
    channels = list.slice(0, 8);
    if (!channels.length) channels = [1];
    build();
    refresh();
  });

  // Live: each stream message (one a second) refreshes the view; ranges
  // longer than an hour every 30 s.
  let last = 0;
  bcpm.stream({
    onSnapshot: () => {
      if (!live) return;
      const every = span > 3600 ? 30000 : 1000;
      if (Date.now() - last < every) return;
      last = Date.now();
      refresh();
    },
  });
  window.addEventListener('resize', () => {
    for (const c of Object.values(charts)) c.plot.setSize({ width: width(), height: 240 });
  });
})();
