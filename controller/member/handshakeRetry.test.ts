import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HandshakeRetry } from './handshakeRetry.js';

const dialled = new Set(['hub', 'c2']);
const never = () => undefined;

test('a new peer without a handshake is dialled again after 1, 2 and 4 s more, then left to WireGuard', () => {
  const retry = new HandshakeRetry();
  retry.expect(['hub'], 0);
  assert.deepEqual(retry.due(dialled, never, 999), []);
  assert.deepEqual(retry.due(dialled, never, 1000), ['hub']);
  assert.deepEqual(retry.due(dialled, never, 2999), []);
  assert.deepEqual(retry.due(dialled, never, 3000), ['hub']);
  assert.deepEqual(retry.due(dialled, never, 7000), ['hub']);
  assert.equal(retry.waiting, false);
  assert.deepEqual(retry.due(dialled, never, 60_000), []);
});

test('a handshake newer than the configuration ends the wait; an older one does not count', () => {
  const retry = new HandshakeRetry();
  retry.expect(['hub', 'c2'], 10_000);
  const handshakes = new Map([['hub', 10_400], ['c2', 9_000]]);
  assert.deepEqual(retry.due(dialled, (k) => handshakes.get(k), 11_000), ['c2'], 'c2\'s handshake predates the new configuration');
  handshakes.set('c2', 11_500);
  assert.deepEqual(retry.due(dialled, (k) => handshakes.get(k), 20_000), []);
  assert.equal(retry.waiting, false);
});

test('a peer that is no longer dialled is forgotten; expecting again restarts its count', () => {
  const retry = new HandshakeRetry();
  retry.expect(['c2'], 0);
  assert.deepEqual(retry.due(new Set(['hub']), never, 5000), []);
  assert.equal(retry.waiting, false);
  retry.expect(['hub'], 0);
  retry.due(dialled, never, 1000);
  retry.expect(['hub'], 1500);
  assert.deepEqual(retry.due(dialled, never, 2000), []);
  assert.deepEqual(retry.due(dialled, never, 2500), ['hub']);
});
