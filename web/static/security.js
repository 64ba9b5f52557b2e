'use strict';
(async () => {
  await bcpm.init('/security');
  const state = await bcpm.api('GET', '/api/security');
  // The guide's three modes; plain HTTP besides them only when the configuration allows it.
  if (!state.plain_http_allowed) document.getElementById('mode-http').closest('label').remove();
  if (state.mode === 'http') {
    bcpm.message('Plain HTTP: the password crosses the network in clear ([web] allow_plain_http = true). ' +
      'Choose HTTPS or HTTP with built-in payload encryption.', 'warn');
  }
  if (!state.configured) {
    document.getElementById('title').textContent = 'Web server security is not configured';
    bcpm.message('Choose the mode the web server runs in. Read each choice carefully before you save.', 'warn');
  } else {
    const radio = document.querySelector(`input[name=mode][value="${state.mode}"]`);
    if (radio) radio.checked = true;
  }
  const own = document.getElementById('own-fields');
  const sync = () => own.classList.toggle('hidden', !document.getElementById('mode-own').checked);
  for (const r of document.querySelectorAll('input[name=mode]')) r.addEventListener('change', sync);
  sync();
  const tbody = document.querySelector('#cert tbody');
  for (const [k, v] of [['Subject', state.certificate.subject], ['Issuer', state.certificate.issuer],
    ['Valid from', state.certificate.not_before], ['Valid until', state.certificate.not_after],
    ['SHA-256', state.certificate.sha256]]) {
    tbody.append(bcpm.el('tr', {}, bcpm.el('th', { scope: 'row' }, k), bcpm.el('td', {}, v)));
  }
  document.getElementById('security').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const mode = document.querySelector('input[name=mode]:checked');
    if (!mode) { bcpm.message('Choose a mode.', 'error'); return; }
    const form = new FormData();
    form.append('mode', mode.value);
    if (mode.value === 'https-own') {
      const cert = document.getElementById('certificate').files[0];
      const key = document.getElementById('private_key').files[0];
      if (cert) form.append('certificate', cert, cert.name);
      if (key) form.append('private_key', key, key.name);
      form.append('passphrase', document.getElementById('passphrase').value);
    }
    try {
      const r = await bcpm.api('POST', '/api/security', form);
      bcpm.message('Redirecting...', 'info');
      setTimeout(() => { location.href = r.redirect; }, 1200);
    } catch (e) {
      bcpm.message(e.message, 'error');
    }
  });
})();
