import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostInterfaceName, planHostSide, planPodSide, type PodInterfaceSpec } from './podInterface.js';

const spec: PodInterfaceSpec = {
  ifName: 'eth-fleet',
  hostIfName: 'fbp0123456789ab',
  address: '10.112.1.5',
  prefixLength: 24,
  gateway: '10.112.1.1',
  mac: '0a:58:0a:70:01:05',
  mtu: 1420,
  routes: [{ dst: '10.112.0.0/12', gw: '10.112.1.1' }],
};

test('host interface names are stable per pod, unique and fit IFNAMSIZ', () => {
  const a = hostInterfaceName('3f1c2d4e-0000-4000-8000-000000000001');
  assert.equal(a, hostInterfaceName('3f1c2d4e-0000-4000-8000-000000000001'));
  assert.notEqual(a, hostInterfaceName('3f1c2d4e-0000-4000-8000-000000000002'));
  assert.ok(a.length <= 15 && a.startsWith('fbp'));
});

test('a fresh pod end gets the address without prefix route, the on-link gateway and the global route', () => {
  assert.deepEqual(planPodSide(spec, { addresses: [], routes: [] }), [
    'link set dev eth-fleet address 0a:58:0a:70:01:05 mtu 1420 up',
    'addr replace 10.112.1.5/24 dev eth-fleet noprefixroute',
    'route replace 10.112.1.1/32 dev eth-fleet scope link src 10.112.1.5',
    'route replace 10.112.0.0/12 via 10.112.1.1 dev eth-fleet src 10.112.1.5',
  ]);
});

test('stale addresses and routes on the pod end are removed, wanted ones kept', () => {
  const lines = planPodSide(spec, { addresses: ['10.112.1.5/24', '10.112.9.9/24'], routes: ['10.112.1.1/32', '10.112.0.0/12', '192.0.2.0/24'] });
  assert.ok(lines.includes('addr del 10.112.9.9/24 dev eth-fleet'));
  assert.ok(lines.includes('route del 192.0.2.0/24 dev eth-fleet'));
  assert.ok(!lines.some((l) => l.startsWith('addr del 10.112.1.5')));
  assert.ok(!lines.some((l) => l.startsWith('route del 10.112.0.0/12')));
});

test('the cnf end answers for the gateway and routes the pod address to the pod', () => {
  assert.deepEqual(planHostSide(spec), [
    'link set dev fbp0123456789ab mtu 1420 up',
    'addr replace 10.112.1.1/32 dev fbp0123456789ab',
    'route replace 10.112.1.5/32 dev fbp0123456789ab scope link src 10.112.1.1',
  ]);
});
