import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { ConfigMapKind, type ConfigMap } from '../objects/core.js';
import { EndpointSliceKind, type EndpointSlice } from '../objects/discovery.js';
import { ResilientWatch } from './resilientWatch.js';

/** An apiserver nobody answers at: only the list function decides what the watch gets. */
function nowhere(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
  return kc;
}

test('synced only once a list was delivered: a start whose list failed resolves, but is not synced', async (t) => {
  let fail = true;
  const list = () => (fail ? Promise.reject(new Error('apiserver unavailable')) : Promise.resolve({ items: [] as V1ConfigMap[], metadata: { resourceVersion: '1' } }));
  const watch = new ResilientWatch<ConfigMap>(nowhere(), '/api/v1/configmaps', ConfigMapKind, list, { upsert: () => undefined, remove: () => undefined }, () => undefined);
  t.after(() => watch.stop());
  const synced = () => watch.synced;
  await watch.start();
  assert.equal(synced(), false);
  fail = false;
  // The retry after the failed list (backoff 1 s) delivers it.
  for (let i = 0; i < 40 && !synced(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(synced(), true);
});

test('each listed object is decoded: one the API sent without an endpoint list is cached with none, one that cannot be read is left out, reported and not counted as gone', async (t) => {
  const slice = (name: string, extra: object) => ({ metadata: { name, namespace: 'default', resourceVersion: '1' }, ...extra });
  const items = [slice('empty', { addressType: 'IPv4', endpoints: null }), slice('unreadable', { endpoints: [] }), slice('full', { addressType: 'IPv4', endpoints: [{ addresses: ['10.112.1.5'] }] })];
  const seen: string[] = [];
  const logged: string[] = [];
  const watch = new ResilientWatch<EndpointSlice>(
    nowhere(),
    '/apis/discovery.k8s.io/v1/endpointslices',
    EndpointSliceKind,
    () => Promise.resolve({ items: items as never[], metadata: { resourceVersion: '1' } }),
    { upsert: (s) => seen.push(`upsert ${s.metadata.name}`), remove: (s) => seen.push(`remove ${s.metadata.name}`), invalid: (u) => seen.push(`invalid ${u.name} (uid ${u.metadata?.uid ?? 'none'})`) },
    (m) => logged.push(m),
  );
  t.after(() => watch.stop());
  await watch.start();
  assert.deepEqual(seen, ['upsert empty', 'invalid unreadable (uid none)', 'upsert full']);
  assert.deepEqual(
    watch.cached().map((s) => [s.metadata.name, s.endpoints.length]),
    [
      ['empty', 0],
      ['full', 1],
    ],
  );
  assert.deepEqual(
    watch.unreadable().map((u) => [u.namespace, u.name, u.error.code]),
    [['default', 'unreadable', 'INVALID_OBJECT']],
  );
  assert.match(logged.find((m) => m.includes('unreadable')) ?? '', /EndpointSlice default\/unreadable cannot be read: addressType: .*; fix or delete it; it is left out until it changes/);
});
