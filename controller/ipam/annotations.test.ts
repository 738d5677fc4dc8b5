import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpamError } from './errors.js';
import { clearPodNetworkPatch, decodePodNetwork, encodePodNetwork, podNetworkAnnotations, podNetworkFor } from './annotations.js';

const encoded = {
  'fleetboard.io/ip_address': '10.112.1.5',
  'fleetboard.io/cidr': '10.112.1.0/24',
  'fleetboard.io/gateway': '10.112.1.1',
  'fleetboard.io/mac_address': '0a:58:0a:70:01:05',
  'fleetboard.io/routes': '[{"dst":"10.112.0.0/12","gw":"10.112.1.1"}]',
  'fleetboard.io/allocated': 'true',
  'fleetboard.io/pod_nic_type': 'veth-pair',
};

test('an allocation encodes to the documented annotations and decodes back', () => {
  const alloc = podNetworkFor('10.112.1.0/24', '10.112.1.5', '10.112.0.0/12');
  assert.deepEqual(alloc, {
    ipAddress: '10.112.1.5',
    cidr: '10.112.1.0/24',
    gateway: '10.112.1.1',
    macAddress: '0a:58:0a:70:01:05',
    routes: [{ dst: '10.112.0.0/12', gw: '10.112.1.1' }],
    nicType: 'veth-pair',
  });
  assert.deepEqual(encodePodNetwork(alloc), encoded);
  assert.deepEqual(decodePodNetwork(encoded), alloc);
  // Other annotations, FleetBoard's or not, are no concern of the codec.
  assert.deepEqual(decodePodNetwork({ ...encoded, 'fleetboard.io/other': 'x', 'example.com/a': 'b' }), alloc);
});

test('podNetworkFor refuses an address from another CIDR', () => {
  assert.throws(() => podNetworkFor('10.112.1.0/24', '10.112.2.5', '10.112.0.0/12'), { code: 'OUT_OF_RANGE' });
  assert.throws(() => podNetworkFor('10.112.1.0/24', '10.112.1.5', 'fd00::/64'), { code: 'IPV6_UNSUPPORTED' });
});

test('a pod without the annotations has no allocation', () => {
  assert.equal(decodePodNetwork(undefined), undefined);
  assert.equal(decodePodNetwork({}), undefined);
  assert.equal(decodePodNetwork({ 'fleetboard.io/other': 'x', 'kubectl.kubernetes.io/restartedAt': 'now' }), undefined);
});

test('decoding normalizes what it accepts', () => {
  const alloc = decodePodNetwork({ ...encoded, 'fleetboard.io/mac_address': '0A:58:0A:70:01:05', 'fleetboard.io/routes': '[]' });
  assert.ok(alloc);
  assert.equal(alloc.macAddress, '0a:58:0a:70:01:05');
  assert.deepEqual(alloc.routes, []);
  const extra = decodePodNetwork({ ...encoded, 'fleetboard.io/routes': '[{"dst":"10.112.0.0/12","gw":"10.112.1.1","mtu":1420}]' });
  assert.deepEqual(extra?.routes, [{ dst: '10.112.0.0/12', gw: '10.112.1.1' }]);
});

const malformed: [string, Record<string, unknown>, RegExp][] = [
  ['address outside the CIDR', { 'fleetboard.io/ip_address': '10.112.2.5' }, /ip_address 10\.112\.2\.5 is outside the pod's CIDR 10\.112\.1\.0\/24/],
  ['address is the gateway', { 'fleetboard.io/ip_address': '10.112.1.1' }, /ip_address 10\.112\.1\.1 equals fleetboard\.io\/gateway/],
  ['address is the network', { 'fleetboard.io/ip_address': '10.112.1.0' }, /ip_address .*network or broadcast/],
  ['address is the broadcast', { 'fleetboard.io/ip_address': '10.112.1.255' }, /ip_address .*network or broadcast/],
  ['address with a prefix', { 'fleetboard.io/ip_address': '10.112.1.5/24' }, /ip_address is "10\.112\.1\.5\/24": .*not an IPv4 address/],
  ['IPv6 address', { 'fleetboard.io/ip_address': 'fd00::5' }, /ip_address .*IPv4-only/],
  ['CIDR with host bits', { 'fleetboard.io/cidr': '10.112.1.5/24' }, /cidr .*did you mean 10\.112\.1\.0\/24/],
  ['CIDR garbage', { 'fleetboard.io/cidr': 'ten' }, /fleetboard\.io\/cidr is "ten"/],
  ['gateway outside', { 'fleetboard.io/gateway': '10.112.9.1' }, /gateway 10\.112\.9\.1 is outside/],
  ['MAC garbage', { 'fleetboard.io/mac_address': '0a:58:0a:70:01' }, /mac_address .*not a MAC address/],
  ['routes not JSON', { 'fleetboard.io/routes': '[{"dst":' }, /routes is not JSON/],
  ['routes not an array', { 'fleetboard.io/routes': '{"dst":"10.112.0.0/12","gw":"10.112.1.1"}' }, /routes must be a JSON array/],
  ['route not an object', { 'fleetboard.io/routes': '["10.112.0.0/12"]' }, /routes entry 0 must be an object/],
  ['route without gw', { 'fleetboard.io/routes': '[{"dst":"10.112.0.0/12"}]' }, /routes entry 0 needs string fields/],
  ['route with bad dst', { 'fleetboard.io/routes': '[{"dst":"10.112.0.1/12","gw":"10.112.1.1"}]' }, /routes entry 0 dst .*did you mean/],
  ['route with bad gw', { 'fleetboard.io/routes': '[{"dst":"10.112.0.0/12","gw":"gw"}]' }, /routes entry 0 gw is "gw"/],
  ['allocated not true', { 'fleetboard.io/allocated': 'false' }, /allocated is "false", expected "true"/],
  ['unknown NIC type', { 'fleetboard.io/pod_nic_type': 'macvlan' }, /pod_nic_type is "macvlan"; the only NIC type is "veth-pair"/],
  ['a missing annotation', { 'fleetboard.io/gateway': undefined }, /gateway is missing while other/],
  ['a non-string value', { 'fleetboard.io/ip_address': 5 }, /ip_address must be a string/],
];

for (const [what, change, message] of malformed) {
  test(`malformed annotations: ${what}`, () => {
    const merged: Record<string, unknown> = { ...encoded, ...change };
    const annotations = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined));
    assert.throws(() => decodePodNetwork(annotations), { name: 'IpamError', code: 'BAD_ANNOTATION', message });
  });
}

test('decoding garbage fails only with BAD_ANNOTATION', () => {
  const garbage = ['', ' ', 'null', '[]', '{}', '[null]', '[[]]', '1e999', '"x"', '10.112.1.5', '10.112.1.0/24', '::', '\u0000', 'true', '[{"dst":1,"gw":2}]'];
  const keys = Object.values(podNetworkAnnotations);
  for (const key of keys) {
    for (const value of garbage) {
      try {
        decodePodNetwork({ ...encoded, [key]: value });
      } catch (err) {
        assert.ok(err instanceof IpamError && err.code === 'BAD_ANNOTATION', `${key}=${JSON.stringify(value)}: ${String(err)}`);
        assert.ok(err.message.includes(key), `${key}: ${err.message}`);
      }
    }
  }
});

test('the clear patch removes exactly the allocation annotations', () => {
  assert.deepEqual(clearPodNetworkPatch(), Object.fromEntries(Object.keys(encoded).map((k) => [k, null])));
});
