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
  const profiles = document.querySelector('#profiles tbody');
  for (const a of data.profiles) {
    profiles.append(bcpm.el('tr', {}, bcpm.el('td', {}, a.number), bcpm.el('td', {}, a.node_id),
      bcpm.el('td', {}, a.profile)));
  }
})();
