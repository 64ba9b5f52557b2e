// Starts and stops an openbcpm process for the browser tests: a fresh state
// directory, the embedded default panel with the web face on a free port
// (127.0.0.1 only), and the other faces off unless a test asks for them.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const binary = process.env.OPENBCPM_BIN || ['build-web', 'build']
  .map((d) => path.join(root, d, 'openbcpm')).find((p) => fs.existsSync(p));

// playwright-core comes from web/node_modules (npm ci in web/).
export const { chromium } = createRequire(path.join(root, 'web', 'package.json'))('playwright-core');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// faces: extra [faces] switches, e.g. { modbus_tcp: true }; ports for them are chosen here.
export async function startMeter({ faces = {}, extraConfig = '' } = {}) {
  if (!binary) throw new Error('no openbcpm binary: build it or set OPENBCPM_BIN');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openbcpm-web-e2e-'));
  const stateDir = path.join(dir, 'state');
  const port = await freePort();
  const modbusPort = await freePort();
  const snmpPort = await freePort();  // UDP: a free TCP port number, free for UDP on loopback as a rule
  let config = execFileSync(binary, ['config', '--default'], { encoding: 'utf8' });
  config = config.replace(/\[web\]\nport = \d+/, `[web]\nport = ${port}`)
    .replace(/\[modbus\]\ntcp_port = \d+/, `[modbus]\ntcp_port = ${modbusPort}`)
    .replace(/\[snmp\]\nport = \d+/, `[snmp]\nport = ${snmpPort}`)
    // The default's own [faces] block gives way to the switches below.
    .replace(/\[faces\]\n(?:[a-z_]+ = (?:true|false)\n)*/, '');
  const switches = { modbus_tcp: false, modbus_rtu: false, bacnet_ip: false, bacnet_mstp: false, snmp: false,
    web: true, ...faces };
  config += '\n[faces]\n' + Object.entries(switches).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n' + extraConfig;
  const configFile = path.join(dir, 'meter.toml');
  fs.writeFileSync(configFile, config);
  let child;
  let output = '';
  // Starts the process on the state directory and waits for its web face.
  const launch = async () => {
    child = spawn(binary, ['run', '--config', configFile, '--state-dir', stateDir],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const from = output.length;
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const deadline = Date.now() + 20000;
    while (!/web: listening on/.test(output.slice(from))) {
      if (child.exitCode !== null) throw new Error('openbcpm exited:\n' + output);
      if (Date.now() > deadline) throw new Error('openbcpm did not start:\n' + output);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await launch();
  const meter = {
    dir, stateDir, port, modbusPort, snmpPort,
    get child() { return child; },
    output: () => output,
    initialPassword: () => fs.readFileSync(path.join(stateDir, 'initial-admin-password'), 'utf8').trim(),
    http: `http://127.0.0.1:${port}`,
    https: `https://127.0.0.1:${port}`,
    // The process stopped (SIGTERM) and started again on the same state directory.
    async restart() {
      if (child.exitCode === null && child.signalCode === null) {  // still running
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      await launch();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {  // still running
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return meter;
}

// A JSON API call from a logged-in page (its session cookie and CSRF token):
// {status, type, body}, body parsed when the answer is JSON.
export async function pageApi(page, method, url, body) {
  return page.evaluate(async ({ method, url, body }) => {
    const s = await (await fetch('/api/session')).json();
    const r = await fetch(url, { method, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf },
      body: body ? JSON.stringify(body) : undefined });
    const type = r.headers.get('Content-Type') || '';
    return { status: r.status, type, body: type.startsWith('application/json') ? await r.json() : await r.text() };
  }, { method, url, body });
}

export async function launchBrowser() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openbcpm-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    ignoreHTTPSErrors: true,  // the meter's self-signed certificate
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// Screenshots go to docs/screenshots when OPENBCPM_SCREENSHOTS=1 (to refresh the
// committed ones), else to a temporary directory that removeScreenshots() takes away.
const keepScreenshots = process.env.OPENBCPM_SCREENSHOTS === '1';
export const screenshotDir = keepScreenshots
  ? path.join(root, 'docs', 'screenshots')
  : fs.mkdtempSync(path.join(os.tmpdir(), 'openbcpm-shots-'));
export function removeScreenshots() {
  if (!keepScreenshots) fs.rmSync(screenshotDir, { recursive: true, force: true });
}
