'use strict';
(async () => {
  await bcpm.init('/');
  const data = await bcpm.api('GET', '/api/parameters');
  document.getElementById('model').textContent = data.model;
  document.getElementById('serial').textContent = data.serial_number;
  const modes = { 1: 'BACnet MS/TP', 2: 'BACnet IP', 3: 'SNMP', 4: 'Modbus' };
  let note = `Protocol_Mode ${data.protocol_mode} (${modes[data.protocol_mode]}) is in effect.`;
  if (data.stored_protocol_mode !== data.protocol_mode) {
    note += ` Protocol_Mode ${data.stored_protocol_mode} is stored: restart the system to update the GUI selections.`;
  }
  document.getElementById('mode-note').textContent = note;
  const tbody = document.querySelector('#parameters tbody');
  for (const p of data.parameters) {
    const input = bcpm.el('input', { type: 'text', id: 'value-' + p.name, name: p.name, value: p.value,
      'aria-label': p.name + ' value' });
    const submit = bcpm.el('button', { type: 'submit', id: 'submit-' + p.name }, 'Submit');
    const form = bcpm.el('form', { class: 'value-cell', onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const r = await bcpm.api('POST', '/api/parameters', { name: p.name, value: input.value });
        input.value = r.value;
        bcpm.message(r.message, r.restart_required ? 'warn' : 'info');
      } catch (e) {
        bcpm.message(e.message, 'error');
      }
    } }, input, ' ', submit);
    tbody.append(bcpm.el('tr', { id: 'row-' + p.name }, bcpm.el('th', { scope: 'row' }, p.name),
      bcpm.el('td', {}, p.description), bcpm.el('td', {}, form)));
  }
  showProfiles(data.profiles);
})();

// Active profiles: one row per panel served on the primary protocol, its
// parameters there and a Remove button (used at System Restart; refused in
// Locked mode).
function showProfiles(p) {
  const tbody = document.querySelector('#profiles tbody');
  tbody.replaceChildren();
  for (const a of p.profiles) {
    let action;
    if (a.removed) {
      action = bcpm.el('span', { class: 'pending' }, 'Removed at System Restart');
    } else {
      action = bcpm.el('button', { type: 'button', class: 'secondary', id: 'remove-' + a.number,
        'aria-label': `Remove profile ${a.number} (node ${a.node_id})`, onclick: async () => {
          try {
            const r = await bcpm.api('POST', '/api/profiles/remove', { panel: a.number });
            showProfiles(r);
            bcpm.message(r.message, 'warn');
          } catch (e) {
            bcpm.message(e.message, 'error');
          }
        } }, 'Remove');
    }
    tbody.append(bcpm.el('tr', { id: 'profile-' + a.number }, bcpm.el('td', {}, a.number),
      bcpm.el('td', {}, a.node_id), bcpm.el('td', {}, a.profile), bcpm.el('td', {}, a.parameters),
      bcpm.el('td', {}, action)));
  }
  let note = p.stored_operating_mode === 0
    ? 'Operating_Mode is Locked: profile changes are disabled, and the profiles are kept at restart.'
    : 'Operating_Mode is Discovery: at System Restart every panel is discovered again (removed profiles come back).';
  if (p.not_served.length) {
    note += ` Not served on ${p.primary_protocol} (profile removed, Locked mode): panel ${p.not_served.join(', ')}.` +
      ' Set Operating_Mode to 1 (Discovery) and restart to discover it again.';
  }
  document.getElementById('profiles-note').textContent = note;
}
