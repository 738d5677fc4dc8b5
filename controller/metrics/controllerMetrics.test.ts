import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TunnelHealth } from '../tunnel/tunnelHealth.js';
import type { ConditionVerdict } from '../mcs/exportValidity.js';
import { controllerMetrics, type ControllerMetricSources } from './controllerMetrics.js';

const NOW = Date.parse('2025-01-01T12:00:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000);
const verdict = (type: string, status: 'True' | 'False'): ConditionVerdict => ({ type, status, reason: 'R', message: 'm' });

function sources(overrides: Partial<ControllerMetricSources> = {}): ControllerMetricSources {
  return { pool: () => undefined, leading: () => false, tunnels: () => Promise.resolve([]), tunnelReadFailed: () => undefined, exports: () => [], imports: () => 0, ...overrides };
}

test('tunnels: up within 180 s of the last handshake, down after it or before the first; age and bytes per peer', async () => {
  const tunnels: TunnelHealth[] = [
    { name: 'node-2', kind: 'node', lastHandshake: ago(10), rxBytes: 1500, txBytes: 900 },
    { name: 'hub', kind: 'hub', lastHandshake: ago(200), rxBytes: 42, txBytes: 7 },
    { name: 'cluster2', kind: 'cluster', lastHandshake: undefined, rxBytes: 0, txBytes: 148 },
  ];
  let reads = 0;
  const { registry } = controllerMetrics(
    sources({
      tunnels: () => {
        reads += 1;
        return Promise.resolve(tunnels);
      },
    }),
    () => NOW,
  );
  const text = await registry.metrics();
  assert.match(text, /^fleetboard_tunnel_up\{peer="node-2",kind="node"\} 1$/m);
  assert.match(text, /^fleetboard_tunnel_up\{peer="hub",kind="hub"\} 0$/m);
  assert.match(text, /^fleetboard_tunnel_up\{peer="cluster2",kind="cluster"\} 0$/m);
  assert.match(text, /^fleetboard_tunnel_last_handshake_seconds\{peer="node-2",kind="node"\} 10$/m);
  assert.match(text, /^fleetboard_tunnel_last_handshake_seconds\{peer="hub",kind="hub"\} 200$/m);
  assert.doesNotMatch(text, /^fleetboard_tunnel_last_handshake_seconds\{peer="cluster2"/m);
  assert.match(text, /^fleetboard_tunnel_receive_bytes_total\{peer="node-2",kind="node"\} 1500$/m);
  assert.match(text, /^fleetboard_tunnel_transmit_bytes_total\{peer="cluster2",kind="cluster"\} 148$/m);
  assert.match(text, /^# TYPE fleetboard_tunnel_receive_bytes_total counter$/m);
  assert.equal(reads, 1, 'one device read serves the whole scrape');

  // Counters are the device's values, not sums over scrapes.
  tunnels[0] = { name: 'node-2', kind: 'node', lastHandshake: ago(10), rxBytes: 3000, txBytes: 900 };
  assert.match(await registry.metrics(), /^fleetboard_tunnel_receive_bytes_total\{peer="node-2",kind="node"\} 3000$/m);
  assert.equal(reads, 2);
});

test('a device that cannot be read shows no tunnels and is reported once per scrape; the rest is still served', async () => {
  const failures: unknown[] = [];
  const { registry } = controllerMetrics(sources({ tunnels: () => Promise.reject(new Error('no device')), tunnelReadFailed: (err) => failures.push(err), leading: () => true }));
  const text = await registry.metrics();
  assert.doesNotMatch(text, /^fleetboard_tunnel_\w+\{/m);
  assert.match(text, /^fleetboard_leader 1$/m);
  assert.equal(failures.length, 1);
});

test('pod setup: each answer to an address request lands in the histogram by result', async () => {
  const metrics = controllerMetrics(sources());
  let text = await metrics.registry.metrics();
  assert.match(text, /^fleetboard_pod_setup_seconds_count\{result="ok"\} 0$/m, 'both results show from the start');
  assert.match(text, /^fleetboard_pod_setup_seconds_count\{result="error"\} 0$/m);
  metrics.podSetupDone(0.004, 'ok');
  metrics.podSetupDone(0.3, 'ok');
  metrics.podSetupDone(2.5, 'error');
  text = await metrics.registry.metrics();
  assert.match(text, /^fleetboard_pod_setup_seconds_bucket\{le="0\.005",result="ok"\} 1$/m);
  assert.match(text, /^fleetboard_pod_setup_seconds_bucket\{le="0\.5",result="ok"\} 2$/m);
  assert.match(text, /^fleetboard_pod_setup_seconds_count\{result="ok"\} 2$/m);
  assert.match(text, /^fleetboard_pod_setup_seconds_sum\{result="ok"\} 0\.304$/m);
  assert.match(text, /^fleetboard_pod_setup_seconds_bucket\{le="2",result="error"\} 0$/m);
  assert.match(text, /^fleetboard_pod_setup_seconds_bucket\{le="5",result="error"\} 1$/m);
});

test('exports by condition and status, and imports: 0 off the leader, counted on it', async () => {
  const now: { exports: ConditionVerdict[][]; imports: number } = { exports: [], imports: 0 };
  const { registry } = controllerMetrics(sources({ exports: () => now.exports, imports: () => now.imports }));
  let text = await registry.metrics();
  for (const condition of ['Valid', 'Ready', 'Conflict']) for (const status of ['True', 'False']) assert.match(text, new RegExp(`^fleetboard_exports\\{condition="${condition}",status="${status}"\\} 0$`, 'm'));
  assert.match(text, /^fleetboard_imports 0$/m);

  now.exports = [
    [verdict('Valid', 'True'), verdict('Ready', 'True'), verdict('Conflict', 'False')],
    [verdict('Valid', 'True'), verdict('Ready', 'False'), verdict('Conflict', 'False')],
    [verdict('Valid', 'False')],
  ];
  now.imports = 4;
  text = await registry.metrics();
  assert.match(text, /^fleetboard_exports\{condition="Valid",status="True"\} 2$/m);
  assert.match(text, /^fleetboard_exports\{condition="Valid",status="False"\} 1$/m);
  assert.match(text, /^fleetboard_exports\{condition="Ready",status="True"\} 1$/m);
  assert.match(text, /^fleetboard_exports\{condition="Conflict",status="False"\} 2$/m);
  assert.match(text, /^fleetboard_exports\{condition="Conflict",status="True"\} 0$/m);
  assert.match(text, /^fleetboard_imports 4$/m);

  // Leadership lost: the counts go back to 0 rather than keeping the last leader's.
  now.exports = [];
  now.imports = 0;
  text = await registry.metrics();
  assert.match(text, /^fleetboard_exports\{condition="Valid",status="True"\} 0$/m);
  assert.match(text, /^fleetboard_imports 0$/m);
});
