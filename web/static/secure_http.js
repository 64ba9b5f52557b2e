// Protected HTTP, the browser's side (the guide's "HTTP with built-in payload
// encryption"; the protocol is in docs/web.md, the meter's side in
// src/web/scram.hpp). Plain HTTP from another host is not a secure context, so
// there is no WebCrypto: the hashes and the cipher are @noble/hashes and
// @noble/ciphers, served by the meter as ES modules under /static/noble/.
//
//  - login(): the SCRAM-SHA-256 challenge login. The password never leaves
//    the page; the meter's signature is checked (it must know the keys too).
//  - secureFetch(): fetch() for changes: adds X-Integrity and X-Integrity-Seq
//    (HMAC of method, target, sequence number and the body's SHA-256 under the
//    session key), seals the passwords of POST /api/password, and forgets the
//    key at logout. Without a session key it is fetch() itself.
//
// The session key and the last sequence number live in localStorage (one
// session for all tabs of the meter, as the cookie is).
import { hmac } from './noble/hashes/hmac.js';
import { pbkdf2Async } from './noble/hashes/pbkdf2.js';
import { sha256 } from './noble/hashes/sha2.js';
import { chacha20poly1305 } from './noble/ciphers/chacha.js';

const STORE = 'bcpm.secure';
const PASSWORD_AAD = 'openbcpm password change';
const utf8 = (s) => new TextEncoder().encode(s);

function b64(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
function unb64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
function unhex(text) {
  return Uint8Array.from(text.match(/../g) || [], (h) => parseInt(h, 16));
}
function equal(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; ++i) d |= a[i] ^ b[i];
  return d === 0;
}
const saslname = (u) => u.replace(/=/g, '=3D').replace(/,/g, '=2C');

function load() {
  try {
    const s = JSON.parse(localStorage.getItem(STORE));
    return s && typeof s.key === 'string' && s.key.length === 64 ? s : null;
  } catch (e) {
    return null;
  }
}
function save(state) { localStorage.setItem(STORE, JSON.stringify(state)); }
export function forget() { localStorage.removeItem(STORE); }
export function hasKey() { return load() !== null; }

async function postJson(path, body) {
  const res = await fetch(path, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = new Error(data.error || res.statusText);
    e.status = res.status;
    e.retry = !!data.retry;
    throw e;
  }
  return data;
}

// The challenge login; resolves to the meter's login answer ({next, csrf, ...}).
export async function login(username, password) {
  for (let attempt = 0; ; ++attempt) {
    try {
      return await loginOnce(username, password);
    } catch (e) {
      // A challenge that expired or was pushed out by others: once more.
      if (!e.retry || attempt > 0) throw e;
    }
  }
}

async function loginOnce(username, password) {
  forget();
  const clientNonce = b64(crypto.getRandomValues(new Uint8Array(18)));
  const ch = await postJson('/api/login/challenge', { username, client_nonce: clientNonce });
  const salted = await pbkdf2Async(sha256, utf8(password), unb64(ch.salt), { c: ch.iterations, dkLen: 32 });
  const clientKey = hmac(sha256, salted, utf8('Client Key'));
  const storedKey = sha256(clientKey);
  const serverKey = hmac(sha256, salted, utf8('Server Key'));
  const auth = `n=${saslname(username)},r=${clientNonce},r=${ch.nonce},s=${ch.salt},i=${ch.iterations},` +
    `c=biws,r=${ch.nonce}`;
  const signature = hmac(sha256, storedKey, utf8(auth));
  const proof = clientKey.map((b, i) => b ^ signature[i]);
  const res = await postJson('/api/login/proof', { username, nonce: ch.nonce, proof: b64(proof) });
  // Mutual authentication: only a meter that holds this password's keys can sign.
  if (!res.server_signature || !equal(unb64(res.server_signature), hmac(sha256, serverKey, utf8(auth)))) {
    throw new Error('The meter could not prove that it knows the password: this may not be your meter.');
  }
  const key = hmac(sha256, clientKey, utf8('openbcpm session key,' + auth));
  save({ key: hex(key), seq: 0 });
  return res;
}

function seal(key, plaintext) {
  const k = hmac(sha256, key, utf8('openbcpm seal key'));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const data = chacha20poly1305(k, nonce, utf8(PASSWORD_AAD)).encrypt(utf8(plaintext));
  return { nonce: b64(nonce), data: b64(data) };
}

function tag(key, method, target, seq, body) {
  const k = hmac(sha256, key, utf8('openbcpm integrity key'));
  return hex(hmac(sha256, k, utf8(`openbcpm integrity\n${method}\n${target}\n${seq}\n${hex(sha256(body))}`)));
}

// fetch() with the integrity tag (and the sealed passwords) of protected HTTP.
export async function secureFetch(path, opts = {}) {
  const method = (opts.method || 'GET').toUpperCase();
  const state = load();
  if (!state || method === 'GET' || method === 'HEAD') return fetch(path, opts);
  const key = unhex(state.key);
  const url = new URL(path, location.href);
  const headers = new Headers(opts.headers || {});
  let body = opts.body;
  if (url.pathname === '/api/password' && typeof body === 'string') {
    body = JSON.stringify({ sealed: seal(key, body) });
  }
  // The exact bytes that go out: a form is serialised here, with its boundary.
  let bytes;
  if (body === undefined || body === null) {
    bytes = new Uint8Array(0);
  } else if (typeof body === 'string') {
    bytes = utf8(body);
  } else {
    const req = new Request(url, { method, body });
    bytes = new Uint8Array(await req.arrayBuffer());
    const type = req.headers.get('Content-Type');
    if (type) headers.set('Content-Type', type);
  }
  const target = url.pathname + url.search;
  for (let attempt = 0; ; ++attempt) {
    const now = load() || state;
    now.seq += 1;
    save(now);
    headers.set('X-Integrity-Seq', String(now.seq));
    headers.set('X-Integrity', tag(key, method, target, now.seq, bytes));
    const res = await fetch(url, { ...opts, method, headers, body: bytes, credentials: 'same-origin' });
    if (res.status === 403 && attempt === 0) {
      // Another tab of the same session went further: catch up and send once more
      // (a refused request changed nothing).
      const data = await res.clone().json().catch(() => ({}));
      if (data.integrity === 'replayed' && Number.isSafeInteger(data.last_seq)) {
        save({ key: now.key, seq: Math.max(now.seq, data.last_seq) });
        continue;
      }
    }
    if (url.pathname === '/api/logout' && res.ok) forget();
    if (res.status === 401) forget();
    return res;
  }
}
