import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { objectPlan } from './objectPlan.js';

const slice = (name: string, ip: string, ready = true): V1EndpointSlice => ({
  metadata: { name, labels: { 'multicluster.kubernetes.io/service-name': 'nginx-svc' } },
  addressType: 'IPv4',
  endpoints: [{ addresses: [ip], conditions: { ready, serving: ready, terminating: false } }],
  ports: [{ port: 80, protocol: 'TCP' }],
});

const content = (s: V1EndpointSlice) => [s.metadata?.labels, s.addressType, s.endpoints, s.ports];

test('only what differs is written: new slices created, changed ones updated, orphans removed', () => {
  const a = slice('a', '10.112.0.2');
  Object.assign(a.metadata ?? {}, { resourceVersion: '7', uid: 'u1' });
  const live = [a, slice('b', '10.112.0.3'), slice('gone', '10.112.0.9')];
  const plan = objectPlan([slice('a', '10.112.0.2'), slice('b', '10.112.0.3', false), slice('c', '10.112.0.4')], live, content);
  assert.deepEqual(plan.create.map((s) => s.metadata?.name), ['c']);
  assert.deepEqual(plan.update.map((s) => s.metadata?.name), ['b'], 'a differs only in server-set metadata');
  assert.deepEqual(plan.remove.map((s) => s.metadata?.name), ['gone']);
  assert.deepEqual(objectPlan([], [], content), { create: [], update: [], remove: [] });
});
