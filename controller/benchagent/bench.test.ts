import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runClient } from './client.js';
import { quantile } from './protocol.js';
import { benchServer } from './server.js';

test('client against server on loopback: the server counts what it received, and every ping comes back', async () => {
  const server = benchServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const r = await runClient('127.0.0.1', port, 0.3, 50);
    assert.equal(r.pings, 50);
    assert.ok(r.bitsPerSecond > 1e6, `at least 1 Mbit/s on loopback: ${r.bitsPerSecond}`);
    assert.ok(r.seconds >= 0.3);
    assert.ok(r.rttMs.min > 0 && r.rttMs.min <= r.rttMs.p50 && r.rttMs.p50 <= r.rttMs.p99, JSON.stringify(r.rttMs));
    assert.ok(JSON.stringify(r).length < 4096, 'fits a termination message');
  } finally {
    server.close();
  }
});

test('nothing listening: the client fails with the reason', async () => {
  const server = benchServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  await assert.rejects(runClient('127.0.0.1', port, 0.1, 1), /ECONNREFUSED/);
});

test('quantiles by nearest rank', () => {
  const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(quantile(v, 0.5), 5);
  assert.equal(quantile(v, 0.99), 10);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});
