import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { PodKind, type Pod } from '../objects/core.js';
import { decodeObject } from '../objects/decode.js';
import { generatePrivateKey, publicKeyOf } from '../wireguard/keys.js';
import { meshPeers, peerNodes, tunnelAnnotations } from './meshPeers.js';
import { LEADER_LABEL } from '../leader/leaderLabel.js';

const keys = ['n1', 'n2', 'n3', 'n4'].map(() => publicKeyOf(generatePrivateKey()));
const GLOBAL = '10.112.0.0/12';
const cidrs = new Map([
  ['n1', '10.113.0.0/24'],
  ['n2', '10.113.1.0/24'],
  ['n3', '10.113.2.0/24'],
]);

function rawCnf(node: string, key: string | undefined, podIP: string | undefined, port = '51820', leader = false): V1Pod {
  const annotations: Record<string, string> = { [tunnelAnnotations.port]: port };
  if (key !== undefined) annotations[tunnelAnnotations.publicKey] = key;
  const labels = leader ? { [LEADER_LABEL]: 'true' } : {};
  return { metadata: { name: `cnf-${node}`, namespace: 'fleetboard-system', annotations, labels }, spec: { nodeName: node, containers: [] }, status: podIP ? { podIP } : {} };
}
const cnf = (...args: Parameters<typeof rawCnf>): Pod => decodeObject(PodKind, rawCnf(...args));

test('every other cnf with a key, an address and a node CIDR is a peer allowed exactly its node CIDR', () => {
  const { peers, skipped } = meshPeers('n1', [cnf('n1', keys[0], '10.244.0.5'), cnf('n3', keys[2], '10.244.2.5'), cnf('n2', keys[1], '10.244.1.5')], cidrs, GLOBAL, 25);
  assert.deepEqual(skipped, []);
  assert.deepEqual(peers, [
    { publicKey: keys[1], endpoint: '10.244.1.5:51820', allowedIps: ['10.113.1.0/24'], persistentKeepalive: 25 },
    { publicKey: keys[2], endpoint: '10.244.2.5:51820', allowedIps: ['10.113.2.0/24'], persistentKeepalive: 25 },
  ]);
});

test('cnf pods that are not ready to be peers are left out with the reason', () => {
  const gone = rawCnf('n2', keys[1], '10.244.1.5');
  if (gone.metadata) gone.metadata.deletionTimestamp = new Date();
  const { peers, skipped } = meshPeers(
    'n1',
    [cnf('n2', undefined, '10.244.1.5'), cnf('n3', 'not-a-key', '10.244.2.5'), cnf('n3', keys[2], undefined), cnf('n4', keys[3], '10.244.3.5'), cnf('n3', keys[2], '10.244.2.5', 'x'), decodeObject(PodKind, gone)],
    cidrs,
    GLOBAL,
    25,
  );
  assert.deepEqual(peers, []);
  assert.deepEqual(
    skipped.map((s) => s.reason),
    ['has not published its public key yet', `annotation ${tunnelAnnotations.publicKey} is not a WireGuard public key`, 'has no pod IP yet', 'node n4 has no node CIDR yet', `annotation ${tunnelAnnotations.port} is not a port`],
  );
});

test('a public key claimed by two cnf pods is trusted for neither', () => {
  const key = keys[1] ?? '';
  const { peers, skipped } = meshPeers('n1', [cnf('n2', key, '10.244.1.5'), cnf('n3', key, '10.244.2.5')], cidrs, GLOBAL, 25);
  assert.deepEqual(peers, []);
  assert.equal(skipped.length, 2);
  assert.match(skipped[0]?.reason ?? '', /also published by another cnf pod/);
});

test('the leader cnf, the gateway to other clusters, is also allowed the global CIDR; one labelled twice counts once', () => {
  const { peers } = meshPeers('n1', [cnf('n2', keys[1], '10.244.1.5', '51820', true), cnf('n3', keys[2], '10.244.2.5', '51820', true)], cidrs, GLOBAL, 25);
  assert.deepEqual(
    peers.map((p) => p.allowedIps),
    [['10.113.1.0/24', GLOBAL], ['10.113.2.0/24']],
  );
  const onGateway = meshPeers('n2', [cnf('n2', keys[1], '10.244.1.5', '51820', true), cnf('n3', keys[2], '10.244.2.5')], cidrs, GLOBAL, 25);
  assert.deepEqual(onGateway.peers.map((p) => p.allowedIps), [['10.113.2.0/24']], 'the gateway itself routes other clusters through the hub, not a mesh peer');
});

test('each cnf pod\'s key names its node, for the tunnel metrics', () => {
  const names = peerNodes([cnf('n2', keys[1], '10.244.1.5'), cnf('n3', undefined, '10.244.2.5')]);
  assert.deepEqual([...names], [[keys[1], { name: 'n2', kind: 'node' }]]);
});
