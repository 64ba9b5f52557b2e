'use strict';
(async () => {
  await bcpm.init('/network');
  const n = await bcpm.api('GET', '/api/network');
  for (const k of ['ip_address', 'netmask', 'default_gateway', 'web_port']) document.getElementById(k).value = n[k];
  document.getElementById('network').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await bcpm.api('POST', '/api/network', {
        ip_address: document.getElementById('ip_address').value,
        netmask: document.getElementById('netmask').value,
        default_gateway: document.getElementById('default_gateway').value,
        web_port: Number(document.getElementById('web_port').value),
      });
      bcpm.message(r.message, 'warn');
    } catch (e) {
      bcpm.message(e.message, 'error');
    }
  });
})();
