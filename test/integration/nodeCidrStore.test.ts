import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ControlPlane } from '../harness/controlPlane.js';
import { IpamError } from '../../controller/ipam/errors.js';
import { DEFAULT_NODE_CIDR_CONFIGMAP, NodeCidrStore } from '../../controller/ipam/nodeCidrStore.js';

const NAMESPACE = 'fleetboard-system';
const CLUSTER = '10.112.0.0/16';

let base = '';
let plane: ControlPlane | undefined;
let core: CoreV1Api;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'fleetboard-ipam-'));
  plane = new ControlPlane({ name: 'ipam', dir: join(base, 'cp') });
  await plane.start();
  core = plane.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
});

after(async () => {
  await plane?.stop();
  await rm(base, { recursive: true, force: true });
});

async function recorded(name: string): Promise<Map<string, string>> {
  const cm = await core.readNamespacedConfigMap({ name, namespace: NAMESPACE });
  return new Map(Object.entries(cm.data ?? {}));
}

function assertDistinct(assignment: ReadonlyMap<string, string>, what: string): void {
  const values = [...assignment.values()];
  assert.equal(new Set(values).size, values.length, `${what}: a CIDR is recorded twice: ${JSON.stringify([...assignment])}`);
}

interface WriteStats {
  conflicts: number;
  /** resourceVersion each successful write replaced ('' for a create). */
  bases: string[];
}

/**
 * A CoreV1Api whose ConfigMap reads pause before returning, and which counts
 * the 409s its writes get: the pause lets concurrent reconciles all read
 * before any writes, so their writes really collide.
 */
function slowReader(api: CoreV1Api, pauseMs: number, stats: WriteStats, afterRead?: () => Promise<void>): CoreV1Api {
  const wrapped = Object.create(api) as CoreV1Api;
  const counted = async <T>(base: string, write: Promise<T>): Promise<T> => {
    try {
      const result = await write;
      stats.bases.push(base);
      return result;
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) stats.conflicts++;
      throw err;
    }
  };
  wrapped.readNamespacedConfigMap = async (param, options) => {
    const cm = await api.readNamespacedConfigMap(param, options);
    await delay(pauseMs);
    await afterRead?.();
    return cm;
  };
  wrapped.createNamespacedConfigMap = (param, options) => counted('', api.createNamespacedConfigMap(param, options));
  wrapped.replaceNamespacedConfigMap = (param, options) =>
    counted(param.body.metadata?.resourceVersion ?? 'none', api.replaceNamespacedConfigMap(param, options));
  return wrapped;
}

test('reconcile records distinct node CIDRs in the ConfigMap, and each node reads its own', async () => {
  const store = new NodeCidrStore(core, NAMESPACE);
  assert.equal(store.name, DEFAULT_NODE_CIDR_CONFIGMAP);
  assert.deepEqual(await store.read(), { assignment: new Map() });
  assert.equal(await store.nodeCidr('node-a'), undefined);

  const { assignment, problems } = await store.reconcile(CLUSTER, 24, ['node-b', 'node-a', 'node-c']);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    [...assignment].sort(),
    [
      ['node-a', '10.112.0.0/24'],
      ['node-b', '10.112.1.0/24'],
      ['node-c', '10.112.2.0/24'],
    ],
  );
  assert.deepEqual(await recorded(DEFAULT_NODE_CIDR_CONFIGMAP), assignment);
  const read = await store.read();
  assert.deepEqual(read.assignment, assignment);
  assert.ok(read.resourceVersion);
  assert.equal(await store.nodeCidr('node-b'), '10.112.1.0/24');
  assert.equal(await store.nodeCidr('node-z'), undefined);
});

test('a new leader continues from what is recorded and writes nothing when nothing changes', async () => {
  const name = 'continue';
  const first = await new NodeCidrStore(core, NAMESPACE, name).reconcile(CLUSTER, 24, ['a', 'b', 'c']);
  const next = new NodeCidrStore(core, NAMESPACE, name);
  const { resourceVersion } = await next.read();
  const again = await next.reconcile(CLUSTER, 24, ['c', 'b', 'a']);
  assert.deepEqual(again.assignment, first.assignment);
  assert.equal((await next.read()).resourceVersion, resourceVersion, 'an unchanged assignment is not rewritten');

  const grown = await next.reconcile(CLUSTER, 24, ['a', 'b', 'c', 'd']);
  for (const node of ['a', 'b', 'c']) assert.equal(grown.assignment.get(node), first.assignment.get(node), `${node} kept its CIDR`);
  assert.equal(grown.assignment.get('d'), '10.112.3.0/24');
  assert.deepEqual(await recorded(name), grown.assignment);
});

test('deleted nodes are dropped and their CIDRs go to the next new node', async () => {
  const store = new NodeCidrStore(core, NAMESPACE, 'deletions');
  const before = await store.reconcile(CLUSTER, 24, ['a', 'b', 'c']);
  const after = await store.reconcile(CLUSTER, 24, ['a', 'c']);
  assert.deepEqual(await recorded('deletions'), new Map([...before.assignment].filter(([n]) => n !== 'b')));
  assert.equal(after.assignment.has('b'), false);
  const joined = await store.reconcile(CLUSTER, 24, ['a', 'c', 'e']);
  assert.equal(joined.assignment.get('e'), before.assignment.get('b'));
});

test('a hand-damaged record is reported and repaired; a node reading garbage gets a typed error', async () => {
  const name = 'damaged';
  await core.createNamespacedConfigMap({
    namespace: NAMESPACE,
    body: { metadata: { name }, data: { a: '10.112.7.0/24', b: '10.112.7.0/24', c: 'ten', gone: '10.112.0.0/24' } },
  });
  const store = new NodeCidrStore(core, NAMESPACE, name);
  await assert.rejects(store.nodeCidr('c'), { name: 'IpamError', code: 'INVALID_CIDR', message: /records "ten" for node c/ });
  const { assignment, problems } = await store.reconcile(CLUSTER, 24, ['a', 'b', 'c']);
  assert.deepEqual(
    problems.map((p) => [p.node, p.code]),
    [
      ['b', 'ADDRESS_TAKEN'],
      ['c', 'INVALID_CIDR'],
    ],
  );
  assert.deepEqual(
    assignment,
    new Map([
      ['a', '10.112.7.0/24'],
      ['b', '10.112.0.0/24'],
      ['c', '10.112.1.0/24'],
    ]),
  );
  assert.deepEqual(await recorded(name), assignment);
  assert.equal(await store.nodeCidr('c'), '10.112.1.0/24');
});

test('two leaders reconciling at once never record one CIDR for two nodes', async () => {
  const name = 'race';
  const stats: WriteStats = { conflicts: 0, bases: [] };
  const left = new NodeCidrStore(slowReader(core, 30, stats), NAMESPACE, name);
  const right = new NodeCidrStore(slowReader(core, 30, stats), NAMESPACE, name);
  for (let round = 0; round < 20; round++) {
    // Different, overlapping views of the cluster, changing every round, so every reconcile writes.
    const leftNodes = Array.from({ length: 6 }, (_, i) => `node-${(round + i) % 12}`);
    const rightNodes = Array.from({ length: 6 }, (_, i) => `node-${(round * 5 + i) % 12}`).concat(`right-${round}`);
    const [l, r] = await Promise.all([left.reconcile(CLUSTER, 24, leftNodes), right.reconcile(CLUSTER, 24, rightNodes)]);
    assertDistinct(l.assignment, `round ${round} left`);
    assertDistinct(r.assignment, `round ${round} right`);
    const stored = await recorded(name);
    assertDistinct(stored, `round ${round} stored`);
    // The record is exactly what the last writer decided: no write was lost or merged.
    const isLeft = JSON.stringify([...stored].sort()) === JSON.stringify([...l.assignment].sort());
    const isRight = JSON.stringify([...stored].sort()) === JSON.stringify([...r.assignment].sort());
    assert.ok(isLeft || isRight, `round ${round}: stored ${JSON.stringify([...stored])} is neither leader's decision`);
  }
  assert.ok(stats.conflicts > 0, 'the leaders really collided (409s were retried)');
  // No lost update: every successful write replaced a different version, so each decision saw the one before it.
  assert.equal(new Set(stats.bases).size, stats.bases.length, `two writes replaced the same version: ${stats.bases.join(' ')}`);
  assert.ok(!stats.bases.includes('none'), 'every replace named the resourceVersion it was decided on');
});

test('a record that keeps changing ends in STORE_CONFLICT after the bounded retries', async () => {
  const name = 'contended';
  await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name }, data: {} } });
  let bumps = 0;
  // Another writer touches the ConfigMap between every read and write of this store.
  const meddle = async () => {
    bumps++;
    const cm = await core.readNamespacedConfigMap({ name, namespace: NAMESPACE });
    const metadata = cm.metadata ?? {};
    metadata.annotations = { bump: `${bumps}` };
    await core.replaceNamespacedConfigMap({ name, namespace: NAMESPACE, body: { metadata, data: cm.data ?? {} } });
  };
  const stats: WriteStats = { conflicts: 0, bases: [] };
  const store = new NodeCidrStore(slowReader(core, 0, stats, meddle), NAMESPACE, name, { maxAttempts: 3, retryDelayMs: 1 });
  await assert.rejects(store.reconcile(CLUSTER, 24, ['a']), (err: unknown) => {
    assert.ok(err instanceof IpamError);
    assert.equal(err.code, 'STORE_CONFLICT');
    assert.match(err.message, /3 attempts/);
    assert.ok(err.cause instanceof ApiException && err.cause.code === 409);
    return true;
  });
  assert.equal(stats.conflicts, 3);
  assert.deepEqual(await recorded(name), new Map());
});

test('API failures other than conflicts are STORE_FAILED errors that say what to fix', async () => {
  const missing = new NodeCidrStore(core, 'no-such-namespace', 'x');
  await assert.rejects(missing.reconcile(CLUSTER, 24, ['a']), (err: unknown) => {
    assert.ok(err instanceof IpamError);
    assert.equal(err.code, 'STORE_FAILED');
    assert.equal(
      err.message,
      'create ConfigMap no-such-namespace/x failed (HTTP 404): namespaces "no-such-namespace" not found; check that namespace no-such-namespace exists',
    );
    assert.ok(err.cause instanceof ApiException);
    return true;
  });

  // A user the apiserver knows but RBAC grants nothing.
  assert.ok(plane);
  const creds = await plane.issueClientCert('fleetboard-nobody');
  const admin = plane.kubeConfig();
  const cluster = admin.getCurrentCluster();
  assert.ok(cluster);
  const nobody = new KubeConfig();
  nobody.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'nobody', certData: Buffer.from(creds.certPem).toString('base64'), keyData: Buffer.from(creds.keyPem).toString('base64') }],
    contexts: [{ name: 'nobody', cluster: cluster.name, user: 'nobody' }],
    currentContext: 'nobody',
  });
  const denied = new NodeCidrStore(nobody.makeApiClient(CoreV1Api), NAMESPACE);
  await assert.rejects(denied.nodeCidr('a'), {
    code: 'STORE_FAILED',
    message: /^get ConfigMap fleetboard-system\/fleetboard-node-cidrs failed \(HTTP 403\): .*needs get, create and update on configmaps in namespace fleetboard-system$/,
  });
});
