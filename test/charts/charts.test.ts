import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { KubernetesObject, V1ClusterRole, V1DaemonSet, V1Deployment } from '@kubernetes/client-node';
import { renderChart } from '../../hack/testbed/charts.js';
import { run } from '../harness/run.js';
import { repoRoot, toolPath } from '../harness/tools.js';

/** The charts as `helm` sees them: lint, the values schema, and what the rendered objects may do. */
const HUB_VALUES = { tunnel: { endpoint: '203.0.113.10' } };
const MEMBER_VALUES = { hub: { hubURL: 'https://203.0.113.10:6443', bootstrapToken: 'abcdef.0123456789abcdef', ca: Buffer.from('-----BEGIN CERTIFICATE-----').toString('base64') }, cluster: { clusterID: 'cluster1' } };

const helm = (args: string[], values: object) => run(toolPath('helm'), [...args, '--values', '-'], { input: JSON.stringify(values) });
const chart = (name: string) => join(repoRoot, 'charts', name);

test('both charts pass helm lint --strict with the values a user sets', async () => {
  await helm(['lint', '--strict', chart('fleetboard')], HUB_VALUES);
  await helm(['lint', '--strict', chart('fleetboard-agent')], MEMBER_VALUES);
  await helm(['lint', '--strict', chart('fleetboard-agent')], { cluster: { cidr: '10.112.0.0/16' } });
});

test('a typo or a missing value fails at install with the value it is about', async () => {
  const fails = async (name: string, values: object, message: RegExp) => {
    await assert.rejects(helm(['template', 't', chart(name)], values), (err: Error) => {
      assert.match(err.message, message);
      return true;
    });
  };
  await fails('fleetboard', { tunnel: { endpiont: '203.0.113.10' } }, /endpiont|endpoint/);
  await fails('fleetboard', {}, /endpoint/);
  await fails('fleetboard-agent', { ...MEMBER_VALUES, cluster: { clusterID: 'Cluster_1' } }, /clusterID/);
  await fails('fleetboard-agent', { hub: { hubURL: 'https://203.0.113.10:6443' }, cluster: { clusterID: 'cluster1' } }, /bootstrapToken|ca/);
  await fails('fleetboard-agent', {}, /cidr/);
  await fails('fleetboard-agent', { ...MEMBER_VALUES, logLevel: 'verbose' }, /logLevel/);
  await fails('fleetboard-agent', { ...MEMBER_VALUES, tunnel: { mtu: 100 } }, /mtu/);
});

const all = async () => [...(await renderChart('fleetboard', 'fleetboard-system', HUB_VALUES)), ...(await renderChart('fleetboard-agent', 'fleetboard-system', MEMBER_VALUES))];

test('least privilege: no wildcard rules, no cluster-admin, no secrets beyond FleetBoard\'s own', async () => {
  const objects = await all();
  for (const role of objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role') as V1ClusterRole[]) {
    for (const rule of role.rules ?? []) {
      const where = `${role.kind} ${role.metadata?.name ?? ''}`;
      assert.ok(!rule.verbs.includes('*') && !(rule.resources ?? []).includes('*') && !(rule.apiGroups ?? []).includes('*'), `${where} has a wildcard`);
      if ((rule.resources ?? []).includes('secrets') && !rule.verbs.every((v) => v === 'create')) assert.ok(rule.resourceNames?.length, `${where} reads secrets it does not own`);
    }
  }
  for (const binding of objects.filter((o) => o.kind?.endsWith('Binding')) as (KubernetesObject & { roleRef?: { name: string } })[]) {
    assert.notEqual(binding.roleRef?.name, 'cluster-admin');
  }
});

test('only the cnf containers are privileged; crossdns may bind port 53 and nothing else', async () => {
  const objects = await all();
  const workloads = objects.filter((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment') as (V1DaemonSet | V1Deployment)[];
  const privileged = workloads.flatMap((w) => (w.spec?.template.spec?.containers ?? []).filter((c) => c.securityContext?.privileged).map((c) => `${w.metadata?.name ?? ''}/${c.name}`));
  assert.deepEqual(privileged.sort(), ['fleetboard-cnf/controller', 'fleetboard-cnf/plugin', 'fleetboard-hub-cnf/hub']);
  const crossdns = workloads.find((w) => w.metadata?.name === 'fleetboard-crossdns')?.spec?.template.spec?.containers[0];
  assert.ok(crossdns?.securityContext, 'crossdns has a security context');
  assert.deepEqual(crossdns.securityContext.capabilities, { drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
  assert.equal(crossdns.securityContext.allowPrivilegeEscalation, false);
  for (const w of workloads) for (const c of w.spec?.template.spec?.containers ?? []) assert.ok(c.resources?.requests && c.resources.limits, `${c.name} has requests and limits`);
});

test('the cnf controller, the hub and crossdns serve their metrics port and are probed there: alive while they answer, ready once they can do their job', async () => {
  const workloads = (await all()).filter((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment') as (V1DaemonSet | V1Deployment)[];
  const container = (workload: string, name: string) => workloads.find((w) => w.metadata?.name === workload)?.spec?.template.spec?.containers.find((c) => c.name === name) ?? assert.fail(`${workload}/${name} is rendered`);
  for (const c of [container('fleetboard-cnf', 'controller'), container('fleetboard-hub-cnf', 'hub'), container('fleetboard-crossdns', 'crossdns')]) {
    assert.ok(c.command?.includes('--metrics-address=:9464'), `${c.name} serves metrics on 9464`);
    assert.ok(c.ports?.some((p) => p.name === 'metrics' && p.containerPort === 9464), `${c.name} declares its metrics port`);
    assert.deepEqual([c.livenessProbe?.httpGet?.path, c.livenessProbe?.httpGet?.port], ['/healthz', 'metrics'], `${c.name} liveness`);
    assert.deepEqual([c.readinessProbe?.httpGet?.path, c.readinessProbe?.httpGet?.port], ['/readyz', 'metrics'], `${c.name} readiness`);
  }
});

test('the hub makes a join token that expires when none is given, and guards its router with a PodDisruptionBudget', async () => {
  const hub = await renderChart('fleetboard', 'fleetboard-system', HUB_VALUES);
  const token = hub.find((o) => o.kind === 'Secret' && o.metadata?.namespace === 'kube-system') as KubernetesObject & { stringData: Record<string, string> };
  assert.match(`${token.stringData['token-id'] ?? ''}.${token.stringData['token-secret'] ?? ''}`, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  const expires = Date.parse(token.stringData.expiration ?? '');
  assert.ok(expires > Date.now() + 23 * 3600_000 && expires <= Date.now() + 24 * 3600_000, `expires in a day: ${token.stringData.expiration ?? ''}`);
  assert.ok(hub.some((o) => o.kind === 'PodDisruptionBudget'));
  const crds = hub.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata?.name).sort();
  assert.deepEqual(crds, ['joinrequests.fleetboard.io', 'peers.fleetboard.io', 'serviceexports.multicluster.x-k8s.io', 'serviceimports.multicluster.x-k8s.io']);
});
