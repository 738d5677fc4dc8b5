import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1PodStatus } from '@kubernetes/client-node';
import { PodKind, type Pod } from '../objects/core.js';
import { decodeObject } from '../objects/decode.js';
import { benchClientPod, clientOutcome, renderBenchmark } from './benchmarkPlan.js';

const clientPod = (status: V1PodStatus): Pod => decodeObject(PodKind, { metadata: { name: 'client-cluster2', namespace: 'ns' }, status });
const ended = (phase: 'Succeeded' | 'Failed', exitCode: number, message?: string): Pod =>
  clientPod({ phase, containerStatuses: [{ name: 'bench', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, ...(message ? { message } : {}) } } }] });
const result = { target: '10.113.1.4', bitsPerSecond: 812_000_000, seconds: 5.01, rttMs: { min: 0.3, p50: 0.45, p99: 1.2 }, pings: 200 };

test('the client writes its result where the pod says its termination message is', () => {
  const pod = benchClientPod('ns', 'client-cluster2', 'ghcr.io/fleetboard-io/fleetboard:0.1.0', '10.113.1.4', 5);
  const c = pod.spec.containers[0];
  const command = c?.command ?? [];
  assert.equal(command[command.indexOf('--result-file') + 1], c?.terminationMessagePath);
  assert.equal(command[command.indexOf('--target') + 1], '10.113.1.4');
  assert.equal(pod.spec.restartPolicy, 'Never');
});

test('a finished client reads as its result; a failed one or one without a result as the reason', () => {
  assert.equal(clientOutcome(clientPod({ phase: 'Running' })), undefined);
  assert.deepEqual(clientOutcome(ended('Succeeded', 0, JSON.stringify(result))), { result });
  assert.deepEqual(clientOutcome(ended('Succeeded', 0)), { error: 'the client wrote no result to its termination message' });
  assert.deepEqual(clientOutcome(ended('Failed', 1, 'connect ECONNREFUSED')), { error: 'the client failed (exit 1): connect ECONNREFUSED' });
});

test('the table: rate, round trips and the same-cluster reference marked', () => {
  const text = renderBenchmark([
    { from: 'cluster1', to: 'cluster2', result },
    { from: 'cluster1', to: 'cluster1', result: { ...result, bitsPerSecond: 2_500_000_000 } },
    { from: 'cluster2', to: 'cluster1', result: undefined, error: 'the client pod did not finish within 120 s' },
  ]);
  assert.match(text, /^cluster1 +cluster2 +812 Mbit\/s +0\.45 ms +1\.2 ms +485\.0 MiB$/m);
  assert.match(text, /^cluster1 +cluster1 \(same cluster\) +2\.50 Gbit\/s/m);
  assert.match(text, /^cluster2 +cluster1 +failed +- +- +the client pod did not finish within 120 s$/m);
});
