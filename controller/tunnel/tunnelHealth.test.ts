import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handshakeFresh, tunnelHealth, type TunnelName } from './tunnelHealth.js';

test('a handshake is fresh for WireGuard\'s reject-after-time, 180 s', () => {
  const now = Date.parse('2025-01-01T12:00:00Z');
  assert.equal(handshakeFresh(new Date(now - 179_999), now), true);
  assert.equal(handshakeFresh(new Date(now - 180_000), now), false);
  assert.equal(handshakeFresh(new Date(now - 200_000), now), false);
});

test('the device\'s peers are named, never keyed; a peer nobody names is left out', () => {
  const names = new Map<string, TunnelName>([
    ['key-a', { name: 'node-2', kind: 'node' }],
    ['key-b', { name: 'hub', kind: 'hub' }],
  ]);
  const at = new Date('2025-01-01T11:59:00Z');
  const status = {
    listenPort: 51820,
    peers: [
      { publicKey: 'key-a', allowedIps: [], persistentKeepalive: 25, lastHandshake: at, rxBytes: 1, txBytes: 2 },
      { publicKey: 'key-b', allowedIps: [], persistentKeepalive: 25, rxBytes: 0, txBytes: 3 },
      { publicKey: 'key-gone', allowedIps: [], persistentKeepalive: 0, rxBytes: 9, txBytes: 9 },
    ],
  };
  assert.deepEqual(tunnelHealth(status, names), [
    { name: 'node-2', kind: 'node', lastHandshake: at, rxBytes: 1, txBytes: 2 },
    { name: 'hub', kind: 'hub', lastHandshake: undefined, rxBytes: 0, txBytes: 3 },
  ]);
});
