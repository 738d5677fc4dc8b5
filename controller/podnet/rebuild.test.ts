import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { PodKind, type Pod } from '../objects/core.js';
import { decodeObject } from '../objects/decode.js';
import { encodePodNetwork, podNetworkAnnotations, podNetworkFor } from '../ipam/annotations.js';
import { rebuildPool } from './rebuild.js';

const NODE_CIDR = '10.113.1.0/24';

function pod(name: string, created: string, ip: string | undefined, extra: Partial<V1Pod> = {}): Pod {
  const annotations: Record<string, string> = ip ? encodePodNetwork(podNetworkFor(NODE_CIDR, ip, '10.112.0.0/12')) : {};
  return decodeObject(PodKind, { metadata: { name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: new Date(created), annotations }, status: { phase: 'Running' }, ...extra } satisfies V1Pod);
}

test('a rebuild keeps every recorded address and carries on after the highest one', () => {
  const { pool, problems } = rebuildPool(NODE_CIDR, [pod('a', '2026-01-01T00:00:00Z', '10.113.1.2'), pod('b', '2026-01-01T00:00:01Z', '10.113.1.7'), pod('new', '2026-01-01T00:00:02Z', undefined)]);
  assert.deepEqual(problems, []);
  assert.equal(pool.addressOf('uid-a'), '10.113.1.2');
  assert.equal(pool.addressOf('uid-b'), '10.113.1.7');
  assert.equal(pool.used, 2);
  assert.equal(pool.allocate('uid-new'), '10.113.1.8');
});

test('two pods recording one address: the older keeps it and the other is named with the holder', () => {
  const older = pod('older', '2026-01-01T00:00:00Z', '10.113.1.5');
  const edited = pod('edited', '2026-01-01T00:05:00Z', '10.113.1.5');
  // Listed youngest first: age decides, not list order.
  const { pool, problems } = rebuildPool(NODE_CIDR, [edited, older]);
  assert.equal(pool.holder('10.113.1.5'), 'uid-older');
  const [problem, ...more] = problems;
  assert.deepEqual(more, []);
  assert.equal(problem?.pod.metadata.name, 'edited');
  assert.equal(problem.reason, 'its recorded address 10.113.1.5 is held by pod default/older, which had it first');
});

test('finished and host-network pods hold nothing; records from another CIDR or garbled ones are reported, not kept', () => {
  const garbled = pod('garbled', '2026-01-01T00:00:00Z', '10.113.1.9');
  Object.assign(garbled.metadata.annotations, { [podNetworkAnnotations.macAddress]: 'not-a-mac' });
  const elsewhere = pod('moved', '2026-01-01T00:00:00Z', undefined);
  Object.assign(elsewhere.metadata.annotations, encodePodNetwork(podNetworkFor('10.113.2.0/24', '10.113.2.4', '10.112.0.0/12')));
  const { pool, problems } = rebuildPool(NODE_CIDR, [
    pod('done', '2026-01-01T00:00:00Z', '10.113.1.3', { status: { phase: 'Succeeded' } }),
    pod('host', '2026-01-01T00:00:00Z', '10.113.1.4', { spec: { hostNetwork: true, containers: [] } }),
    garbled,
    elsewhere,
  ]);
  assert.equal(pool.used, 0);
  assert.deepEqual(problems.map((p) => p.pod.metadata.name), ['garbled', 'moved']);
  assert.match(problems[0]?.reason ?? '', /mac_address/);
  assert.match(problems[1]?.reason ?? '', /10\.113\.2\.4 is from 10\.113\.2\.0\/24, not this node's CIDR 10\.113\.1\.0\/24/);
});
