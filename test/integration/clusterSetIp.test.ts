import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { ControlPlane } from '../harness/controlPlane.js';
import { startMcsControlPlane } from '../harness/mcsControlPlane.js';
import { ManagedProcess } from '../harness/process.js';
import { runIn } from '../harness/run.js';
import { waitFor } from '../harness/wait.js';
import { addNetns, deleteNetnsAndProcesses, sysctl } from '../../hack/testbed/net.js';
import { ensurePodInterface, type CnfNetns } from '../../plugin/netns/podInterfaceIo.js';
import { hostInterfaceName } from '../../plugin/netns/podInterface.js';
import { IMPORT_MANAGED_BY_LABEL, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_SOURCE_CLUSTER, LABEL_SOURCE_CONNECTED, MANAGED_BY, MCS_GROUP } from '../../controller/mcs/api.js';
import { ClusterSetLoadBalancer } from '../../controller/clustersetip/loadBalancer.js';
import { LocalImports } from '../../controller/mcs/localImports.js';
import { mergePatch } from '../../controller/kube/mergePatch.js';

/**
 * A real apiserver holds the ServiceImport and imported EndpointSlices; the
 * load balancer programs a real cnf netns; pods (netns with eth-fleet) reach
 * the VIP, and backends answer with their names.
 */
const CNF = 'fbt-vip-cnf';
const PODS = { client: 'fbt-vip-client', b1: 'fbt-vip-b1', b2: 'fbt-vip-b2' };
const ADDRESSES = { client: '10.112.1.10', b1: '10.112.1.11', b2: '10.112.1.12' };
const VIP = '10.112.240.1';
const cnf: CnfNetns = { path: `/run/netns/${CNF}`, ref: CNF };
const log = pino({ level: 'error' }, pino.destination(2));

let base = '';
let plane: ControlPlane | undefined;
let kc: KubeConfig;
let localImports: LocalImports | undefined;
let balancer: ClusterSetLoadBalancer | undefined;
const servers: ManagedProcess[] = [];

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'fleetboard-vip-'));
  for (const ns of [CNF, ...Object.values(PODS)]) {
    await deleteNetnsAndProcesses(ns);
    await addNetns(ns);
  }
  await sysctl(CNF, 'net.ipv4.ip_forward', '1');
  // As in a real cnf netns, the global CIDR is routed (there to the WireGuard device): what NAT leaves
  // addressed to a VIP reaches the forward hook, where the table refuses it, instead of failing the route lookup.
  await runIn(CNF, 'ip', ['link', 'add', 'fleetboard0', 'type', 'veth', 'peer', 'name', 'fleetboard0-end']);
  for (const link of ['fleetboard0', 'fleetboard0-end']) await runIn(CNF, 'ip', ['link', 'set', link, 'up']);
  await runIn(CNF, 'ip', ['route', 'add', '10.112.0.0/12', 'dev', 'fleetboard0']);
  for (const [i, [role, ns]] of Object.entries(PODS).entries()) {
    const address = ADDRESSES[role as keyof typeof ADDRESSES];
    await ensurePodInterface(`/run/netns/${ns}`, { ifName: 'eth-fleet', hostIfName: hostInterfaceName(`vip-${i}`), address, prefixLength: 24, gateway: '10.112.1.1', mac: `0a:58:0a:70:01:${(10 + i).toString(16)}`, mtu: 1420, routes: [{ dst: '10.112.0.0/12', gw: '10.112.1.1' }] }, cnf);
  }
  for (const name of ['b1', 'b2'] as const) {
    // Each backend answers with its own name, on the target port 8080.
    const server = new ManagedProcess({ name, command: process.execPath, args: ['-e', `require('http').createServer((q, r) => r.end('${name}')).listen(8080)`], netns: PODS[name], logFile: join(base, `${name}.log`) });
    server.start();
    servers.push(server);
  }
  ({ plane, kc } = await startMcsControlPlane('vip', join(base, 'cp')));
  localImports = new LocalImports(kc, log);
  await localImports.start();
  balancer = new ClusterSetLoadBalancer(localImports, { globalCidr: '10.112.0.0/12', target: { netns: cnf.path }, log });
  balancer.start();
});

after(async () => {
  await balancer?.stop();
  await localImports?.stop();
  for (const s of servers) await s.stop();
  await plane?.stop();
  for (const ns of [CNF, ...Object.values(PODS)]) await deleteNetnsAndProcesses(ns);
  await rm(base, { recursive: true, force: true });
});

function slice(name: string, cluster: string, addresses: string[], labels: Record<string, string> = {}, service = 'web'): V1EndpointSlice {
  return {
    metadata: { name, namespace: 'default', labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_SERVICE_NAME]: service, [LABEL_SOURCE_CLUSTER]: cluster, ...labels } },
    addressType: 'IPv4',
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

function serviceImport(name: string, vip: string, spec: Record<string, unknown> = {}): object {
  return { apiVersion: `${MCS_GROUP}/v1beta1`, kind: 'ServiceImport', metadata: { name, labels: { [IMPORT_MANAGED_BY_LABEL]: MANAGED_BY } }, spec: { type: 'ClusterSetIP', ips: [vip], ports: [{ name: 'http', protocol: 'TCP', port: 80 }], ...spec } };
}

/** What a pod (the client unless told) gets from a VIP: the backend's name, or the curl error. */
async function fetchVip(port = 80, vip = VIP, from: string = PODS.client): Promise<string> {
  return runIn(from, 'curl', ['-sS', '--max-time', '2', `http://${vip}:${port}/`]).then(
    (r) => r.stdout,
    (err: unknown) => `error: ${(err as Error).message}`,
  );
}

/** Waits until repeated requests to the VIP have reached exactly `names`. */
async function backendsSeen(names: string[]): Promise<void> {
  await waitFor(
    async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 24; i++) seen.add(await fetchVip());
      return JSON.stringify([...seen].sort()) === JSON.stringify(names) ? true : undefined;
    },
    { what: `the VIP to be served by ${names.join(', ')}`, timeoutMs: 30_000, intervalMs: 200 },
  );
}

test('a pod reaches a ClusterSetIP through its second interface; connections spread over the ready endpoints of all connected clusters', async () => {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  await custom.createNamespacedCustomObject({
    group: MCS_GROUP,
    version: 'v1beta1',
    plural: 'serviceimports',
    namespace: 'default',
    body: serviceImport('web', VIP),
  });
  await discovery.createNamespacedEndpointSlice({ namespace: 'default', body: slice('cluster1-web', 'cluster1', [ADDRESSES.b1]) });
  await discovery.createNamespacedEndpointSlice({ namespace: 'default', body: slice('cluster2-web', 'cluster2', [ADDRESSES.b2]) });
  await backendsSeen(['b1', 'b2']);

  // A port the service does not have is refused at once, not left to time out.
  const refused = await fetchVip(81);
  assert.match(refused, /error: .*(refused|Couldn't connect)/i);

  // cluster2's tunnel goes down: its endpoints leave the VIP.
  await discovery.patchNamespacedEndpointSlice({ namespace: 'default', name: 'cluster2-web', body: { metadata: { labels: { [LABEL_SOURCE_CONNECTED]: 'false' } } } }, mergePatch);
  await backendsSeen(['b1']);

  // cluster1 scales to zero and cluster2 comes back.
  await discovery.deleteNamespacedEndpointSlice({ namespace: 'default', name: 'cluster1-web' });
  await discovery.patchNamespacedEndpointSlice({ namespace: 'default', name: 'cluster2-web', body: { metadata: { labels: { [LABEL_SOURCE_CONNECTED]: 'true' } } } }, mergePatch);
  await backendsSeen(['b2']);

  // Unexported: the VIP no longer answers.
  await custom.deleteNamespacedCustomObject({ group: MCS_GROUP, version: 'v1beta1', plural: 'serviceimports', namespace: 'default', name: 'web' });
  await waitFor(async () => ((await fetchVip()).startsWith('error:') ? true : undefined), { what: 'the VIP to stop answering', timeoutMs: 30_000, intervalMs: 200 });
});

test('a backend reaches the VIP of its own service when it is picked itself, and ClientIP affinity keeps a client on one backend', async () => {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const [selfVip, stickyVip] = ['10.112.240.2', '10.112.240.3'];
  await custom.createNamespacedCustomObject({ group: MCS_GROUP, version: 'v1beta1', plural: 'serviceimports', namespace: 'default', body: serviceImport('self', selfVip) });
  await custom.createNamespacedCustomObject({ group: MCS_GROUP, version: 'v1beta1', plural: 'serviceimports', namespace: 'default', body: serviceImport('sticky', stickyVip, { sessionAffinity: 'ClientIP' }) });
  await discovery.createNamespacedEndpointSlice({ namespace: 'default', body: slice('cluster1-self', 'cluster1', [ADDRESSES.b1], {}, 'self') });
  await discovery.createNamespacedEndpointSlice({ namespace: 'default', body: slice('cluster1-sticky', 'cluster1', [ADDRESSES.b1, ADDRESSES.b2], {}, 'sticky') });

  // b1 is the only backend of `self`: every connection it makes to the VIP comes back to it.
  await waitFor(async () => ((await fetchVip(80, selfVip, PODS.b1)) === 'b1' ? true : undefined), { what: 'b1 to reach itself through the VIP', timeoutMs: 30_000, intervalMs: 200 });
  for (let i = 0; i < 5; i++) assert.equal(await fetchVip(80, selfVip, PODS.b1), 'b1');

  await waitFor(async () => (/^b[12]$/.test(await fetchVip(80, stickyVip)) ? true : undefined), { what: 'the sticky VIP to answer', timeoutMs: 30_000, intervalMs: 200 });
  const answers = new Set<string>();
  for (let i = 0; i < 16; i++) answers.add(await fetchVip(80, stickyVip));
  assert.equal(answers.size, 1, `one client, one backend: got ${[...answers].join(', ')}`);
});

test('a table deleted by hand is written whole again at the next change', async () => {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const vip = '10.112.240.4';
  await custom.createNamespacedCustomObject({ group: MCS_GROUP, version: 'v1beta1', plural: 'serviceimports', namespace: 'default', body: serviceImport('healed', vip) });
  await discovery.createNamespacedEndpointSlice({ namespace: 'default', body: slice('cluster1-healed', 'cluster1', [ADDRESSES.b2], {}, 'healed') });
  await waitFor(async () => ((await fetchVip(80, vip)) === 'b2' ? true : undefined), { what: 'the VIP to answer', timeoutMs: 30_000, intervalMs: 200 });

  await runIn(CNF, 'nft', ['delete', 'table', 'ip', 'fleetboard_lb']);
  assert.match(await fetchVip(80, vip), /^error:/);
  await discovery.patchNamespacedEndpointSlice({ namespace: 'default', name: 'cluster1-healed', body: { endpoints: [ADDRESSES.b1, ADDRESSES.b2].map((a) => ({ addresses: [a], conditions: { ready: true } })) } }, mergePatch);
  await waitFor(async () => ((await fetchVip(80, vip)) === 'b1' ? true : undefined), { what: 'the rewritten table to send the VIP to the new backend', timeoutMs: 30_000, intervalMs: 200 });
});

/** The clients a sticky backend of `vip`:80 remembers, as nft lists its set. */
async function rememberedBy(vip: string, backend: string): Promise<string[]> {
  const set = `clients_svc_${vip.replaceAll('.', '_')}_tcp_80_${backend.replaceAll('.', '_')}_8080`;
  const { stdout } = await runIn(CNF, 'nft', ['-j', 'list', 'set', 'ip', 'fleetboard_lb', set]);
  const listed = JSON.parse(stdout) as { nftables: { set?: { elem?: { elem: { val: string } }[] } }[] };
  return listed.nftables.flatMap((e) => e.set?.elem?.map((x) => x.elem.val) ?? []);
}

const tableHandle = async () => (await runIn(CNF, 'nft', ['-a', 'list', 'table', 'ip', 'fleetboard_lb'])).stdout.split('\n')[0] ?? '';

test('ClientIP affinity: a client stays with its backend when another is added and through whole-table rewrites, and is forgotten after timeoutSeconds', async (t) => {
  // A balancer that rewrites the table every second, in place of the suite's (after() stops it).
  await balancer?.stop();
  balancer = new ClusterSetLoadBalancer(localImports ?? assert.fail('imports started'), { globalCidr: '10.112.0.0/12', target: { netns: cnf.path }, log, resyncMs: 1_000 });
  balancer.start();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const [pinnedVip, briefVip] = ['10.112.240.5', '10.112.240.6'];
  await custom.createNamespacedCustomObject({ group: MCS_GROUP, version: 'v1beta1', plural: 'serviceimports', namespace: 'default', body: serviceImport('pinned', pinnedVip, { sessionAffinity: 'ClientIP' }) });
  await discovery.createNamespacedEndpointSlice({ namespace: 'default', body: slice('cluster1-pinned', 'cluster1', [ADDRESSES.b1], {}, 'pinned') });
  await waitFor(async () => ((await fetchVip(80, pinnedVip)) === 'b1' ? true : undefined), { what: 'the pinned VIP to answer from b1', timeoutMs: 30_000, intervalMs: 200 });
  assert.deepEqual(await rememberedBy(pinnedVip, ADDRESSES.b1), [ADDRESSES.client]);

  // A second backend: new clients may go to either, this one stays with b1.
  await discovery.patchNamespacedEndpointSlice({ namespace: 'default', name: 'cluster1-pinned', body: { endpoints: [ADDRESSES.b1, ADDRESSES.b2].map((a) => ({ addresses: [a], conditions: { ready: true } })) } }, mergePatch);
  await waitFor(async () => (await rememberedBy(pinnedVip, ADDRESSES.b2).then(() => true, () => undefined)), { what: 'b2 to join the pinned service', timeoutMs: 30_000, intervalMs: 200 });
  for (let i = 0; i < 16; i++) assert.equal(await fetchVip(80, pinnedVip), 'b1', 'the client stays with b1 after b2 is added');

  // Whole-table rewrites (the periodic resync) carry the client over.
  const before = await tableHandle();
  await waitFor(async () => ((await tableHandle()) !== before ? true : undefined), { what: 'the table to be rewritten whole', timeoutMs: 10_000, intervalMs: 100 });
  assert.deepEqual(await rememberedBy(pinnedVip, ADDRESSES.b1), [ADDRESSES.client], 'b1 still remembers the client after the rewrite');
  for (let i = 0; i < 16; i++) assert.equal(await fetchVip(80, pinnedVip), 'b1', 'the client stays with b1 after a rewrite');

  // timeoutSeconds: 3. The client is forgotten about three seconds after its last connection, through
  // rewrites every second (each carries the time left, which nft lists in whole seconds, to within 0.5 s).
  await custom.createNamespacedCustomObject({ group: MCS_GROUP, version: 'v1beta1', plural: 'serviceimports', namespace: 'default', body: serviceImport('brief', briefVip, { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 3 } } }) });
  await discovery.createNamespacedEndpointSlice({ namespace: 'default', body: slice('cluster1-brief', 'cluster1', [ADDRESSES.b1, ADDRESSES.b2], {}, 'brief') });
  const first = await waitFor(async () => { const b = await fetchVip(80, briefVip); return /^b[12]$/.test(b) ? b : undefined; }, { what: 'the brief VIP to answer', timeoutMs: 30_000, intervalMs: 200 });
  const backend = first === 'b1' ? ADDRESSES.b1 : ADDRESSES.b2;
  const connected = Date.now();
  assert.deepEqual(await rememberedBy(briefVip, backend), [ADDRESSES.client]);
  await waitFor(async () => ((await rememberedBy(briefVip, backend)).length === 0 ? true : undefined), { what: 'the brief service to forget the client', timeoutMs: 15_000, intervalMs: 100 });
  const forgottenAfter = (Date.now() - connected) / 1000;
  t.diagnostic(`a client of a 3 s affinity was forgotten ${forgottenAfter.toFixed(2)} s after its connection, through rewrites every second`);
  assert.ok(forgottenAfter > 1.5 && forgottenAfter < 5, `forgotten after ${forgottenAfter.toFixed(1)} s, with a timeout of 3 s`);
});
