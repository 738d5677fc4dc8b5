import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planTestbed, PlanError, podNetnsName } from './plan.js';

test('default plan: hub on the wan, two members behind NAT with identical LAN, pod and service CIDRs', () => {
  const plan = planTestbed({ clusters: 2, nodes: 2 });
  assert.deepEqual(plan.clusters.map((c) => c.name), ['hub', 'cluster1', 'cluster2']);
  const [hub, c1, c2] = plan.clusters;
  assert.ok(hub && c1 && c2);
  assert.equal(hub.gateway, undefined);
  assert.equal(hub.role, 'hub');
  assert.ok(c1.gateway && c2.gateway);
  assert.notEqual(c1.gateway.wanIp, c2.gateway.wanIp);
  assert.equal(c1.podCidr, c2.podCidr);
  assert.equal(c1.serviceCidr, c2.serviceCidr);
  assert.deepEqual(c1.nodes.map((n) => n.ip), c2.nodes.map((n) => n.ip));
  assert.notEqual(c1.cni, c2.cni, 'members run different CNI plugins');
  assert.deepEqual(c1.nodes.map((n) => n.nri), ['current', 'v0.3'], 'nodes run both NRI wire protocols');
});

test('names and host links are unique across the testbed', () => {
  const plan = planTestbed({ clusters: 8, nodes: 8 });
  const netns = plan.clusters.flatMap((c) => [c.controlPlane.netns, ...c.nodes.map((n) => n.netns), ...(c.gateway ? [c.gateway.netns] : [])]);
  assert.equal(new Set(netns).size, netns.length);
  const hostIps = plan.clusters.map((c) => c.hostLink.hostIp);
  assert.equal(new Set(hostIps).size, hostIps.length);
  for (const c of plan.clusters) assert.ok(c.hostLink.hostIf.length <= 15, `${c.hostLink.hostIf} fits IFNAMSIZ`);
});

test('counts out of range are refused with the flag name', () => {
  assert.throws(() => planTestbed({ clusters: 0, nodes: 2 }), (e: unknown) => e instanceof PlanError && /--clusters/.test(e.message));
  assert.throws(() => planTestbed({ clusters: 2, nodes: 1.5 }), (e: unknown) => e instanceof PlanError && /--nodes/.test(e.message));
});

test('pod netns names are derived from the cluster and the pod UID', () => {
  assert.equal(podNetnsName('cluster1', '1b8a4023-e1f4-42d5-9494-068978f3c00c'), 'fb-cluster1-p1b8a4023e1f4');
});
