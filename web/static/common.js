// Shared by every page: the API helper (session cookie + CSRF token), the
// navigation bar, messages, and the System Restart button.
'use strict';

const bcpm = {
  session: null,

  async api(method, path, body) {
    const opts = { method, headers: {}, credentials: 'same-origin' };
    if (method !== 'GET' && bcpm.session) opts.headers['X-CSRF-Token'] = bcpm.session.csrf;
    if (body instanceof FormData) {
      opts.body = body;
    } else if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    // Protected HTTP: changes over plain HTTP carry the session's integrity tag.
    const res = location.protocol === 'http:' && method !== 'GET'
      ? await (await import('/static/secure_http.js')).secureFetch(path, opts)
      : await fetch(path, opts);
    if (res.status === 401 && !path.startsWith('/api/login')) {
      location.href = '/login';
      throw new Error('not logged in');
    }
    const type = res.headers.get('Content-Type') || '';
    const data = type.startsWith('application/json') ? await res.json() : await res.text();
    if (!res.ok) {
      // The answer goes with the error: a refused setting names its key.
      const err = new Error((data && data.error) || res.statusText);
      err.body = data;
      err.status = res.status;
      throw err;
    }
    return data;
  },

  message(text, kind) {
    const box = document.getElementById('msg');
    if (!box) return;
    box.className = 'msg ' + (kind || 'info');
    box.textContent = text || '';
  },

  el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  },

  // The measurement stream: calls onSnapshot/onEvent; reconnects after a restart.
  stream(handlers) {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/stream';
    const dot = document.getElementById('live');
    const connect = () => {
      const ws = new WebSocket(url);
      ws.onopen = () => dot && dot.classList.add('live');
      ws.onmessage = (m) => {
        const msg = JSON.parse(m.data);
        if (msg.type === 'snapshot' && handlers.onSnapshot) handlers.onSnapshot(msg.data);
        if (msg.type === 'event' && handlers.onEvent) handlers.onEvent(msg.data);
      };
      ws.onclose = () => {
        dot && dot.classList.remove('live');
        setTimeout(connect, 2000);
      };
    };
    connect();
  },

  async restart() {
    if (!confirm('Restart the system? The meter re-initialises; it takes a few seconds.')) return;
    try {
      const r = await bcpm.api('POST', '/api/restart');
      bcpm.message(r.message, 'warn');
    } catch (e) {
      bcpm.message(e.message, 'error');
      return;
    }
    // Wait for the server to go and come back, then reload the page.
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    for (;;) {
      try {
        const res = await fetch('/api/session', { credentials: 'same-origin' });
        if (res.status === 200 || res.status === 401) break;
      } catch (e) { /* still restarting */ }
      if (Date.now() - started > 60000) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    bcpm.message('The system restarted.', 'info');
    location.reload();
  },

  // Loads the session, draws the top bar; resolves to the session. Below
  // 900 px the menu folds behind a Menu button. Before a security mode is
  // chosen only the mode choice answers, so the menu has nothing else.
  async init(current) {
    bcpm.session = await bcpm.api('GET', '/api/session');
    const configured = bcpm.session.security !== 'unconfigured';
    const links = configured ? [
      ['/', 'Configuration'], ['/panel', 'Panel'], ['/settings', 'Settings'], ['/charts', 'Charts'], ['/events', 'Events'],
      ['/simulation', 'Simulation'], ['/diagnostics', 'Diagnostics & Debugging'],
    ] : [['/security', 'Web Server Security']];
    // A meter of a site (a [fleet] configuration) links to the site page.
    if (configured && bcpm.session.site) links.push(['/site', 'Site']);
    const nav = bcpm.el('nav', { 'aria-label': 'Main', id: 'main-menu', class: 'closed' });
    for (const [href, text] of links) {
      nav.append(bcpm.el('a', { href, 'aria-current': href === current ? 'page' : null }, text));
    }
    const toggle = bcpm.el('button', { type: 'button', class: 'secondary', id: 'menu-toggle',
      'aria-expanded': 'false', 'aria-controls': 'main-menu' }, 'Menu');
    toggle.addEventListener('click', () => {
      const open = nav.classList.toggle('closed') === false;
      toggle.setAttribute('aria-expanded', String(open));
    });
    const logout = bcpm.el('button', { class: 'secondary', id: 'logout', onclick: async () => {
      await bcpm.api('POST', '/api/logout');
      location.href = '/login';
    } }, 'Logout');
    const header = bcpm.el('header', { class: 'top' },
      bcpm.el('span', { class: 'brand' }, 'openbcpm ' + bcpm.session.model),
      toggle, nav,
      bcpm.el('span', { class: 'who' }, bcpm.el('span', { class: 'status-dot', id: 'live', role: 'img',
        'aria-label': 'live data', title: 'live data' }),
      'User: ' + bcpm.session.user, logout));
    const main = document.querySelector('main');
    if (main && !main.id) main.id = 'content';
    document.body.prepend(header);
    document.body.prepend(bcpm.el('a', { class: 'skip', href: '#' + (main ? main.id : 'content') }, 'Skip to content'));
    if (bcpm.session.initial_password) {
      const warn = bcpm.el('div', { class: 'msg warn', id: 'initial-password' },
        'You are using the factory password. Change it under ',
        bcpm.el('a', { href: '/diagnostics#user-management' }, 'Diagnostics & Debugging > Setup > User Management'), '.');
      main.prepend(warn);
    }
    for (const b of document.querySelectorAll('[data-action=restart]')) b.addEventListener('click', bcpm.restart);
    return bcpm.session;
  },

  // A table that may be wider than a phone: it scrolls in its own box (which
  // the keyboard can reach), never the page.
  wrap(table, label) {
    const box = bcpm.el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': label });
    table.replaceWith(box);
    box.append(table);
    return box;
  },

  when(t) { return new Date(t * 1000).toISOString().replace('.000', '').replace('T', ' ').replace('Z', ' UTC'); },

  // Bits of a channel's event status as short badges: [text, class, words].
  badges(st) {
    const out = [];
    if (st & 0x01) out.push(['HH', 'latched', 'high-high latched']);
    if (st & 0x02) out.push(['H', 'latched', 'high latched']);
    if (st & 0x04) out.push(['L', 'latched', 'low latched']);
    if (st & 0x08) out.push(['LL', 'latched', 'low-low latched']);
    if (st & 0x10) out.push(['OFF', 'off', 'off']);
    if (st & 0x100) out.push(['NL\u2191', 'active', 'non-latching high active']);
    if (st & 0x200) out.push(['NL\u2193', 'active', 'non-latching low active']);
    return out;
  },
  // The same for an L-L voltage's status.
  voltageBadges(st) {
    const out = [];
    if (st & 0x01) out.push(['OV', 'latched', 'over-voltage latched']);
    if (st & 0x02) out.push(['UV', 'latched', 'under-voltage latched']);
    if (st & 0x100) out.push(['OV\u2191', 'active', 'over-voltage active']);
    if (st & 0x200) out.push(['UV\u2193', 'active', 'under-voltage active']);
    return out;
  },

  fmt(v, digits) { return (typeof v === 'number' && isFinite(v)) ? v.toFixed(digits) : '-'; },
};
