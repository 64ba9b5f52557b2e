'use strict';
document.getElementById('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = document.getElementById('msg');
  msg.className = 'msg';
  msg.textContent = '';
  // Over plain HTTP the password never crosses the wire: the challenge login
  // of protected HTTP (secure_http.js).
  if (location.protocol === 'http:') {
    try {
      const secure = await import('/static/secure_http.js');
      const data = await secure.login(document.getElementById('username').value,
        document.getElementById('password').value);
      location.href = data.next || '/';
    } catch (e) {
      msg.className = 'msg error';
      msg.textContent = e.message;
    }
    return;
  }
  const res = await fetch('/api/login', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      username: document.getElementById('username').value,
      password: document.getElementById('password').value,
    }),
  });
  const data = await res.json();
  if (!res.ok) {
    msg.className = 'msg error';
    msg.textContent = data.error || res.statusText;
    return;
  }
  location.href = data.next || '/';
});
