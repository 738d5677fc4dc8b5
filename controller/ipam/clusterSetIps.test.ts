import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignClusterSetIps, clusterSetIpRange } from './clusterSetIps.js';
import { formatCidr, parseCidr } from './cidr.js';

const none = new Map<string, string>();

test('the ClusterSetIP range is the top sixteenth of the cluster CIDR, at least one node CIDR', () => {
  assert.equal(formatCidr(clusterSetIpRange('10.112.0.0/16', 24)), '10.112.240.0/20');
  assert.equal(formatCidr(clusterSetIpRange('10.113.0.0/16', 26)), '10.113.240.0/20');
  assert.equal(formatCidr(clusterSetIpRange('10.112.0.0/20', 24)), '10.112.15.0/24');
  assert.equal(formatCidr(clusterSetIpRange('10.112.0.0/22', 24)), '10.112.3.0/24');
  assert.throws(() => clusterSetIpRange('10.112.0.0/24', 24), { code: 'INVALID_PREFIX', message: /no room for ClusterSetIPs/ });
});

test('services get the lowest free addresses in key order, never the network or broadcast address', () => {
  const range = parseCidr('10.112.240.0/20');
  const { assignment, exhausted } = assignClusterSetIps(range, ['ns/b', 'ns/a', 'other/a', 'ns/a'], none);
  assert.deepEqual(Object.fromEntries(assignment), { 'ns/a': '10.112.240.1', 'ns/b': '10.112.240.2', 'other/a': '10.112.240.3' });
  assert.deepEqual(exhausted, []);
});

test('recorded addresses are kept; bad, foreign and doubly held ones are replaced', () => {
  const range = parseCidr('10.112.240.0/20');
  const recorded = new Map([
    ['ns/kept', '10.112.250.7'],
    ['ns/twin', '10.112.250.7'],
    ['ns/outside', '10.112.1.5'],
    ['ns/network', '10.112.240.0'],
    ['ns/broadcast', '10.112.255.255'],
    ['ns/garbage', 'not-an-ip'],
  ]);
  const { assignment } = assignClusterSetIps(range, [...recorded.keys(), 'ns/new'], recorded);
  assert.equal(assignment.get('ns/kept'), '10.112.250.7');
  const others = ['ns/broadcast', 'ns/garbage', 'ns/network', 'ns/new', 'ns/outside', 'ns/twin'].map((k) => assignment.get(k));
  assert.deepEqual(others, ['10.112.240.1', '10.112.240.2', '10.112.240.3', '10.112.240.4', '10.112.240.5', '10.112.240.6']);
});

test('a full range leaves the last services without an address and says what to do', () => {
  const range = parseCidr('10.112.15.252/30'); // two usable addresses
  const { assignment, exhausted } = assignClusterSetIps(range, ['a/1', 'a/2', 'a/3'], new Map([['a/3', '10.112.15.253']]));
  assert.deepEqual(Object.fromEntries(assignment), { 'a/3': '10.112.15.253', 'a/1': '10.112.15.254' });
  assert.deepEqual(exhausted.map((e) => e.service), ['a/2']);
  assert.match(exhausted[0]?.message ?? '', /every ClusterSetIP in 10\.112\.15\.252\/30 is in use/);
});

test('random recorded states always give distinct addresses inside the range', () => {
  let s = 11;
  const random = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const range = parseCidr('10.112.15.0/28');
  for (let round = 0; round < 300; round++) {
    const recorded = new Map<string, string>();
    const services: string[] = [];
    for (let i = 0; i < 20; i++) {
      if (random() < 0.5) recorded.set(`s${i}`, `10.112.15.${Math.floor(random() * 20)}`);
      if (random() < 0.7) services.push(`s${i}`);
    }
    const { assignment, exhausted } = assignClusterSetIps(range, services, recorded);
    const values = [...assignment.values()];
    assert.equal(new Set(values).size, values.length, `round ${round}: duplicate`);
    for (const ip of values) {
      const last = Number(ip.split('.')[3]);
      assert.ok(last >= 1 && last <= 14, `round ${round}: ${ip}`);
    }
    assert.equal(assignment.size + exhausted.length, services.length);
  }
});
