import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { canonicalJson, objectPlan } from './objectPlan.js';

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

test('an object the server returns with its maps and fields in another order, and without the empty maps we wrote, is unchanged, and one with a changed value is not', () => {
  type Import = { metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: object };
  const written: Import = { metadata: { name: 'web', annotations: {}, labels: { 'multicluster.kubernetes.io/service-name': 'web', 'fleetboard.io/service-namespace': 'default' } }, spec: { type: 'ClusterSetIP', ports: [{ name: 'http', port: 80 }], ips: ['10.112.240.1'] } };
  // As the apiserver returns a custom resource: keys sorted, and a field the client library left undefined.
  const returned: Import = { metadata: { labels: { 'fleetboard.io/service-namespace': 'default', 'multicluster.kubernetes.io/service-name': 'web' }, name: 'web' }, spec: { ips: ['10.112.240.1'], ports: [{ port: 80, name: 'http', appProtocol: undefined }], type: 'ClusterSetIP' } };
  const specOf = (o: Import) => [o.metadata.labels, o.metadata.annotations, o.spec];
  assert.deepEqual(objectPlan([written], [returned], specOf).update, []);
  assert.equal(canonicalJson(returned), canonicalJson(written));
  const moved: Import = { ...returned, spec: { ...returned.spec, ips: ['10.112.240.2'] } };
  assert.deepEqual(objectPlan([written], [moved], specOf).update, [written]);
});
