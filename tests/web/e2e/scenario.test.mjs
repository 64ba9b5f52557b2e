// The embedded default starts clean and scenarios/events.toml raises its
// events at the times its table says: `openbcpm simulate` (as fast as it
// can, the same simulator and event engine as `run`) then the meter's state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { binary, root } from './meter.mjs';

function simulate(seconds, config) {
  const args = ['simulate', '--seconds', String(seconds), '--json'];
  if (config) args.push('--config', config);
  return JSON.parse(execFileSync(binary, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
}

// "panel/channel": status, and "panel/ab": status, of everything not zero.
function active(state) {
  const out = {};
  for (const p of state.panels) {
    for (const c of p.channels) if (c.event_status) out[`${p.panel}/${c.channel}`] = c.event_status;
    ['ab', 'bc', 'ca'].forEach((v, i) => { if (p.events.voltage_status[i]) out[`${p.panel}/${v}`] = p.events.voltage_status[i]; });
  }
  return out;
}

test('the embedded default has no event active 30 s and 10 minutes after start', () => {
  assert.deepEqual(active(simulate(30)), {});
  assert.deepEqual(active(simulate(600)), {});
});

test('scenarios/events.toml: a trip, an overload, a sag and a swell at their times', () => {
  const file = path.join(root, 'scenarios', 'events.toml');
  // 15 s: nothing yet.
  assert.deepEqual(active(simulate(15, file)), {});
  // 25 s: panel 1 channel 10 tripped at 20 s: non-latching low at once.
  assert.deepEqual(active(simulate(25, file)), { '1/10': 0x200 });
  // 65 s: its L and LL latched at ~30, OFF at ~50; channel 12 at 65 % since 40: H at ~50;
  // the sag since 60: under-voltage (non-latching) on every L-L voltage of both panels.
  const uv = 0x200;
  assert.deepEqual(active(simulate(65, file)), {
    '1/10': 0x21c, '1/12': 0x102,
    '1/ab': uv, '1/bc': uv, '1/ca': uv, '2/ab': uv, '2/bc': uv, '2/ca': uv,
  });
  // 105 s: the sag latched at ~70 and ended at 80; panel 2 channel 5 at 75 % since 90: H and HH.
  assert.deepEqual(active(simulate(105, file)), {
    '1/10': 0x21c, '1/12': 0x102, '2/5': 0x103,
    '1/ab': 2, '1/bc': 2, '1/ca': 2, '2/ab': 2, '2/bc': 2, '2/ca': 2,
  });
  // 175 s: channel 10 restored at 120 (its latches stay); the swell of phase A from 150
  // to 170 latched over-voltage on AB and CA at ~160.
  const ov = 0x1;
  assert.deepEqual(active(simulate(175, file)), {
    '1/10': 0x1c, '1/12': 0x102, '2/5': 0x103,
    '1/ab': 2 | ov, '1/bc': 2, '1/ca': 2 | ov, '2/ab': 2 | ov, '2/bc': 2, '2/ca': 2 | ov,
  });
});
