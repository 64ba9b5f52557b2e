'use strict';
(async () => {
  await bcpm.init('/diagnostics');
  const sections = ['file-transfer', 'user-management', 'web-security', 'audit-log', 'storage', 'help'];
  const when = (t) => new Date(t * 1000).toISOString().replace('.000', '');
  // Storage state: an alert on every section while writes are refused, details in 'storage'.
  const storage = async () => {
    const s = await bcpm.api('GET', '/api/storage');
    const alert = document.getElementById('storage-alert');
    alert.textContent = s.state === 'failing'
      ? `Storage failing since ${when(s.since)}: settings cannot be changed and energy is not being saved ` +
        `(${s.writes_refused} writes refused; ${s.error}).`
      : '';
    document.getElementById('storage-state').textContent = !s.stored ? 'none (no state directory)'
      : s.state === 'failing' ? 'storage failing' : 'ok';
    document.getElementById('storage-detail').textContent = s.events_waiting || s.events_unrecorded
      ? `${s.events_waiting} events wait to be recorded, ${s.events_unrecorded} could not be.` : '';
    document.getElementById('storage-backup').textContent = s.last_backup
      ? when(s.last_backup) + (s.backup_error ? ` (the latest attempt failed: ${s.backup_error})` : '')
      : (s.backup_error ? `none (${s.backup_error})` : 'none yet this start');
    document.getElementById('storage-restored').textContent = s.restored ? 'At this start: ' + s.restored : '';
    const tbody = document.querySelector('#storage-log tbody');
    tbody.textContent = '';
    for (const e of s.log) {
      tbody.append(bcpm.el('tr', {}, bcpm.el('td', {}, when(e.time)), bcpm.el('td', {}, e.kind),
        bcpm.el('td', {}, e.text)));
    }
  };
  // The trends' storage (GET /api/trends without series): the minute file and the memory ring.
  const trends = async () => {
    const t = await bcpm.api('GET', '/api/trends');
    const st = t.storage;
    const mb = (b) => `${(b / 1048576).toFixed(2)} MB`;
    const text = (id, v) => { document.getElementById(id).textContent = v; };
    text('trends-file', !st.file ? 'none (no state directory: memory only)'
      : `${mb(st.bytes)} of at most ${mb(st.max_bytes)} (minutes older than ${st.days} days are pruned)`
        + (st.ok ? '' : ', not being written'));
    text('trends-rows', st.file ? `${st.rows} of at most ${st.max_rows}` : '-');
    text('trends-oldest', st.oldest ? when(st.oldest) : 'none yet');
    text('trends-newest', st.newest ? when(st.newest) : 'none yet');
    const m = t.memory;
    text('trends-memory', `${m.windows} of ${m.capacity} windows (${mb(m.bytes)})`
      + (m.windows ? `, since ${when(m.oldest)}` : ''));
    text('trends-error', st.error ? `${st.error} (${st.failures} failed writes)` : 'none');
  };
  const refreshStorage = () => {
    storage().catch(() => {});
    trends().catch((e) => { document.getElementById('trends-file').textContent = e.message; });
  };
  refreshStorage();
  setInterval(refreshStorage, 5000);
  const loaders = {
    'file-transfer': async () => {
      try {
        const text = await bcpm.api('GET', '/api/files/bdt.ini');
        document.getElementById('bdt-current').textContent = text;
      } catch (e) {
        document.getElementById('bdt-current').textContent = '(none: ' + e.message + ')';
      }
    },
    'user-management': async () => {
      const t = await bcpm.api('GET', '/api/metrics-token');
      document.getElementById('token-status').textContent = t.configured ? 'a token is set' : 'no token';
    },
    storage,
    'audit-log': async () => {
      const a = await bcpm.api('GET', '/api/audit?limit=200');
      const tbody = document.querySelector('#audit tbody');
      tbody.textContent = '';
      for (const e of a.entries.reverse()) {
        tbody.append(bcpm.el('tr', {}, bcpm.el('td', {}, new Date(e.time * 1000).toISOString().replace('.000', '')),
          bcpm.el('td', {}, e.user), bcpm.el('td', {}, e.client), bcpm.el('td', {}, e.action),
          bcpm.el('td', {}, e.detail)));
      }
    },
  };
  const show = () => {
    const id = sections.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'file-transfer';
    for (const s of sections) document.getElementById(s).classList.toggle('hidden', s !== id);
    for (const a of document.querySelectorAll('.tree a[data-section]')) {
      a.setAttribute('aria-current', a.dataset.section === id ? 'true' : 'false');
    }
    if (loaders[id]) loaders[id]().catch((e) => bcpm.message(e.message, 'error'));
  };
  window.addEventListener('hashchange', show);
  show();

  document.getElementById('file-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = document.getElementById('file').files[0];
    if (!f) return;
    const form = new FormData();
    form.append('file', f, f.name);
    try {
      const r = await bcpm.api('POST', '/api/files/general', form);
      bcpm.message(r.message, 'info');
      loaders['file-transfer']();
    } catch (e) {
      bcpm.message(e.message, 'error');
    }
  });

  for (const b of document.querySelectorAll('#user-management [data-tab]')) {
    b.addEventListener('click', () => {
      for (const o of document.querySelectorAll('#user-management [data-tab]')) {
        o.setAttribute('aria-selected', o === b ? 'true' : 'false');
        document.getElementById(o.dataset.tab).classList.toggle('hidden', o !== b);
      }
    });
  }
  document.getElementById('pw-tab').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await bcpm.api('POST', '/api/password', {
        current: document.getElementById('pw-current').value,
        password: document.getElementById('pw-new').value,
        confirm: document.getElementById('pw-confirm').value,
      });
      bcpm.message(r.message + ' Log out and log in again with the new password to confirm it.', 'info');
      const warn = document.getElementById('initial-password');
      if (warn) warn.remove();
      ev.target.reset();
    } catch (e) {
      bcpm.message(e.message, 'error');
    }
  });
  document.getElementById('token-new').addEventListener('click', async () => {
    try {
      const r = await bcpm.api('POST', '/api/metrics-token');
      document.getElementById('token-value').textContent = r.token;
      document.getElementById('token-status').textContent = 'a token is set';
    } catch (e) {
      bcpm.message(e.message, 'error');
    }
  });
})();
