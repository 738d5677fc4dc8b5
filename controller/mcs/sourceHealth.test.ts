import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeObject } from '../objects/decode.js';
import { PeerKind, type Peer } from '../objects/fleetboard.js';
import { disconnectedClusters } from './sourceHealth.js';

const peer = (clusterID: string, connected: 'True' | 'False' | undefined, namespace = `fleetboard-cluster-${clusterID}`, isHub = false): Peer =>
  decodeObject(PeerKind, {
    metadata: { name: clusterID, namespace },
    spec: { clusterID, clusterCIDR: [], isHub, isPublic: false },
    ...(connected ? { status: { conditions: [{ type: 'Connected', status: connected, reason: '', message: '', lastTransitionTime: '' }] } } : {}),
  });

test('clusters the hub reports down are disconnected; unjudged ones, the hub and this cluster are not', () => {
  const peers = [peer('up', 'True'), peer('down', 'False'), peer('new', undefined), peer('self', 'False'), peer('hub', 'False', 'fleetboard-system', true)];
  assert.deepEqual([...disconnectedClusters(peers, 'self')], ['down']);
});

test('a Peer outside its cluster\'s namespace says nothing about that cluster', () => {
  assert.deepEqual([...disconnectedClusters([peer('victim', 'False', 'fleetboard-cluster-attacker')], 'self')], []);
});
