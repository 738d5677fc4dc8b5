import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignNodeCidrs } from './nodeCidrs.js';
import { containsCidr, parseCidr } from './cidr.js';

const CLUSTER = '10.112.0.0/16';
const none = new Map<string, string>();

test('new nodes get the lowest free subnets, in name order', () => {
  const { assignment, problems } = assignNodeCidrs(CLUSTER, 24, none, ['node-c', 'node-a', 'node-b', 'node-a']);
  assert.deepEqual(
    [...assignment].sort(),
    [
      ['node-a', '10.112.0.0/24'],
      ['node-b', '10.112.1.0/24'],
      ['node-c', '10.112.2.0/24'],
    ],
  );
  assert.deepEqual(problems, []);
});

test('recorded assignments are kept and new nodes fill the gaps', () => {
  const current = new Map([
    ['node-z', '10.112.0.0/24'],
    ['node-y', '10.112.2.0/24'],
  ]);
  const { assignment, problems } = assignNodeCidrs(CLUSTER, 24, current, ['node-y', 'node-z', 'node-a', 'node-b']);
  assert.equal(assignment.get('node-z'), '10.112.0.0/24');
  assert.equal(assignment.get('node-y'), '10.112.2.0/24');
  assert.equal(assignment.get('node-a'), '10.112.1.0/24');
  assert.equal(assignment.get('node-b'), '10.112.3.0/24');
  assert.deepEqual(problems, []);
});

test('nodes that no longer exist lose their subnet, which is free again', () => {
  const current = new Map([
    ['node-a', '10.112.0.0/24'],
    ['gone', '10.112.1.0/24'],
    ['node-c', '10.112.2.0/24'],
  ]);
  const { assignment } = assignNodeCidrs(CLUSTER, 24, current, ['node-a', 'node-c', 'node-new']);
  assert.equal(assignment.has('gone'), false);
  assert.equal(assignment.get('node-new'), '10.112.1.0/24');
  assert.equal(assignment.size, 3);
});

test('invalid recorded entries are reported and reassigned', () => {
  const current = new Map([
    ['garbage', 'not-a-cidr'],
    ['host-bits', '10.112.5.7/24'],
    ['wrong-prefix', '10.112.6.0/25'],
    ['outside', '10.113.0.0/24'],
    ['b-dup', '10.112.9.0/24'],
    ['a-dup', '10.112.9.0/24'],
    ['ipv6', 'fd00::/64'],
  ]);
  const { assignment, problems } = assignNodeCidrs(CLUSTER, 24, current, current.keys());
  const byNode = new Map(problems.map((p) => [p.node, p]));
  assert.equal(byNode.get('garbage')?.code, 'INVALID_CIDR');
  assert.equal(byNode.get('host-bits')?.code, 'INVALID_CIDR');
  assert.match(byNode.get('host-bits')?.message ?? '', /did you mean 10\.112\.5\.0\/24/);
  assert.equal(byNode.get('ipv6')?.code, 'INVALID_CIDR');
  assert.equal(byNode.get('wrong-prefix')?.code, 'INVALID_PREFIX');
  assert.equal(byNode.get('outside')?.code, 'OUT_OF_RANGE');
  // The first by name keeps a duplicated CIDR, so every leader decides the same.
  assert.equal(byNode.has('a-dup'), false);
  assert.equal(byNode.get('b-dup')?.code, 'ADDRESS_TAKEN');
  assert.match(byNode.get('b-dup')?.message ?? '', /recorded for both node a-dup and node b-dup/);
  assert.equal(problems.length, 6);
  assert.equal(assignment.get('a-dup'), '10.112.9.0/24');
  // Reassigned in name order from the lowest free subnet.
  assert.deepEqual(
    ['b-dup', 'garbage', 'host-bits', 'ipv6', 'outside', 'wrong-prefix'].map((n) => assignment.get(n)),
    ['10.112.0.0/24', '10.112.1.0/24', '10.112.2.0/24', '10.112.3.0/24', '10.112.4.0/24', '10.112.5.0/24'],
  );
});

test('a /16 holds 240 /24 nodes beside its /20 of ClusterSetIPs; the 241st and later get none and are reported', () => {
  const nodes = Array.from({ length: 242 }, (_, i) => `node-${String(i).padStart(3, '0')}`);
  const { assignment, problems } = assignNodeCidrs(CLUSTER, 24, none, nodes);
  assert.equal(assignment.size, 240);
  assert.equal(new Set(assignment.values()).size, 240);
  assert.equal(assignment.get('node-239'), '10.112.239.0/24');
  assert.deepEqual(
    problems.map((p) => [p.node, p.code]),
    [
      ['node-240', 'POOL_EXHAUSTED'],
      ['node-241', 'POOL_EXHAUSTED'],
    ],
  );
  assert.match(problems[0]?.message ?? '', /holds 240 \/24 node CIDRs beside its ClusterSetIPs and all are assigned/);
  // Deleting a node lets a waiting one in.
  const after = assignNodeCidrs(CLUSTER, 24, assignment, nodes.filter((n) => n !== 'node-007'));
  assert.equal(after.assignment.get('node-240'), '10.112.7.0/24');
  assert.deepEqual(after.problems.map((p) => p.node), ['node-241']);
});

test('a node CIDR recorded inside the ClusterSetIP range is moved out of it', () => {
  const { assignment, problems } = assignNodeCidrs(CLUSTER, 24, new Map([['vip-squatter', '10.112.250.0/24']]), ['vip-squatter']);
  assert.equal(assignment.get('vip-squatter'), '10.112.0.0/24');
  assert.deepEqual(problems.map((p) => p.code), ['OUT_OF_RANGE']);
  assert.match(problems[0]?.message ?? '', /inside the ClusterSetIP range 10\.112\.240\.0\/20/);
});

test('a bad cluster CIDR or node prefix is a configuration error', () => {
  assert.throws(() => assignNodeCidrs('10.112.0.1/16', 24, none, ['a']), { code: 'INVALID_CIDR' });
  assert.throws(() => assignNodeCidrs(CLUSTER, 8, none, ['a']), { code: 'INVALID_PREFIX' });
  assert.throws(() => assignNodeCidrs(CLUSTER, 31, none, ['a']), { code: 'INVALID_PREFIX', message: /\/30 or shorter/ });
  assert.throws(() => assignNodeCidrs(CLUSTER, 33, none, ['a']), { code: 'INVALID_PREFIX' });
  assert.throws(() => assignNodeCidrs(CLUSTER, 16, none, ['a']), { code: 'INVALID_PREFIX', message: /no room for ClusterSetIPs/ });
});

test('random recorded states always yield distinct CIDRs inside the cluster CIDR, for existing nodes only', () => {
  let s = 7;
  const random = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const cluster = parseCidr('10.112.0.0/20'); // 16 /24s, the last for ClusterSetIPs
  const candidates = ['10.112.0.0/24', '10.112.3.0/24', '10.112.15.0/24', '10.112.16.0/24', '10.112.1.0/25', 'x', '10.112.4.0/24', '10.112.3.0/24'];
  for (let round = 0; round < 500; round++) {
    const current = new Map<string, string>();
    const nodes: string[] = [];
    for (let i = 0; i < 20; i++) {
      if (random() < 0.5) current.set(`n${i}`, candidates[Math.floor(random() * candidates.length)] ?? 'x');
      if (random() < 0.7) nodes.push(`n${i}`);
    }
    const { assignment, problems } = assignNodeCidrs('10.112.0.0/20', 24, current, nodes);
    const values = [...assignment.values()];
    assert.equal(new Set(values).size, values.length, `round ${round}: duplicate`);
    for (const [node, cidr] of assignment) {
      assert.ok(nodes.includes(node), `round ${round}: ${node} does not exist`);
      assert.ok(containsCidr(cluster, parseCidr(cidr)) && parseCidr(cidr).prefix === 24 && cidr !== '10.112.15.0/24', `round ${round}: ${cidr}`);
    }
    const unassigned = new Set(nodes.filter((n) => !assignment.has(n)));
    assert.deepEqual(new Set(problems.filter((p) => p.code === 'POOL_EXHAUSTED').map((p) => p.node)), unassigned, `round ${round}`);
    // A node whose valid recorded CIDR nobody else claimed keeps it.
    for (const node of nodes) {
      const recorded = current.get(node);
      if (recorded && !problems.some((p) => p.node === node)) assert.equal(assignment.get(node), recorded, `round ${round}: ${node} moved`);
    }
  }
});
