import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectRetries } from './objectRetries.js';

test('each object backs off on its own, doubling from 1 s up to 5 min, and a success clears it', () => {
  let now = 0;
  const retries = new ObjectRetries(() => now);
  assert.equal(retries.nextRetryIn(), undefined);
  assert.equal(retries.failed('a', 'HTTP 422'), 1000);
  assert.equal(retries.failed('a', 'HTTP 422'), 2000);
  assert.equal(retries.failed('b', 'HTTP 403'), 1000);
  assert.equal(retries.waiting('a'), true);
  assert.equal(retries.waiting('c'), false, 'an object that never failed is handled');
  assert.equal(retries.nextRetryIn(), 1000, 'b falls due first');
  now = 1000;
  assert.equal(retries.waiting('b'), false, 'b is due');
  assert.equal(retries.waiting('a'), true, 'a still waits');
  assert.equal(retries.reason('a'), 'HTTP 422');
  for (let i = 0; i < 20; i++) retries.failed('a', 'again');
  assert.equal(retries.failed('a', 'again'), 300_000);
  retries.succeeded('b');
  assert.equal(retries.reason('b'), undefined);
  retries.keepOnly(new Set());
  assert.equal(retries.size, 0);
});
