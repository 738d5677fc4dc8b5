import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, ApiException } from '@kubernetes/client-node';
import { KeepAliveKubeConfig } from '../../controller/kube/keepAliveKubeConfig.js';
import { run } from './run.js';
import { ControlPlane } from './controlPlane.js';
import { pinned, toolPath } from './tools.js';
import { waitFor } from './wait.js';

/** Local ports of this process's established TCP connections to `server`. */
async function ourConnections(server: string): Promise<string[]> {
  const { hostname, port } = new URL(server);
  const { stdout } = await run('ss', ['-tnpH', 'state', 'established', 'dst', `${hostname}:${port}`]);
  return stdout.split('\n').filter((l) => l.includes(`pid=${process.pid},`)).map((l) => l.trim().split(/\s+/)[2] ?? '');
}

async function tokenKubeConfig(admin: KubeConfig, namespace: string, serviceAccount: string): Promise<KubeConfig> {
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: serviceAccount } } });
  const tr = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 600 } },
  });
  const cluster = admin.getCurrentCluster();
  assert.ok(cluster && tr.status?.token);
  const kc = new KeepAliveKubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, skipTLSVerify: false }],
    users: [{ name: serviceAccount, token: tr.status.token }],
    contexts: [{ name: 'sa', cluster: cluster.name, user: serviceAccount }],
    currentContext: 'sa',
  });
  return kc;
}

test('two control planes run side by side on loopback, enforce RBAC and stop cleanly', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'fleetboard-cp-'));
  const planes = ['hub', 'member'].map((name) => new ControlPlane({ name, dir: join(base, name) }));
  t.after(async () => {
    for (const cp of planes) await cp.stop();
    await rm(base, { recursive: true, force: true });
  });
  await Promise.all(planes.map((cp) => cp.start()));

  for (const cp of planes) {
    const admin = cp.kubeConfig();
    const core = admin.makeApiClient(CoreV1Api);
    // Released binaries report their release, which charts' kubeVersion constraints are checked against.
    const versions = JSON.parse((await run(toolPath('kubectl'), ['version', '-o', 'json', '--kubeconfig', cp.kubeconfigPath])).stdout) as Record<string, { gitVersion?: string }>;
    const kube = await pinned('.', 'k8s.io/kubernetes');
    assert.deepEqual([versions.clientVersion?.gitVersion, versions.serverVersion?.gitVersion], [kube, kube]);
    const ns = await core.readNamespace({ name: 'kube-system' });
    assert.equal(ns.metadata?.name, 'kube-system');

    // The root CA is published for pods by the real kube-controller-manager.
    const ca = await waitFor(() => core.readNamespacedConfigMap({ name: 'kube-root-ca.crt', namespace: 'default' }), {
      what: `${cp.name} kube-root-ca.crt ConfigMap`,
      timeoutMs: 30_000,
    });
    assert.equal(ca.data?.['ca.crt'], cp.caPem);

    // A ServiceAccount with no bindings is authenticated by its token but denied by RBAC.
    const sa = await tokenKubeConfig(admin, 'default', 'nobody');
    const before = await ourConnections(cp.server);
    const asNobody = sa.makeApiClient(CoreV1Api);
    await assert.rejects(asNobody.listNamespacedSecret({ namespace: 'kube-system' }), (err: unknown) => {
      assert.ok(err instanceof ApiException);
      assert.equal(err.code, 403);
      return true;
    });

    // Requests share kept-alive TLS connections instead of a handshake each. Now and then a request goes out
    // before the previous one's socket is back in the pool and opens a second (a CI run saw it), never one each.
    const sinceBefore = async () => (await ourConnections(cp.server)).filter((p) => !before.includes(p));
    for (let i = 0; i < 10; i++) await asNobody.readNamespace({ name: 'default' }).catch(() => undefined);
    const [kept] = await sinceBefore();
    assert.ok(kept, 'the ServiceAccount\'s client keeps its connection open');
    for (let i = 0; i < 10; i++) await asNobody.readNamespace({ name: 'default' }).catch(() => undefined);
    const held = await sinceBefore();
    assert.ok(held.includes(kept) && held.length <= 2, `20 requests went over ${held.length} connection(s), the first still in use`);
  }
  // Each control plane has its own CA: the hub's admin credentials are not valid on the member.
  const hubCreds = planes[0]?.kubeConfig();
  const member = planes[1];
  assert.ok(hubCreds && member);
  const cluster = hubCreds.getCurrentCluster();
  assert.ok(cluster);
  hubCreds.clusters = [{ ...cluster, server: member.server, caData: Buffer.from(member.caPem).toString('base64') }];
  await assert.rejects(hubCreds.makeApiClient(CoreV1Api).listNamespace(), (err: unknown) => {
    assert.ok(err instanceof ApiException);
    assert.equal(err.code, 401);
    return true;
  });

  const dirs = planes.map((cp) => join(base, cp.name));
  for (const cp of planes) await cp.stop();
  for (const dir of dirs) assert.equal(existsSync(dir), false, `${dir} removed`);
  await assert.rejects(fetch(planes[0]?.server ?? ''), 'apiserver no longer listening');
});
