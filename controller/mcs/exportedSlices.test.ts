import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { decodeObject } from '../objects/decode.js';
import { EndpointSliceKind } from '../objects/discovery.js';
import { exportedSliceName, exportedSlices } from './exportedSlices.js';

const globals = new Map([
  ['default/nginx-0', '10.112.0.5'],
  ['default/nginx-1', '10.112.1.7'],
]);
const globalOf = (ns: string, name: string) => globals.get(`${ns}/${name}`);
const pod = (name: string, ip: string, conditions: object, extra: object = {}) => ({ addresses: [ip], conditions, targetRef: { kind: 'Pod', namespace: 'default', name }, ...extra });

const local: V1EndpointSlice = {
  metadata: { name: 'nginx-svc-x7k2p', namespace: 'default' },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  endpoints: [
    pod('nginx-1', '10.244.1.4', { ready: false, serving: true, terminating: true }, { nodeName: 'node2', zone: 'z2' }),
    pod('nginx-0', '10.244.0.3', { ready: true }, { nodeName: 'node1', hostname: 'web-0' }),
    pod('nginx-2', '10.244.0.9', { ready: true }),
    { addresses: ['192.0.2.1'], conditions: { ready: true } },
  ],
};

test('an exported slice carries the global addresses of the pods, their conditions, and the MCS labels', () => {
  const { slices, withoutGlobalAddress } = exportedSlices('cluster1', 'fleetboard-cluster-cluster1', { namespace: 'default', name: 'nginx-svc' }, [decodeObject(EndpointSliceKind, local)], globalOf);
  assert.equal(withoutGlobalAddress, 2, 'a pod without a global address and an endpoint that is no pod are left out');
  assert.deepEqual(slices, [
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'cluster1-default-nginx-svc-x7k2p',
        namespace: 'fleetboard-cluster-cluster1',
        labels: {
          'multicluster.kubernetes.io/service-name': 'nginx-svc',
          'fleetboard.io/service-namespace': 'default',
          'multicluster.kubernetes.io/source-cluster': 'cluster1',
          'endpointslice.kubernetes.io/managed-by': 'fleetboard.io',
        },
      },
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['10.112.0.5'], conditions: { ready: true, serving: true, terminating: false }, hostname: 'web-0', nodeName: 'node1' },
        { addresses: ['10.112.1.7'], conditions: { ready: false, serving: true, terminating: true }, nodeName: 'node2', zone: 'z2' },
      ],
      ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    },
  ]);
});

test('IPv6 slices are skipped (the global CIDR is IPv4); an empty Service exports an empty slice', () => {
  const v6: V1EndpointSlice = { metadata: { name: 'nginx-svc-v6' }, addressType: 'IPv6', endpoints: local.endpoints };
  const empty: V1EndpointSlice = { metadata: { name: 'nginx-svc-empty' }, addressType: 'IPv4', endpoints: [] };
  const { slices } = exportedSlices('cluster1', 'hub-ns', { namespace: 'default', name: 'nginx-svc' }, [v6, empty].map((s) => decodeObject(EndpointSliceKind, s)), globalOf);
  assert.deepEqual(slices.map((s) => [s.metadata.name, s.endpoints.length]), [['cluster1-default-nginx-svc-empty', 0]]);
});

test('slice names stay unique and within 253 characters', () => {
  const long = 'a'.repeat(250);
  const a = exportedSliceName('cluster1', 'default', `${long}-1`);
  const b = exportedSliceName('cluster1', 'default', `${long}-2`);
  assert.ok(a.length <= 253 && b.length <= 253);
  assert.notEqual(a, b);
  assert.match(a, /^[a-z0-9-]+$/);
});
