'use strict';
// The HTTPS button points at the same host and port over TLS.
document.getElementById('use-https').href = 'https://' + location.host + '/login';
document.getElementById('use-http').href = 'http://' + location.host + '/login';
if (location.protocol === 'https:') document.getElementById('use-http').classList.add('hidden');
