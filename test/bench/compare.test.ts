import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, median, summarize } from './compare.js';
import type { PathMeasurement } from './measure.js';

const path = (throughputBitsPerSecond: number, rttAvgMs: number) => ({ throughputBitsPerSecond, rttAvgMs });
const round = (throughputBitsPerSecond: number, avgMs: number): PathMeasurement => ({
  throughputBitsPerSecond,
  rtt: { minMs: avgMs / 2, avgMs, maxMs: avgMs * 2, mdevMs: 0.1, loss: 0 },
});

test('throughput ratio is FleetBoard over the reference; added RTT is the average difference per hop', () => {
  assert.deepEqual(compare(path(2e9, 0.5), path(5e8, 1.5), 2), { throughputRatio: 0.25, addedRttMsPerHop: 0.5 });
});

test('the same added RTT over more hops is less per hop', () => {
  assert.equal(compare(path(1e9, 1), path(1e9, 4), 1).addedRttMsPerHop, 3);
  assert.equal(compare(path(1e9, 1), path(1e9, 4), 4).addedRttMsPerHop, 0.75);
});

test('a faster FleetBoard path shows as a ratio above 1 and a negative added RTT', () => {
  assert.deepEqual(compare(path(1e9, 2), path(1.5e9, 1), 2), { throughputRatio: 1.5, addedRttMsPerHop: -0.5 });
});

test('hops below 1 or a reference without throughput cannot be compared', () => {
  assert.throws(() => compare(path(1e9, 1), path(1e9, 1), 0), { code: 'BAD_OPTION' });
  assert.throws(() => compare(path(1e9, 1), path(1e9, 1), 1.5), { code: 'BAD_OPTION' });
  assert.throws(() => compare(path(0, 1), path(1e9, 1), 1), { code: 'BAD_OPTION' });
});

test('rounds are summarized by their medians, so one disturbed round does not decide', () => {
  assert.deepEqual(summarize([round(9e8, 1.0), round(2e8, 6.0), round(8e8, 1.2)]), { throughputBitsPerSecond: 8e8, rttAvgMs: 1.2 });
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), { code: 'BAD_OPTION' });
});
