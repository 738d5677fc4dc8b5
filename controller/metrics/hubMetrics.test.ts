import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TunnelHealth } from '../tunnel/tunnelHealth.js';
import { hubMetrics } from './hubMetrics.js';

const NOW = Date.parse('2025-01-01T12:00:00Z');

test('the hub reports leadership, members, each member\'s tunnel and join results', async () => {
  const now: { leading: boolean; members: number; tunnels: TunnelHealth[] } = { leading: false, members: 0, tunnels: [] };
  const metrics = hubMetrics(
    { leading: () => now.leading, members: () => now.members, tunnels: () => Promise.resolve(now.tunnels), tunnelReadFailed: () => undefined },
    () => NOW,
  );
  let text = await metrics.registry.metrics();
  assert.match(text, /^fleetboard_leader 0$/m);
  assert.match(text, /^fleetboard_hub_members 0$/m);
  for (const result of ['approved', 'refused', 'failed']) assert.match(text, new RegExp(`^fleetboard_hub_joins_total\\{result="${result}"\\} 0$`, 'm'));
  assert.doesNotMatch(text, /^fleetboard_tunnel_up\{/m);
  assert.match(text, /^fleetboard_hub_process_resident_memory_bytes \d+/m);

  now.leading = true;
  now.members = 2;
  now.tunnels = [
    { name: 'cluster1', kind: 'cluster', lastHandshake: new Date(NOW - 30_000), rxBytes: 10, txBytes: 20 },
    { name: 'cluster2', kind: 'cluster', lastHandshake: new Date(NOW - 181_000), rxBytes: 0, txBytes: 0 },
  ];
  metrics.joinHandled('approved');
  metrics.joinHandled('approved');
  metrics.joinHandled('refused');
  text = await metrics.registry.metrics();
  assert.match(text, /^fleetboard_leader 1$/m);
  assert.match(text, /^fleetboard_hub_members 2$/m);
  assert.match(text, /^fleetboard_hub_joins_total\{result="approved"\} 2$/m);
  assert.match(text, /^fleetboard_hub_joins_total\{result="refused"\} 1$/m);
  assert.match(text, /^fleetboard_tunnel_up\{peer="cluster1",kind="cluster"\} 1$/m);
  assert.match(text, /^fleetboard_tunnel_up\{peer="cluster2",kind="cluster"\} 0$/m);
  assert.match(text, /^fleetboard_tunnel_last_handshake_seconds\{peer="cluster2",kind="cluster"\} 181$/m);
});
