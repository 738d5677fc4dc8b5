import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
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
  const watch = new ResilientWatch<V1ConfigMap>(nowhere(), '/api/v1/configmaps', list, { upsert: () => undefined, remove: () => undefined }, () => undefined);
  t.after(() => watch.stop());
  const synced = () => watch.synced;
  await watch.start();
  assert.equal(synced(), false);
  fail = false;
  // The retry after the failed list (backoff 1 s) delivers it.
  for (let i = 0; i < 40 && !synced(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(synced(), true);
});
