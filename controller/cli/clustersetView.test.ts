import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { decodeObject } from '../objects/decode.js';
import { EndpointSliceKind } from '../objects/discovery.js';
import { PeerKind } from '../objects/fleetboard.js';
import { ServiceImportKind } from '../objects/mcs.js';
import { clustersetView, renderClusterset } from './clustersetView.js';

const now = new Date('2026-11-22T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
const condition = (status: 'True' | 'False', reason: string) => [{ type: 'Connected', status, reason, message: '', lastTransitionTime: ago(60) }];

const peers = [
  {
    metadata: { name: 'cluster2', namespace: 'fleetboard-cluster-cluster2' },
    spec: { clusterID: 'cluster2', clusterCIDR: ['10.113.0.0/16'], isHub: false, isPublic: false },
    status: { conditions: condition('False', 'NoHandshake'), tunnel: { gatewayNode: 'c2-n1', lastHandshake: ago(400), rxBytes: 10, txBytes: 20 } },
  },
  { metadata: { name: 'hub', namespace: 'fleetboard-system' }, spec: { clusterID: 'hub', clusterCIDR: [], endpoint: '192.0.2.1', port: 31820, isHub: true, isPublic: true }, status: { tunnel: { gatewayNode: 'hub-n1' } } },
  {
    metadata: { name: 'cluster1', namespace: 'fleetboard-cluster-cluster1' },
    spec: { clusterID: 'cluster1', clusterCIDR: ['10.112.0.0/16'], isHub: false, isPublic: false },
    status: { conditions: condition('True', 'HandshakeRecent'), tunnel: { gatewayNode: 'c1-n2', lastHandshake: ago(12), rxBytes: 2048, txBytes: 5_000_000, direct: [{ clusterID: 'cluster3', rxBytes: 1, txBytes: 2 }] } },
  },
].map((p) => decodeObject(PeerKind, p));
const labels = (cluster: string) => ({ 'multicluster.kubernetes.io/source-cluster': cluster, 'fleetboard.io/service-namespace': 'default', 'multicluster.kubernetes.io/service-name': 'nginx-svc' });
const services = [decodeObject(ServiceImportKind, { metadata: { name: 'nginx-svc-default', labels: labels('cluster1') }, spec: { type: 'ClusterSetIP', ports: [{ port: 80, protocol: 'TCP' }] } })];
const slices = [
  {
    addressType: 'IPv4',
    metadata: { name: 'nginx-svc-cluster1-x7k2p', labels: labels('cluster1') },
    endpoints: [
      { addresses: ['10.112.0.4'], conditions: { ready: true } },
      { addresses: ['10.112.0.5'], conditions: { ready: false } },
      { addresses: ['10.112.1.4'], conditions: { ready: true } },
    ],
  },
].map((s: V1EndpointSlice) => decodeObject(EndpointSliceKind, s));

test('the hub first, then members by name; a member is connected only while the hub says so', () => {
  const v = clustersetView(peers, services, slices, now);
  assert.deepEqual(
    v.clusters.map((c) => [c.clusterID, c.role, c.gateway, c.connected, c.status]),
    [
      ['hub', 'hub', 'hub-n1', true, 'Ready'],
      ['cluster1', 'member', 'c1-n2', true, 'Connected (HandshakeRecent)'],
      ['cluster2', 'member', 'c2-n1', false, 'Disconnected (NoHandshake)'],
    ],
  );
});

test('tunnels: to the hub and direct ones; a handshake older than 180 s or none at all is down', () => {
  const v = clustersetView(peers, services, slices, now);
  assert.deepEqual(
    v.tunnels.map((t) => [t.from, t.to, t.up, t.handshakeAgeSeconds]),
    [
      ['cluster1', 'hub', true, 12],
      ['cluster1', 'cluster3', false, undefined],
      ['cluster2', 'hub', false, 400],
    ],
  );
});

test('exports count ready endpoints, and the text output shows all three tables', () => {
  const v = clustersetView(peers, services, slices, now);
  assert.deepEqual(v.exports, [{ namespace: 'default', name: 'nginx-svc', cluster: 'cluster1', type: 'ClusterSetIP', ports: ['80/TCP'], readyEndpoints: 2 }]);
  const text = renderClusterset(v);
  assert.match(text, /^CLUSTER +ROLE +CIDR/m);
  assert.match(text, /^cluster1 +member +10\.112\.0\.0\/16 +c1-n2 +behind NAT +Connected/m);
  assert.match(text, /^hub +hub +- +hub-n1 +192\.0\.2\.1:31820 +Ready/m);
  assert.match(text, /^cluster1 +hub +up +12s ago +2\.0 KiB +4\.8 MiB$/m);
  assert.match(text, /^default\/nginx-svc +cluster1 +ClusterSetIP +80\/TCP +2$/m);
});
