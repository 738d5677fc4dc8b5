import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, ApiextensionsV1Api, AppsV1Api, AuthenticationV1Api, CoreV1Api, RbacAuthorizationV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { down, kubeConfigFor, up } from '../../hack/testbed/testbed.js';
import { AGENT_NAMESPACE, agentValues } from '../../hack/testbed/fleetboardAgent.js';
import { HUB_NAMESPACE } from '../../hack/testbed/fleetboardHub.js';
import { bootstrapTokenSecret, newBootstrapToken, tokenText } from '../../controller/cli/bootstrapToken.js';
import { createAll } from '../../hack/testbed/apply.js';
import { helmUninstall, helmUpgrade } from '../../hack/testbed/charts.js';
import { containsCidr, parseCidr } from '../../controller/ipam/cidr.js';
import { clusterSetIpRange } from '../../controller/ipam/clusterSetIps.js';
import { FLEETBOARD_GROUP, FLEETBOARD_VERSION, HUB_PEER_NAME, memberNamespace } from '../../controller/clusterset/peer.js';
import { JOIN_REQUEST_PLURAL } from '../../controller/clusterset/joinRequest.js';
import { JoinRequestKind, PeerKind } from '../../controller/objects/fleetboard.js';
import { ServiceExportKind, ServiceImportKind, type ServiceExport, type ServiceImport } from '../../controller/objects/mcs.js';
import { EndpointSliceKind } from '../../controller/objects/discovery.js';
import { readAs, readIfFound, readItems } from '../harness/objects.js';
import { CredentialStore, HUB_CREDENTIALS_SECRET } from '../../controller/member/credentialStore.js';
import { hubKubeConfig } from '../../controller/member/hubKubeConfig.js';
import { HubJoiner, JoinError } from '../../controller/member/join.js';
import { newSessionKeyPair } from '../../controller/clusterset/sealedBox.js';
import { generatePrivateKey, keyToHex, publicKeyOf } from '../../controller/wireguard/keys.js';
import { MCS_GROUP, MCS_VERSION } from '../../controller/mcs/api.js';
import { createNginxApp, createPauseDeployment, scaleDeployment, waitForReadyPods, waitForRollouts } from '../harness/cluster.js';
import { cnfPods, curlTitle, fleetInterface, globalIp, leaderCnf, netnsOf, vipBackends } from '../harness/fleetboard.js';
import { caOf, exposeMember, hubEndpoint, hubLeader, hubPeer, installHub, joinMaterial, joinMember, joinToken, memberHubClient } from '../harness/clusterset.js';
import { outageDuring } from '../harness/outage.js';
import { captureIn, run, runIn } from '../harness/run.js';
import { toolPath } from '../harness/tools.js';
import { waitFor } from '../harness/wait.js';
import { fleetctl } from '../harness/fleetctl.js';
import { testbedPaths } from '../../hack/testbed/paths.js';
import type { ClustersetView } from '../../controller/cli/clustersetView.js';
import type { PairResult } from '../../controller/cli/benchmarkPlan.js';
import { mergePatch } from '../../controller/kube/mergePatch.js';

const GLOBAL_CIDR = '10.112.0.0/12';
const MEMBERS = ['cluster1', 'cluster2'] as const;
/** Short leases so a crashed leader is replaced quickly; a 5 s keepalive so NAT mappings form at once; a zone for names chosen per export. */
const AGENT = { leaseDuration: 4, renewDeadline: 3, retryPeriod: 1, keepalive: 5, dns: { customZones: ['shared.example'] } };
const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
/** What the README's uninstall has users delete by hand: the CRDs Helm leaves, and the annotations pods keep. */
const FLEETBOARD_CRDS = ['serviceexports.multicluster.x-k8s.io', 'serviceimports.multicluster.x-k8s.io', 'peers.fleetboard.io', 'joinrequests.fleetboard.io'];
const POD_ANNOTATIONS = ['ip_address', 'cidr', 'gateway', 'mac_address', 'routes', 'allocated', 'pod_nic_type'].map((a) => `fleetboard.io/${a}`);




/** Waits until the API refuses `call` with `code`; returns the apiserver's message. */
async function refused(call: () => Promise<unknown>, code: number): Promise<string> {
  try {
    await call();
  } catch (err) {
    assert.ok(err instanceof ApiException, String(err));
    assert.equal(err.code, code, String(err.body));
    return String(err.body);
  }
  assert.fail(`expected HTTP ${code}, the call succeeded`);
}

describe('clusters join a hub and reach each other (hub + 2 members behind NAT, same pod CIDR, different CNIs)', () => {
  let hub: KubeConfig;
  const kc: Record<string, KubeConfig> = {};
  const nginx: Record<string, V1Pod[]> = {};
  let bootstrapToken: string;

  before(async () => {
    await up({ clusters: 2, nodes: 2 });
    hub = kubeConfigFor('hub');
    bootstrapToken = await installHub(hub, { nodes: 2, leaseDuration: 4, renewDeadline: 3, retryPeriod: 1 });
    for (const c of MEMBERS) kc[c] = kubeConfigFor(c);
    await Promise.all(MEMBERS.map((c) => joinMember(kc[c] as KubeConfig, hub, c, bootstrapToken, 2, AGENT)));
    for (const c of MEMBERS) await createNginxApp(kc[c] as KubeConfig, 'default', 2);
    for (const c of MEMBERS) {
      const pods = await waitForReadyPods(kc[c] as KubeConfig, 'default', 'app=nginx-app', 2);
      assert.equal(new Set(pods.map((p) => p.spec?.nodeName)).size, 2, `${c} runs nginx on both nodes`);
      nginx[c] = pods;
    }
  });

  after(async () => {
    await down();
  });

  test('each member gets its own hub namespace and a distinct cluster CIDR from the global CIDR, and its pods are addressed from it', async () => {
    const cidrs = new Set<string>();
    for (const c of MEMBERS) {
      const peer = await hubPeer(hub, memberNamespace(c), c);
      assert.ok(peer, `Peer ${memberNamespace(c)}/${c} exists`);
      const [cidr] = peer.spec.clusterCIDR;
      assert.ok(cidr && containsCidr(parseCidr(GLOBAL_CIDR), parseCidr(cidr)) && cidr.endsWith('/16'), `${c} has a /16 of ${GLOBAL_CIDR}: ${String(cidr)}`);
      cidrs.add(cidr);
      for (const p of nginx[c] ?? []) assert.ok(containsCidr(parseCidr(cidr), parseCidr(`${globalIp(p)}/32`)), `${p.metadata?.name ?? ''} in ${c} has ${globalIp(p)} from ${cidr}`);
      const req = readAs(JoinRequestKind, await hub.makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: JOIN_REQUEST_PLURAL, name: c }));
      assert.equal(req.status.phase, 'Approved');
      // A token is a JWT: base64url header and payload, each starting "eyJ" ('{"'), joined by a dot. Random
      // ciphertext can contain "eyJ" by chance, but not a dot, so only a readable token matches.
      assert.doesNotMatch(JSON.stringify(req), /eyJ[\w-]*\.eyJ[\w-]*\./, 'the JoinRequest holds no readable token');
    }
    assert.equal(cidrs.size, 2, 'the members have different cluster CIDRs');
  });

  test('a pod in each cluster curls nginx in the other cluster by its global address, from the gateway node and from the other node', async () => {
    for (const [from, to] of [['cluster1', 'cluster2'], ['cluster2', 'cluster1']] as const) {
      for (const source of nginx[from] ?? []) {
        for (const target of nginx[to] ?? []) {
          const title = await waitFor(() => curlTitle(netnsOf(from, source), globalIp(target)).catch(() => undefined), {
            what: `${source.spec?.nodeName ?? ''} reaching ${globalIp(target)} in ${to}`,
            timeoutMs: 30_000,
          });
          assert.equal(title, 'Welcome to nginx!');
        }
      }
    }
  });

  test('between clusters the underlay carries only WireGuard: no pod address in clear on the gateway', async () => {
    const gateway = await leaderCnf(kc.cluster1 as KubeConfig);
    const source = nginx.cluster1?.find((p) => p.spec?.nodeName === gateway.spec?.nodeName) ?? assert.fail('an nginx pod on the gateway node');
    const { tunnelEndpoint } = hubEndpoint();
    const toHub = (l: string) => l.includes(`> ${tunnelEndpoint}.31820: UDP`);
    const capture = await captureIn(netnsOf('cluster1', gateway), 'eth0', ['-c', '2000']);
    try {
      // tcpdump may report "listening" a moment before it sees packets: repeat the requests until it does.
      await waitFor(
        async () => {
          for (const target of nginx.cluster2 ?? []) assert.equal(await curlTitle(netnsOf('cluster1', source), globalIp(target)), 'Welcome to nginx!');
          return capture.seen().some(toHub) ? true : undefined;
        },
        { what: 'WireGuard packets to the hub on the gateway\'s underlay', timeoutMs: 20_000, intervalMs: 500 },
      );
    } finally {
      const lines = await capture.stop();
      const clear = lines.filter((l) => /\b10\.11[2-9]\./.test(l));
      assert.deepEqual(clear, [], 'no packet shows a global address in clear');
    }
  });

  test('the Peers show tunnel health: the hub sees each member connected, each gateway reports handshake and bytes', async () => {
    for (const c of MEMBERS) {
      const peer = await waitFor(
        async () => {
          const p = await hubPeer(hub, memberNamespace(c), c);
          const connected = p?.status.conditions.find((x) => x.type === 'Connected')?.status === 'True';
          return connected && p.status.tunnel?.lastHandshake && (p.status.tunnel.rxBytes ?? 0) > 0 ? p : undefined;
        },
        { what: `${c}'s Peer status`, timeoutMs: 30_000, intervalMs: 1000 },
      );
      const gateway = await leaderCnf(kc[c] as KubeConfig);
      const routed = peer.status.conditions.find((x) => x.type === 'Routed');
      assert.equal(routed?.status, 'True');
      assert.equal(routed.message, `the hub routes ${peer.spec.clusterCIDR[0] ?? ''} to this cluster's gateway`);
      assert.equal(peer.status.tunnel?.gatewayNode, gateway.spec?.nodeName);
      assert.equal(peer.spec.publicKey, gateway.metadata?.annotations?.['fleetboard.io/public-key'], 'the Peer holds the gateway\'s public key');
    }
  });

  test('with cluster2\'s credentials, nothing of cluster1 in the hub can be written (403), no secret of the hub read, nothing outside its namespace written, nor cluster2\'s own CIDR changed', async () => {
    const asCluster2 = await memberHubClient(kc.cluster2 as KubeConfig, hub);
    const custom = asCluster2.makeApiClient(CustomObjectsApi);
    const peerApi = { group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: 'peers' };
    const cluster1Ns = memberNamespace('cluster1');
    await refused(() => custom.patchNamespacedCustomObject({ ...peerApi, namespace: cluster1Ns, name: 'cluster1', body: [{ op: 'replace', path: '/spec/publicKey', value: publicKeyOf(generatePrivateKey()) }] }), 403);
    await refused(() => custom.deleteNamespacedCustomObject({ ...peerApi, namespace: cluster1Ns, name: 'cluster1' }), 403);
    await refused(() => asCluster2.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: cluster1Ns, body: { metadata: { name: 'intruder' } } }), 403);
    await refused(() => asCluster2.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace: cluster1Ns, name: 'anything' }), 403);
    // Nor any secret of the hub, nor anything outside its own namespace.
    await refused(() => asCluster2.makeApiClient(CoreV1Api).listSecretForAllNamespaces(), 403);
    await refused(() => asCluster2.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: 'kube-system' }), 403);
    await refused(() => asCluster2.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: HUB_NAMESPACE }), 403);
    await refused(() => asCluster2.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'intruder' } } }), 403);
    const cluster1Cidr = (await hubPeer(hub, cluster1Ns, 'cluster1'))?.spec.clusterCIDR ?? [];
    const policy = await refused(
      () => custom.patchNamespacedCustomObject({ ...peerApi, namespace: memberNamespace('cluster2'), name: 'cluster2', body: [{ op: 'replace', path: '/spec/clusterCIDR', value: cluster1Cidr }] }),
      403,
    );
    assert.match(policy, /may not change clusterID, clusterCIDR or isHub/);
    // Reading the clusterset's Peers is allowed: that is how a member learns the other clusters.
    const peers = readItems(PeerKind, await custom.listCustomObjectForAllNamespaces(peerApi));
    assert.ok(peers.some((p) => p.spec?.clusterID === 'cluster1'));
    assert.deepEqual((await hubPeer(hub, cluster1Ns, 'cluster1'))?.spec.clusterCIDR, cluster1Cidr, 'cluster1\'s Peer is unchanged');
  });

  test('Peers the hub cannot trust (written by hand: claiming a CIDR the hub did not allocate, or with a malformed key) are not routed, and say why', async () => {
    const core = hub.makeApiClient(CoreV1Api);
    const custom = hub.makeApiClient(CustomObjectsApi);
    const cluster1Cidr = (await hubPeer(hub, memberNamespace('cluster1'), 'cluster1'))?.spec.clusterCIDR ?? [];
    const cases = [
      { id: 'rogue', publicKey: publicKeyOf(generatePrivateKey()), reason: /the hub has no cluster CIDR recorded for rogue/ },
      { id: 'badkey', publicKey: 'not-a-key', reason: /spec\.publicKey is not a WireGuard public key/ },
    ];
    for (const c of cases) {
      const namespace = memberNamespace(c.id);
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      try {
        await custom.createNamespacedCustomObject({
          group: FLEETBOARD_GROUP,
          version: FLEETBOARD_VERSION,
          plural: 'peers',
          namespace,
          body: { apiVersion: `${FLEETBOARD_GROUP}/${FLEETBOARD_VERSION}`, kind: 'Peer', metadata: { name: c.id }, spec: { clusterID: c.id, clusterCIDR: cluster1Cidr, publicKey: c.publicKey, isHub: false, isPublic: false } },
        });
        const refusedPeer = await waitFor(
          async () => {
            const routed = (await hubPeer(hub, namespace, c.id))?.status.conditions.find((x) => x.type === 'Routed');
            return routed?.status === 'False' ? routed : undefined;
          },
          { what: `the hub to flag the ${c.id} Peer`, timeoutMs: 30_000, intervalMs: 500 },
        );
        assert.equal(refusedPeer.reason, 'Refused');
        assert.match(refusedPeer.message ?? '', c.reason);
        assert.equal((await hubPeer(hub, memberNamespace('cluster1'), 'cluster1'))?.status.conditions.find((x) => x.type === 'Routed')?.status, 'True', 'cluster1 is still routed');
      } finally {
        await core.deleteNamespace({ name: namespace });
      }
    }
  });

  test('a ServiceExport: NoService until its Service exists, then Valid and Ready; the hub holds it with its endpoints\' global addresses, and every member imports it; unexporting removes it everywhere', async () => {
    const member = kc.cluster1 as KubeConfig;
    const custom = member.makeApiClient(CustomObjectsApi);
    const exportApi = { group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceexports', namespace: 'default' };
    const condition = (type: string, reason: string) =>
      waitFor(
        async () => {
          const exp = readAs(ServiceExportKind, await custom.getNamespacedCustomObject({ ...exportApi, name: 'checked-svc' }));
          return exp.status.conditions.find((c) => c.type === type && c.reason === reason);
        },
        { what: `ServiceExport checked-svc: ${type}/${reason}`, timeoutMs: 30_000, intervalMs: 500 },
      );
    const hubImportApi = { group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceimports', namespace: memberNamespace('cluster1') };
    const hubService = async (): Promise<ServiceImport | undefined> => {
      try {
        return readAs(ServiceImportKind, await hub.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...hubImportApi, name: 'checked-svc.default' }));
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    };
    const hubSlices = async () =>
      readItems(EndpointSliceKind, await hub.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: memberNamespace('cluster1'), labelSelector: 'multicluster.kubernetes.io/service-name=checked-svc' }));
    // As the seed example allows: cluster2 already has a ServiceImport made by hand, which is to be adopted.
    const handMade = (await (kc.cluster2 as KubeConfig).makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: MCS_GROUP,
      version: MCS_VERSION,
      plural: 'serviceimports',
      namespace: 'default',
      body: { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceImport', metadata: { name: 'checked-svc' }, spec: { type: 'ClusterSetIP', ports: [{ port: 80, protocol: 'TCP' }] } },
    })) as ServiceImport;
    await custom.createNamespacedCustomObject({ ...exportApi, body: { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceExport', metadata: { name: 'checked-svc' } } });
    try {
      assert.equal((await condition('Valid', 'NoService')).status, 'False');
      await member.makeApiClient(CoreV1Api).createNamespacedService({ namespace: 'default', body: { metadata: { name: 'checked-svc' }, spec: { selector: { app: 'nginx-app' }, ports: [{ name: 'http', port: 80 }] } } });
      assert.equal((await condition('Valid', 'Valid')).status, 'True');
      assert.match((await condition('Ready', 'Exported')).message ?? '', /2 endpoint\(s\) published/);
      const published = await waitFor(async () => ((await hubSlices()).flatMap((s) => s.endpoints).length === 2 ? hubSlices() : undefined), { what: 'checked-svc\'s slices in the hub', timeoutMs: 30_000 });
      const described = await hubService();
      assert.equal(described?.spec.type, 'ClusterSetIP');
      assert.deepEqual(described.spec.ports, [{ name: 'http', protocol: 'TCP', port: 80 }]);
      assert.equal(described.metadata.labels['multicluster.kubernetes.io/source-cluster'], 'cluster1');
      const addresses = published.flatMap((s) => s.endpoints.flatMap((e) => e.addresses)).sort();
      assert.deepEqual(addresses, (nginx.cluster1 ?? []).map(globalIp).sort(), 'the nginx pods\' global addresses, not their pod IPs');
      // Every member imports it, the exporting one too: one ServiceImport in the same namespace and the endpoints beside it.
      for (const c of MEMBERS) {
        const local = kc[c] as KubeConfig;
        const imported = await waitFor(
          async () => {
            const i = readIfFound(ServiceImportKind, await local.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceimports', namespace: 'default', name: 'checked-svc' }).catch(() => undefined));
            return i?.status.clusters.length ? i : undefined;
          },
          { what: `${c} importing checked-svc`, timeoutMs: 30_000, intervalMs: 500 },
        );
        assert.equal(imported.spec.type, 'ClusterSetIP');
        assert.deepEqual(imported.spec.ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port })), [{ name: 'http', protocol: 'TCP', port: 80 }]);
        assert.deepEqual(imported.status.clusters.map((x) => x.cluster), ['cluster1']);
        if (c === 'cluster2') assert.equal(imported.metadata.uid, handMade.metadata.uid, 'the ServiceImport made by hand was adopted, not duplicated');
        const localSlices = await waitFor(
          async () => {
            const items = readItems(EndpointSliceKind, await local.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: 'default', labelSelector: 'multicluster.kubernetes.io/service-name=checked-svc,multicluster.kubernetes.io/source-cluster=cluster1' }));
            return items.flatMap((x) => x.endpoints).length === 2 ? items : undefined;
          },
          { what: `${c} importing checked-svc's endpoints`, timeoutMs: 30_000, intervalMs: 500 },
        );
        assert.deepEqual(localSlices.flatMap((x) => x.endpoints.flatMap((e) => e.addresses)).sort(), addresses);
        // Its ClusterSetIP comes from this member's own range and reaches nginx from a pod on a node that does not lead.
        const vip = imported.spec.ips[0] ?? '';
        const clusterCidr = (await hubPeer(hub, memberNamespace(c), c))?.spec.clusterCIDR[0] ?? '';
        assert.ok(containsCidr(clusterSetIpRange(clusterCidr, 24), parseCidr(`${vip}/32`)), `${c}'s ClusterSetIP ${vip} lies in the top of its cluster CIDR ${clusterCidr}`);
        const leaderNode = (await leaderCnf(local)).spec?.nodeName;
        const client = (nginx[c] ?? []).find((p) => p.spec?.nodeName !== leaderNode);
        assert.ok(client, `${c} has an nginx pod off the leader's node`);
        const title = await waitFor(async () => ((await curlTitle(netnsOf(c, client), vip).catch(() => '')) === 'Welcome to nginx!' ? 'Welcome to nginx!' : undefined), { what: `${c}: curl the ClusterSetIP ${vip}`, timeoutMs: 30_000, intervalMs: 500 });
        assert.equal(title, 'Welcome to nginx!');
      }
      assert.equal((await condition('Conflict', 'NoConflicts')).status, 'False');
      for (const s of published) {
        const labels = s.metadata.labels;
        assert.equal(labels['multicluster.kubernetes.io/source-cluster'], 'cluster1');
        assert.equal(labels['endpointslice.kubernetes.io/managed-by'], 'fleetboard.io');
        assert.deepEqual(s.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })), [{ name: 'http', port: 80, protocol: 'TCP' }]);
      }
    } finally {
      await custom.deleteNamespacedCustomObject({ ...exportApi, name: 'checked-svc' });
      await member.makeApiClient(CoreV1Api).deleteNamespacedService({ namespace: 'default', name: 'checked-svc' }).catch(() => undefined);
    }
    await waitFor(async () => ((await hubSlices()).length === 0 && !(await hubService()) ? true : undefined), { what: 'the unexported service to leave the hub', timeoutMs: 30_000 });
    const cluster2 = kc.cluster2 as KubeConfig;
    await waitFor(
      async () => {
        const gone = await cluster2.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceimports', namespace: 'default', name: 'checked-svc' }).then(() => false, () => true);
        const slices = (await cluster2.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: 'default', labelSelector: 'multicluster.kubernetes.io/service-name=checked-svc' })).items;
        return gone && slices.length === 0 ? true : undefined;
      },
      { what: 'cluster2 to drop the import once nobody exports it', timeoutMs: 30_000 },
    );
  });

  test('two clusters export the same service: one import with both clusters\' endpoints, the union of ports and the older export\'s labels; differing port names and labels are a Conflict on both exports, which clears when the older export goes', async () => {
    const exportApi = { group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceexports', namespace: 'default' };
    const ports = { cluster1: [{ name: 'http', port: 80, targetPort: 80 }], cluster2: [{ name: 'web', port: 80, targetPort: 80 }, { name: 'alt', port: 8080, targetPort: 80 }] };
    const exportOf = async (c: (typeof MEMBERS)[number]): Promise<ServiceExport> => readAs(ServiceExportKind, await (kc[c] as KubeConfig).makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...exportApi, name: 'pair-svc' }));
    const conflict = (c: (typeof MEMBERS)[number], status: 'True' | 'False') =>
      waitFor(async () => (await exportOf(c)).status.conditions.find((x) => x.type === 'Conflict' && x.status === status), { what: `${c}'s export of pair-svc: Conflict=${status}`, timeoutMs: 30_000, intervalMs: 500 });
    const importIn = (c: (typeof MEMBERS)[number], clusters: string[]) =>
      waitFor(
        async () => {
          const i = readIfFound(ServiceImportKind, await (kc[c] as KubeConfig).makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceimports', namespace: 'default', name: 'pair-svc' }).catch(() => undefined));
          return JSON.stringify(i?.status.clusters.map((x) => x.cluster)) === JSON.stringify(clusters) ? i : undefined;
        },
        { what: `${c} importing pair-svc from ${clusters.join(' and ')}`, timeoutMs: 30_000, intervalMs: 500 },
      );
    try {
      for (const c of MEMBERS) {
        const local = kc[c] as KubeConfig;
        await local.makeApiClient(CoreV1Api).createNamespacedService({ namespace: 'default', body: { metadata: { name: 'pair-svc' }, spec: { selector: { app: 'nginx-app' }, ports: ports[c] } } });
        const spec = { exportedLabels: { tier: c === 'cluster1' ? 'web' : 'edge' } };
        await local.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ ...exportApi, body: { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceExport', metadata: { name: 'pair-svc' }, spec } });
        // The first export is the older one, whatever the clocks say: wait until the hub has it.
        if (c === 'cluster1') await importIn('cluster2', ['cluster1']);
      }
      for (const c of MEMBERS) {
        const merged = await importIn(c, ['cluster1', 'cluster2']);
        assert.deepEqual(merged.spec.ports.map((p) => `${p.name ?? ''}:${p.port}/${p.protocol}`), ['http:80/TCP', 'alt:8080/TCP'], 'ports are the union; port 80 keeps the older export\'s name');
        assert.equal(merged.metadata.labels.tier, 'web', 'the older export\'s exported labels');
        const slices = await waitFor(
          async () => {
            const items = readItems(EndpointSliceKind, await (kc[c] as KubeConfig).makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: 'default', labelSelector: 'multicluster.kubernetes.io/service-name=pair-svc' }));
            return items.flatMap((x) => x.endpoints).length === 4 ? items : undefined;
          },
          { what: `${c} importing the endpoints of both clusters`, timeoutMs: 30_000, intervalMs: 500 },
        );
        assert.deepEqual([...new Set(slices.map((x) => x.metadata.labels['multicluster.kubernetes.io/source-cluster']))].sort(), ['cluster1', 'cluster2']);
      }
      for (const c of MEMBERS) assert.match((await conflict(c, 'True')).message ?? '', /port 80\/TCP is named "web" in cluster2 but "http"/);
      assert.equal((await exportOf('cluster2')).status.conditions.find((x) => x.type === 'Conflict')?.reason, 'LabelsConflict,PortConflict');

      // The older export goes: cluster2's alone is the service now, without conflict.
      await (kc.cluster1 as KubeConfig).makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ ...exportApi, name: 'pair-svc' });
      const alone = await importIn('cluster1', ['cluster2']);
      assert.deepEqual(alone.spec.ports.map((p) => `${p.name ?? ''}:${p.port}`), ['web:80', 'alt:8080']);
      assert.equal(alone.metadata.labels.tier, 'edge');
      assert.equal((await conflict('cluster2', 'False')).reason, 'NoConflicts');
    } finally {
      for (const c of MEMBERS) {
        const local = kc[c] as KubeConfig;
        await local.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ ...exportApi, name: 'pair-svc' }).catch(() => undefined);
        await local.makeApiClient(CoreV1Api).deleteNamespacedService({ namespace: 'default', name: 'pair-svc' }).catch(() => undefined);
      }
    }
    for (const c of MEMBERS) {
      await waitFor(async () => ((await (kc[c] as KubeConfig).makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceimports', namespace: 'default', name: 'pair-svc' }).then(() => false, () => true)) ? true : undefined), { what: `${c} dropping pair-svc once neither exports it`, timeoutMs: 30_000, intervalMs: 500 });
    }
  });

  test('the seed example: nginx-svc exported from one cluster is fetched by name from a pod in the other, via both zones, from a node that does not lead, and its ClusterSetIP reverse-resolves to it; both directions', async () => {
    for (const [server, client] of [['cluster1', 'cluster2'], ['cluster2', 'cluster1']] as const) {
      const exporter = (kc[server] as KubeConfig).makeApiClient(CustomObjectsApi);
      const exportApi = { group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceexports', namespace: 'default' };
      await exporter.createNamespacedCustomObject({ ...exportApi, body: { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceExport', metadata: { name: 'nginx-svc' } } });
      try {
        const local = kc[client] as KubeConfig;
        const imported = await waitFor(
          async () => {
            const i = readIfFound(ServiceImportKind, await local.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceimports', namespace: 'default', name: 'nginx-svc' }).catch(() => undefined));
            return i?.spec.ips.length && i.status.clusters.some((x) => x.cluster === server) ? i : undefined;
          },
          { what: `${client} importing ${server}'s nginx-svc with a ClusterSetIP`, timeoutMs: 30_000, intervalMs: 500 },
        );
        const leaderNode = (await leaderCnf(local)).spec?.nodeName;
        const pod = (nginx[client] ?? []).find((p) => p.spec?.nodeName !== leaderNode);
        assert.ok(pod, `${client} has an nginx pod off the leader's node`);
        for (const zone of ['hyperos.local', 'clusterset.local']) {
          const name = `nginx-svc.default.svc.${zone}`;
          // Through the cluster's own DNS (CoreDNS forwards the zone to crossdns), as the pod's resolv.conf says.
          const answer = await waitFor(async (): Promise<string | undefined> => (await runIn(netnsOf(client, pod), 'dig', ['+short', name]).catch(() => undefined))?.stdout.trim() || undefined, { what: `${name} to resolve in ${client}`, timeoutMs: 30_000, intervalMs: 500 });
          assert.equal(answer, imported.spec.ips[0], `${name} is the ClusterSetIP ${client} allocated`);
          const title = await waitFor(async (): Promise<string | undefined> => ((await curlTitle(netnsOf(client, pod), name).catch(() => '')) === 'Welcome to nginx!' ? 'ok' : undefined), { what: `curl ${name} from ${client}`, timeoutMs: 30_000, intervalMs: 500 });
          assert.equal(title, 'ok');
        }
        // The reverse lookup of the ClusterSetIP names the service (a PTR record, through the cluster's DNS).
        const reverse = await runIn(netnsOf(client, pod), 'dig', ['+short', '-x', imported.spec.ips[0] ?? '']);
        assert.equal(reverse.stdout.trim(), 'nginx-svc.default.svc.clusterset.local.');
      } finally {
        await exporter.deleteNamespacedCustomObject({ ...exportApi, name: 'nginx-svc' });
      }
      // Unexported: the name goes (NXDOMAIN), so nothing reaches the other cluster's nginx by it any more.
      const anyPod = (nginx[client] ?? [])[0] as V1Pod;
      await waitFor(async () => ((await runIn(netnsOf(client, anyPod), 'dig', ['nginx-svc.default.svc.hyperos.local'])).stdout.includes('status: NXDOMAIN') ? true : undefined), { what: `nginx-svc to leave ${client}'s DNS after the unexport`, timeoutMs: 30_000, intervalMs: 500 });
    }
  });

  test('without namespace sameness: a service exported from a namespace cluster2 lacks is reached there by the name its export chose, and not by the clusterset name', async () => {
    const server = kc.cluster1 as KubeConfig;
    await server.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'shop' } } });
    try {
      await createNginxApp(server, 'shop', 1);
      await waitForReadyPods(server, 'shop', 'app=nginx-app', 1);
      await server.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
        group: MCS_GROUP,
        version: MCS_VERSION,
        plural: 'serviceexports',
        namespace: 'shop',
        body: { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceExport', metadata: { name: 'nginx-svc', annotations: { 'fleetboard.io/dns-name': 'nginx.shared.example' } } },
      });
      const client = (nginx.cluster2 ?? [])[0] as V1Pod;
      const title = await waitFor(async (): Promise<string | undefined> => ((await curlTitle(netnsOf('cluster2', client), 'nginx.shared.example').catch(() => '')) === 'Welcome to nginx!' ? 'ok' : undefined), { what: 'curl nginx.shared.example from cluster2', timeoutMs: 45_000, intervalMs: 500 });
      assert.equal(title, 'ok');
      const { stdout } = await runIn(netnsOf('cluster2', client), 'dig', ['nginx-svc.shop.svc.clusterset.local']);
      assert.match(stdout, /status: NXDOMAIN/, 'cluster2 has no namespace shop, so the clusterset name does not exist there');
    } finally {
      await server.makeApiClient(CoreV1Api).deleteNamespace({ name: 'shop' });
    }
    const client = (nginx.cluster2 ?? [])[0] as V1Pod;
    await waitFor(async () => ((await runIn(netnsOf('cluster2', client), 'dig', ['nginx.shared.example'])).stdout.includes('status: NXDOMAIN') ? true : undefined), { what: 'nginx.shared.example to go once its namespace (and export) is deleted', timeoutMs: 60_000, intervalMs: 1000 });
  });

  test('scaling a Deployment in cluster1 from 3 to 1 and back: cluster2\'s DNS answers (headless) and ClusterSetIP backends follow', async () => {
    const server = kc.cluster1 as KubeConfig;
    const client = kc.cluster2 as KubeConfig;
    await createPauseDeployment(server, 'scale-app', 3);
    const core = server.makeApiClient(CoreV1Api);
    const exporter = server.makeApiClient(CustomObjectsApi);
    const exportApi = { group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceexports', namespace: 'default' };
    const services = { 'scale-vip': undefined, 'scale-headless': 'None' } as const;
    for (const [name, clusterIP] of Object.entries(services)) {
      await core.createNamespacedService({ namespace: 'default', body: { metadata: { name }, spec: { selector: { app: 'scale-app' }, ...(clusterIP ? { clusterIP } : {}), ports: [{ name: 'http', port: 80 }] } } });
      await exporter.createNamespacedCustomObject({ ...exportApi, body: { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceExport', metadata: { name } } });
    }
    const dnsClient = (nginx.cluster2 ?? [])[0] as V1Pod;
    const nodes = [...new Set((nginx.cluster2 ?? []).map((p) => p.spec?.nodeName ?? ''))];
    try {
      for (const replicas of [3, 1, 3]) {
        await scaleDeployment(server, 'scale-app', replicas);
        const pods = await waitForReadyPods(server, 'default', 'app=scale-app', replicas);
        const want = pods.map(globalIp).sort();
        const answer = await waitFor(
          async () => {
            const { stdout } = await runIn(netnsOf('cluster2', dnsClient), 'dig', ['+short', 'scale-headless.default.svc.clusterset.local']);
            const got = stdout.split('\n').filter(Boolean).sort();
            return JSON.stringify(got) === JSON.stringify(want) ? got : undefined;
          },
          { what: `cluster2's DNS to answer the ${replicas} headless endpoint(s) ${want.join(', ')}`, timeoutMs: 30_000, intervalMs: 500 },
        );
        assert.equal(answer.length, replicas);
        // Each endpoint's global address reverse-resolves to its own name in the headless service.
        const endpoint = pods[0] ?? assert.fail('a scale-app pod');
        const ptr = await runIn(netnsOf('cluster2', dnsClient), 'dig', ['+short', '-x', globalIp(endpoint)]);
        assert.equal(ptr.stdout.trim(), `${globalIp(endpoint).replaceAll('.', '-')}.cluster1.scale-headless.default.svc.clusterset.local.`);
        // Every node of cluster2 load-balances the ClusterSetIP to exactly the ready pods.
        for (const node of nodes) {
          const backends = await waitFor(
            async () => {
              const got = await vipBackends('cluster2', client, node, 'default/scale-vip', 80);
              return JSON.stringify(got) === JSON.stringify(want.map((ip) => `${ip}:80`)) ? got : undefined;
            },
            { what: `${node}'s ClusterSetIP backends for scale-vip to be ${want.join(', ')}`, timeoutMs: 30_000, intervalMs: 500 },
          );
          assert.equal(backends.length, replicas);
        }
      }
    } finally {
      for (const name of Object.keys(services)) {
        await exporter.deleteNamespacedCustomObject({ ...exportApi, name }).catch(() => undefined);
        await core.deleteNamespacedService({ namespace: 'default', name }).catch(() => undefined);
      }
      await server.makeApiClient(AppsV1Api).deleteNamespacedDeployment({ namespace: 'default', name: 'scale-app' }).catch(() => undefined);
    }
  });

  test('a wrong or expired bootstrap token cannot join; a taken cluster ID and a malformed request are refused with the reason', async (t) => {
    const core = hub.makeApiClient(CoreV1Api);
    const scratch = 'fleetboard-join-test';
    await core.createNamespace({ body: { metadata: { name: scratch } } });
    t.after(() => core.deleteNamespace({ name: scratch }));
    const { url } = hubEndpoint();
    // The test reaches the hub's apiserver over the host link, members over the wan; the CA is the same.
    const server = hub.getCurrentCluster()?.server ?? url;
    const join = (clusterID: string, token: string) =>
      new HubJoiner(new CredentialStore(core, scratch), { hubUrl: server, caPem: caOf(hub), bootstrapToken: token, clusterID }, log).membership(publicKeyOf(generatePrivateKey()), AbortSignal.timeout(20_000));
    const expectJoinError = async (p: Promise<unknown>, code: string): Promise<string> => {
      const err: unknown = await p.then(
        () => assert.fail(`expected JoinError ${code}, the join succeeded`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof JoinError && err.code === code, `expected JoinError ${code}: ${String(err)}`);
      return err.message;
    };
    const wrong = newBootstrapToken(3600_000);
    assert.match(await expectJoinError(join('cluster3', tokenText(wrong)), 'TOKEN_REFUSED'), /does not accept the bootstrap token/);
    const expired = newBootstrapToken(-60_000);
    await createAll(hub, [bootstrapTokenSecret(expired)]);
    await expectJoinError(join('cluster3', tokenText(expired)), 'TOKEN_REFUSED');
    assert.match(await expectJoinError(join('cluster1', bootstrapToken), 'ID_TAKEN'), /cluster ID "cluster1" is already taken/);

    const asBootstrapper = hubKubeConfig(server, caOf(hub), bootstrapToken).makeApiClient(CustomObjectsApi);
    const joinApi = { group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: JOIN_REQUEST_PLURAL };
    await asBootstrapper.createClusterCustomObject({
      ...joinApi,
      body: { apiVersion: `${FLEETBOARD_GROUP}/${FLEETBOARD_VERSION}`, kind: 'JoinRequest', metadata: { name: 'cluster9' }, spec: { clusterID: 'cluster9', publicKey: 'not-a-key', sessionKey: newSessionKeyPair().publicKey } },
    });
    const answer = await waitFor(
      async () => {
        const r = readAs(JoinRequestKind, await asBootstrapper.getClusterCustomObject({ ...joinApi, name: 'cluster9' }));
        return r.status.phase ? r.status : undefined;
      },
      { what: 'the hub\'s answer to a malformed join', timeoutMs: 20_000 },
    );
    assert.equal(answer.phase, 'Refused');
    assert.match(answer.message ?? '', /spec\.publicKey is not a WireGuard public key/);
    await refused(() => core.readNamespace({ name: memberNamespace('cluster9') }), 404);
    // The bootstrap token asks to join and nothing else.
    await refused(() => asBootstrapper.listCustomObjectForAllNamespaces({ ...joinApi, plural: 'peers' }), 403);
  });

  /** Pings from a cluster1 pod off the gateway node to a cluster2 pod while `disrupt` runs; returns the outage in seconds. */
  async function outageFrom1(disrupt: (gateway: V1Pod) => Promise<void>): Promise<{ outage: number; bitsPerSecond: number }> {
    const gateway = await leaderCnf(kc.cluster1 as KubeConfig);
    const source = nginx.cluster1?.find((p) => p.spec?.nodeName !== gateway.spec?.nodeName) ?? assert.fail('an nginx pod off the gateway node');
    const target = nginx.cluster2?.[0] ?? assert.fail('an nginx pod in cluster2');
    return outageDuring({ sourceNetns: netnsOf('cluster1', source), targetNetns: netnsOf('cluster2', target), targetIp: globalIp(target) }, () => disrupt(gateway));
  }

  const hubFile = () => testbedPaths().kubeconfig('hub');
  const memberFlags = () => MEMBERS.flatMap((c) => ['--member', testbedPaths().kubeconfig(c)]);

  test('fleetctl verify: connectivity and DNS between both members, with real pods, passes every check and removes its namespace', async () => {
    const r = await fleetctl(['--kubeconfig', hubFile(), '-o', 'json', 'verify', ...memberFlags()]);
    const report = JSON.parse(r.stdout) as { passed: number; failed: number; checks: { name: string; ok: boolean; detail: string }[] };
    assert.equal(r.code, 0, `fleetctl verify failed:\n${report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('\n')}\n${r.stderr}`);
    // Per member: cnf ready, connected, a pod addressed; per direction: the import, the global address, clusterset.local and hyperos.local.
    assert.equal(report.failed, 0);
    assert.equal(report.passed, 3 * 2 + 4 * 2, report.checks.map((c) => c.name).join('\n'));
    const namespace = /fleetboard-verify-[0-9a-f]+/.exec(r.stderr)?.[0] ?? assert.fail('verify names its namespace');
    assert.ok(report.checks.some((c) => c.name === `cluster2 → cluster1: http://verify-cluster1.${namespace}.svc.hyperos.local/`), 'the seed zone is checked by name');
    for (const c of MEMBERS) {
      const core = (kc[c] as KubeConfig).makeApiClient(CoreV1Api);
      await waitFor(() => core.readNamespace({ name: namespace }).then(() => undefined, () => true), { what: `namespace ${namespace} gone from ${c}`, timeoutMs: 60_000, intervalMs: 500 });
    }
    await waitFor(async () => ((await fleetctlShow()).exports.some((e) => e.namespace === namespace) ? undefined : true), { what: 'the verify exports withdrawn from the hub', timeoutMs: 30_000, intervalMs: 500 });
  });

  async function fleetctlShow(): Promise<ClustersetView> {
    const r = await fleetctl(['--kubeconfig', hubFile(), 'show', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ClustersetView;
  }

  test('fleetctl show: the hub and both members connected, their CIDRs and gateways, tunnels with a recent handshake and traffic, and an exported service with its endpoints', async () => {
    const exportApi = { group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceexports', namespace: 'default' };
    const exporter = (kc.cluster1 as KubeConfig).makeApiClient(CustomObjectsApi);
    await exporter.createNamespacedCustomObject({ ...exportApi, body: { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceExport', metadata: { name: 'nginx-svc' } } });
    try {
      const view = await waitFor(async () => {
        const v = await fleetctlShow();
        const settled = v.exports.some((e) => e.name === 'nginx-svc' && e.readyEndpoints === 2) && v.clusters.every((c) => c.connected) && v.tunnels.every((t) => t.rxBytes > 0);
        return settled ? v : undefined;
      }, { what: 'fleetctl show listing nginx-svc with 2 ready endpoints and every member connected with traffic', timeoutMs: 30_000, intervalMs: 500 });
      assert.deepEqual(view.clusters.map((c) => [c.clusterID, c.role, c.connected]), [['hub', 'hub', true], ['cluster1', 'member', true], ['cluster2', 'member', true]]);
      for (const c of MEMBERS) {
        const peer = await hubPeer(hub, memberNamespace(c), c);
        const shown = view.clusters.find((x) => x.clusterID === c);
        assert.deepEqual(shown?.cidrs, peer?.spec.clusterCIDR);
        assert.equal(shown?.gateway, (await leaderCnf(kc[c] as KubeConfig)).spec?.nodeName, `${c}'s gateway is its leader's node`);
        const toHub = view.tunnels.find((t) => t.from === c && t.to === 'hub');
        assert.ok(toHub?.up && (toHub.handshakeAgeSeconds ?? Infinity) < 180 && toHub.rxBytes > 0 && toHub.txBytes > 0, `${c} → hub: ${JSON.stringify(toHub)}`);
      }
      assert.deepEqual(view.exports.find((e) => e.name === 'nginx-svc'), { namespace: 'default', name: 'nginx-svc', cluster: 'cluster1', type: 'ClusterSetIP', ports: ['80/TCP'], readyEndpoints: 2 });
      const text = await fleetctl(['--kubeconfig', hubFile(), 'show']);
      assert.match(text.stdout, /^cluster1 +member +10\.\d+\.0\.0\/16 +\S+ +behind NAT +Connected/m);
      assert.match(text.stdout, /^default\/nginx-svc +cluster1 +ClusterSetIP +80\/TCP +2$/m);
    } finally {
      await exporter.deleteNamespacedCustomObject({ ...exportApi, name: 'nginx-svc' });
    }
  });

  test('fleetctl diagnose: every check passes on the healthy clusterset; without cluster2\'s forwarding for hyperos.local, diagnose prints the stanza to add and verify fails exactly the probes by that name', async () => {
    const healthy = await fleetctl(['--kubeconfig', hubFile(), '-o', 'json', 'diagnose', ...memberFlags()]);
    const report = JSON.parse(healthy.stdout) as { failed: number; checks: { name: string; ok: boolean; detail: string }[] };
    assert.equal(healthy.code, 0, report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('\n') + healthy.stderr);
    const names = report.checks.map((c) => c.name);
    for (const expected of ['cluster1/cluster1-node1: NRI plugin registered with the runtime', 'cluster2: cluster DNS forwards hyperos.local to crossdns', 'cluster1 → hub: recent WireGuard handshake', 'tunnel MTU the same in every cluster', 'clocks agree across hub, cluster1, cluster2']) {
      assert.ok(names.includes(expected), `diagnose checks "${expected}"; it checked:\n${names.join('\n')}`);
    }
    const core = (kc.cluster2 as KubeConfig).makeApiClient(CoreV1Api);
    const restartDns = async () => {
      for (const p of (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items) await core.deleteNamespacedPod({ name: p.metadata?.name ?? '', namespace: 'kube-system' });
      await waitForReadyPods(kc.cluster2 as KubeConfig, 'kube-system', 'k8s-app=kube-dns', 2);
    };
    const original = await core.readNamespacedConfigMap({ name: 'coredns', namespace: 'kube-system' });
    const corefile = original.data?.Corefile ?? '';
    const without = corefile.replace(/^hyperos\.local:53 \{[^}]*\}\n/m, '');
    assert.notEqual(without, corefile, 'the testbed forwards hyperos.local as the README says');
    await core.patchNamespacedConfigMap({ name: 'coredns', namespace: 'kube-system', body: { data: { Corefile: without } } }, mergePatch);
    try {
      const broken = await fleetctl(['--kubeconfig', hubFile(), 'diagnose', ...memberFlags()]);
      assert.equal(broken.code, 1);
      assert.match(broken.stdout, /^FAIL {2}cluster2: cluster DNS forwards hyperos\.local to crossdns: kube-system\/coredns has no server block for hyperos\.local; add:\nhyperos\.local:53 \{/m);
      assert.match(broken.stdout, /^1 of \d+ checks failed$/m);
      await restartDns();
      const verified = await fleetctl(['--kubeconfig', hubFile(), '-o', 'json', 'verify', ...memberFlags()]);
      assert.equal(verified.code, 1);
      const failedChecks = (JSON.parse(verified.stdout) as { checks: { name: string; ok: boolean }[] }).checks.filter((c) => !c.ok).map((c) => c.name);
      assert.equal(failedChecks.length, 1, failedChecks.join('\n'));
      assert.match(failedChecks[0] ?? '', /^cluster2 → cluster1: http:\/\/verify-cluster1\.fleetboard-verify-[0-9a-f]+\.svc\.hyperos\.local\/$/);
    } finally {
      await core.patchNamespacedConfigMap({ name: 'coredns', namespace: 'kube-system', body: { data: { Corefile: corefile } } }, mergePatch);
      await restartDns();
    }
  });

  test('fleetctl benchmark: throughput and round trips between pods of both members and within each, read from the client pods\' termination messages', async () => {
    const r = await fleetctl(['--kubeconfig', hubFile(), '-o', 'json', 'benchmark', ...memberFlags(), '--duration', '2s']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const results = JSON.parse(r.stdout) as PairResult[];
    assert.deepEqual(results.map((x) => `${x.from}>${x.to}`), ['cluster1>cluster1', 'cluster1>cluster2', 'cluster2>cluster1', 'cluster2>cluster2']);
    for (const x of results) {
      assert.ok(x.result && x.result.bitsPerSecond > 1e6 && x.result.pings === 200 && x.result.rttMs.p50 > 0, JSON.stringify(x));
    }
    const namespace = /fleetboard-benchmark-[0-9a-f]+/.exec(r.stderr)?.[0] ?? assert.fail('benchmark names its namespace');
    for (const c of MEMBERS) {
      const core = (kc[c] as KubeConfig).makeApiClient(CoreV1Api);
      await waitFor(() => core.readNamespace({ name: namespace }).then(() => undefined, () => true), { what: `namespace ${namespace} gone from ${c}`, timeoutMs: 60_000, intervalMs: 500 });
    }
  });

  test('fleetctl hub token: a created token authenticates into the join group, list shows it without its secret, revoke makes it useless', async () => {
    const created = await fleetctl(['--kubeconfig', hubFile(), '-o', 'json', 'hub', 'token', 'create', '--ttl', '10m', '--description', 'e2e']);
    assert.equal(created.code, 0, created.stderr);
    const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
    // From this host the hub's apiserver is at its kubeconfig's address (members use its wan address).
    const asToken = hubKubeConfig(hub.getCurrentCluster()?.server ?? '', caOf(hub), token).makeApiClient(AuthenticationV1Api);
    const review = await asToken.createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    const user = review.status?.userInfo ?? assert.fail('the review names the user');
    assert.equal(user.username, `system:bootstrap:${id}`);
    assert.ok(user.groups?.includes('system:bootstrappers:fleetboard'), JSON.stringify(user.groups));
    const list = await fleetctl(['--kubeconfig', hubFile(), 'hub', 'token', 'list']);
    assert.match(list.stdout, new RegExp(`^${id} +\\S+ +valid +e2e$`, 'm'));
    assert.doesNotMatch(list.stdout, new RegExp(token.split('.')[1] ?? 'x'), 'the secret half is never listed');
    const revoked = await fleetctl(['--kubeconfig', hubFile(), 'hub', 'token', 'revoke', token]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.doesNotMatch((await fleetctl(['--kubeconfig', hubFile(), 'hub', 'token', 'list'])).stdout, new RegExp(`^${id}`, 'm'));
    await waitFor(() => asToken.createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } }).then(() => undefined, (err: unknown) => (err instanceof ApiException && err.code === 401 ? true : undefined)), { what: 'the revoked token refused (401)', timeoutMs: 30_000, intervalMs: 500 });
    const again = await fleetctl(['--kubeconfig', hubFile(), 'hub', 'token', 'revoke', id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no join token/);
  });

  test('fleetctl join: prints the helm command with the hub URL, CA and a fresh token, which renders an agent that joins this hub; a taken cluster ID is refused', async () => {
    const taken = await fleetctl(['--kubeconfig', hubFile(), 'join', 'cluster1']);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /cluster ID cluster1 is taken/);
    const r = await fleetctl(['--kubeconfig', hubFile(), '-o', 'json', 'join', 'cluster3', '--hub-url', hubEndpoint().url, '--chart', 'charts/fleetboard-agent']);
    assert.equal(r.code, 0, r.stderr);
    const { command } = JSON.parse(r.stdout) as { command: string[] };
    const sets = Object.fromEntries(command.flatMap((a, i) => (command[i - 1] === '--set' ? [a.split(/=(.*)/s).slice(0, 2)] : [])) as [string, string][]);
    assert.equal(sets['hub.hubURL'], hubEndpoint().url);
    assert.equal(sets['cluster.clusterID'], 'cluster3');
    assert.equal(Buffer.from(sets['hub.ca'] ?? '', 'base64').toString('utf8'), caOf(hub));
    // The same arguments with `helm template` instead of `upgrade --install` show what the member would run.
    const rendered = await run(toolPath('helm'), ['template', ...command.slice(3)]);
    assert.match(rendered.stdout, new RegExp(`- --hub-url=${hubEndpoint().url}\\n`));
    assert.match(rendered.stdout, /- --cluster-id=cluster3\n/);
    const id = (sets['hub.bootstrapToken'] ?? '').split('.')[0] ?? '';
    assert.match((await fleetctl(['--kubeconfig', hubFile(), 'hub', 'token', 'list'])).stdout, new RegExp(`^${id} .* valid +join of cluster3$`, 'm'));
    assert.equal((await fleetctl(['--kubeconfig', hubFile(), 'hub', 'token', 'revoke', id])).code, 0);
  });

  test('graceful leader move (the leader cnf pod is deleted): the next leader takes over the hub tunnel (outage reported)', async (t) => {
    const before = await leaderCnf(kc.cluster1 as KubeConfig);
    const { outage } = await outageFrom1(async (gateway) => {
      await (kc.cluster1 as KubeConfig).makeApiClient(CoreV1Api).deleteNamespacedPod({ name: gateway.metadata?.name ?? '', namespace: AGENT_NAMESPACE });
    });
    const after = await leaderCnf(kc.cluster1 as KubeConfig);
    assert.notEqual(after.spec?.nodeName, before.spec?.nodeName, 'the other node leads now');
    const peer = await hubPeer(hub, memberNamespace('cluster1'), 'cluster1');
    assert.equal(peer?.status.acceptedPublicKey, after.metadata?.annotations?.['fleetboard.io/public-key'], 'the hub routes to the new gateway');
    t.diagnostic(`outage during a graceful leader move: ${outage.toFixed(2)} s`);
    // Without a handover the next leader would wait for the Lease to expire (4 s here) before anything else.
    assert.ok(outage < 4, `traffic resumed before the Lease could even expire (took ${outage.toFixed(2)} s)`);
  });

  test('the hub\'s leader cnf pod is deleted: members follow the next hub leader behind the same NodePort (outage reported)', async (t) => {
    const before = await hubLeader(hub);
    const keyBefore = (await hubPeer(hub, HUB_NAMESPACE, HUB_PEER_NAME))?.spec.publicKey;
    const { outage } = await outageFrom1(async () => {
      await hub.makeApiClient(CoreV1Api).deleteNamespacedPod({ name: before.metadata?.name ?? '', namespace: HUB_NAMESPACE });
    });
    const after = await waitFor(async () => { const l = await hubLeader(hub); return l.metadata?.uid !== before.metadata?.uid ? l : undefined; }, { what: 'a new hub leader cnf', timeoutMs: 30_000 });
    const moved = after.spec?.nodeName !== before.spec?.nodeName;
    t.diagnostic(`outage while the hub leader cnf was replaced (${moved ? 'moved to the other hub node' : 'its replacement on the same node took over'}): ${outage.toFixed(2)} s`);
    assert.notEqual(after.metadata?.uid, before.metadata?.uid, 'a new hub cnf leads');
    // Each hub node has its own key: a leader on the other node must be published for members to follow it.
    if (moved) assert.notEqual((await hubPeer(hub, HUB_NAMESPACE, HUB_PEER_NAME))?.spec.publicKey, keyBefore, 'the hub Peer carries the new leader\'s key');
    // A replacement on the same node keeps the node's key: members restart their session when the hub Peer's
    // status.tunnel.since changes, instead of waiting for WireGuard's 15 s without a reply.
    assert.ok(outage < 10, `traffic between the members resumed within 10 s (took ${outage.toFixed(2)} s)`);
  });

  test('cluster1 declares a reachable endpoint (a forwarded port): cluster2 tunnels to it directly, bypassing the hub, both ways', async () => {
    // As an admin would: forward a port of cluster1's NAT router to a node, then upgrade the install with tunnel.endpoint.
    const endpoint = await exposeMember('cluster1', 31821);
    await helmUpgrade(kc.cluster1 as KubeConfig, 'fleetboard-agent', AGENT_NAMESPACE, agentValues({ hub: joinMaterial(hub, 'cluster1', bootstrapToken), ...AGENT, publicEndpoint: endpoint }));
    const directTo = async (c: string, other: string) => {
      const p = await hubPeer(hub, memberNamespace(c), c);
      const t = p?.status.tunnel?.direct.find((d) => d.clusterID === other);
      return t?.lastHandshake && (t.rxBytes ?? 0) > 0 ? p : undefined;
    };
    const peer1 = await waitFor(() => directTo('cluster1', 'cluster2'), { what: 'cluster1\'s gateway reporting a direct tunnel to cluster2', timeoutMs: 120_000, intervalMs: 1000 });
    assert.deepEqual([peer1.spec.isPublic, peer1.spec.endpoint, peer1.spec.port], [true, endpoint.host, endpoint.port], 'cluster1\'s Peer publishes its endpoint');
    await waitFor(() => directTo('cluster2', 'cluster1'), { what: 'cluster2\'s gateway reporting a direct tunnel to cluster1', timeoutMs: 30_000, intervalMs: 1000 });

    const gateway = await leaderCnf(kc.cluster2 as KubeConfig);
    const { tunnelEndpoint } = hubEndpoint();
    const capture = await captureIn(netnsOf('cluster2', gateway), 'eth0', ['-c', '4000']);
    let lines: string[];
    try {
      for (const [from, to] of [['cluster1', 'cluster2'], ['cluster2', 'cluster1']] as const) {
        for (const source of nginx[from] ?? []) {
          for (const target of nginx[to] ?? []) {
            const title = await waitFor(() => curlTitle(netnsOf(from, source), globalIp(target)).catch(() => undefined), { what: `${globalIp(source)} reaching ${globalIp(target)} directly`, timeoutMs: 30_000 });
            assert.equal(title, 'Welcome to nginx!');
          }
        }
      }
      await waitFor(() => Promise.resolve(capture.seen().some((l) => l.includes(`> ${endpoint.host}.${endpoint.port}: UDP`)) || undefined), { what: 'WireGuard packets from cluster2\'s gateway to cluster1\'s endpoint', timeoutMs: 10_000 });
    } finally {
      lines = await capture.stop();
    }
    assert.deepEqual(lines.filter((l) => /\b10\.11[2-9]\./.test(l)), [], 'no packet shows a global address in clear');
    // WireGuard data messages are 32 bytes plus the padded inner packet (a multiple of 16); a keepalive is the bare 32,
    // handshakes are 148 and 92. So any data message to the hub carried a packet the direct tunnel should have.
    const dataToHub = lines.filter((l) => {
      const length = Number(/length (\d+)/.exec(l)?.[1]);
      return l.includes(`> ${tunnelEndpoint}.31820: UDP`) && length > 32 && (length - 32) % 16 === 0;
    });
    assert.deepEqual(dataToHub, [], 'only keepalives and handshakes went to the hub');
  });

  test('a member that was offline catches up: what was exported and unexported meanwhile is imported and removed once its cnf pods are back', async () => {
    const exportApi = { group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceexports', namespace: 'default' };
    const c1 = kc.cluster1 as KubeConfig;
    const c2 = kc.cluster2 as KubeConfig;
    const importIn2 = async (name: string) => readIfFound(ServiceImportKind, await c2.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceimports', namespace: 'default', name }).catch(() => undefined));
    const exportFrom1 = async (name: string) => {
      await c1.makeApiClient(CoreV1Api).createNamespacedService({ namespace: 'default', body: { metadata: { name }, spec: { selector: { app: 'nginx-app' }, ports: [{ name: 'http', port: 80 }] } } });
      await c1.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ ...exportApi, body: { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceExport', metadata: { name } } });
    };
    const unexportFrom1 = async (name: string) => {
      await c1.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ ...exportApi, name }).catch(() => undefined);
      await c1.makeApiClient(CoreV1Api).deleteNamespacedService({ namespace: 'default', name }).catch(() => undefined);
    };
    const published = async () => readItems(ServiceImportKind, await hub.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceimports', namespace: memberNamespace('cluster1') })).map((i) => i.metadata.name);
    // A DaemonSet whose pods may run on no node: how an admin takes the agent off a cluster for a while.
    const cnfPlacement = (nodeSelector: Record<string, string> | null) =>
      c2.makeApiClient(AppsV1Api).patchNamespacedDaemonSet({ name: 'fleetboard-cnf', namespace: AGENT_NAMESPACE, body: { spec: { template: { spec: { nodeSelector } } } } }, mergePatch);
    try {
      await exportFrom1('before-outage');
      await waitFor(async () => ((await importIn2('before-outage'))?.spec.ips.length ? true : undefined), { what: 'cluster2 importing before-outage', timeoutMs: 30_000, intervalMs: 500 });

      await cnfPlacement({ 'fleetboard.io/no-such-node': 'true' });
      try {
        await waitFor(async () => ((await cnfPods(c2)).length === 0 ? true : undefined), { what: 'cluster2\'s cnf pods to stop', timeoutMs: 60_000, intervalMs: 500 });
        await unexportFrom1('before-outage');
        await exportFrom1('during-outage');
        await waitFor(async () => {
          const names = await published();
          return names.includes('during-outage.default') && !names.includes('before-outage.default') ? true : undefined;
        }, { what: 'the hub to hold cluster1\'s new export and not the old one', timeoutMs: 30_000, intervalMs: 500 });
        assert.ok(await importIn2('before-outage'), 'offline, cluster2 still holds the import it had');
        assert.equal(await importIn2('during-outage'), undefined, 'offline, cluster2 has not seen the new export');
      } finally {
        await cnfPlacement(null);
      }
      await waitForReadyPods(c2, AGENT_NAMESPACE, 'fleetboard.io/role=cnf', 2, 120_000);

      const caughtUp = await waitFor(
        async () => {
          const fresh = await importIn2('during-outage');
          const slices = readItems(EndpointSliceKind, await c2.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: 'default', labelSelector: 'multicluster.kubernetes.io/service-name=during-outage' }));
          const endpoints = slices.flatMap((x) => x.endpoints).length;
          return fresh?.spec.ips.length && endpoints === (nginx.cluster1 ?? []).length && !(await importIn2('before-outage')) ? fresh : undefined;
        },
        { what: 'cluster2 importing during-outage with its endpoints and dropping before-outage', timeoutMs: 120_000, intervalMs: 1000 },
      );
      assert.deepEqual(caughtUp.status.clusters, [{ cluster: 'cluster1' }]);
    } finally {
      await unexportFrom1('before-outage');
      await unexportFrom1('during-outage');
    }
  });

  test('helm upgrade of the hub and both members (a new log level): the join token stays, every pod rolls, and the members reach each other again', async () => {
    const tokenBefore = await joinToken(hub);
    await helmUpgrade(hub, 'fleetboard', HUB_NAMESPACE, { logLevel: 'debug' }, { reuseValues: true });
    for (const c of MEMBERS) await helmUpgrade(kc[c] as KubeConfig, 'fleetboard-agent', AGENT_NAMESPACE, { logLevel: 'debug' }, { reuseValues: true });
    assert.equal(await joinToken(hub), tokenBefore, 'the chart kept the join token it made at install');
    await waitForRollouts(hub, HUB_NAMESPACE);
    for (const c of MEMBERS) await waitForRollouts(kc[c] as KubeConfig, AGENT_NAMESPACE);
    for (const [k, ns] of [[hub, HUB_NAMESPACE], ...MEMBERS.map((c) => [kc[c] as KubeConfig, AGENT_NAMESPACE] as const)] as const) {
      const pods = (await k.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns })).items;
      assert.ok(pods.length > 0 && pods.every((p) => (p.spec?.containers ?? []).every((c) => c.args?.includes('--log-level=debug') ?? true)), `every pod in ${ns} runs the upgraded template`);
    }
    for (const [from, to] of [['cluster1', 'cluster2'], ['cluster2', 'cluster1']] as const) {
      for (const source of nginx[from] ?? []) {
        for (const target of nginx[to] ?? []) {
          const title = await waitFor(() => curlTitle(netnsOf(from, source), globalIp(target)).catch(() => undefined), { what: `${globalIp(source)} reaching ${globalIp(target)} after the upgrade`, timeoutMs: 90_000 });
          assert.equal(title, 'Welcome to nginx!');
        }
      }
    }
  });

  test('no log of any FleetBoard container holds a private key, a join token or a member\'s hub credentials', async () => {
    const run = testbedPaths().runDir;
    const files = (await readdir(run, { recursive: true })).map((f) => join(run, f));
    const secrets: { what: string; text: string }[] = [{ what: 'the join token', text: bootstrapToken }, { what: 'the join token\'s secret half', text: bootstrapToken.split('.')[1] ?? bootstrapToken }];
    for (const f of files.filter((x) => x.endsWith('/wireguard.key'))) {
      const key = (await readFile(f, 'utf8')).trim();
      secrets.push({ what: `private key ${f}`, text: key }, { what: `private key ${f} (hex)`, text: keyToHex(key) });
    }
    for (const c of MEMBERS) {
      const s = await (kc[c] as KubeConfig).makeApiClient(CoreV1Api).readNamespacedSecret({ name: HUB_CREDENTIALS_SECRET, namespace: AGENT_NAMESPACE });
      secrets.push({ what: `${c}'s hub token`, text: Buffer.from(s.data?.token ?? '', 'base64').toString('utf8') });
    }
    assert.ok(secrets.filter((x) => x.what.startsWith('private key')).length >= 2 * 6, `found the nodes' private keys: ${secrets.map((x) => x.what).join(', ')}`);
    const logs = files.filter((f) => /\/containers\/(plugin|controller|hub|crossdns)\/\d+\/log$/.test(f));
    assert.ok(logs.length >= 12, `found the FleetBoard containers' logs: ${logs.length}`);
    for (const f of logs) {
      const text = await readFile(f, 'utf8');
      for (const s of secrets) assert.ok(s.text.length >= 16 && !text.includes(s.text), `${f} holds ${s.what}`);
    }
  });

  test('helm uninstall and the README\'s clean-up leave no FleetBoard interface, annotation, CRD or namespace in any cluster', async () => {
    for (const c of MEMBERS) await helmUninstall(kc[c] as KubeConfig, 'fleetboard-agent', AGENT_NAMESPACE);
    await helmUninstall(hub, 'fleetboard', HUB_NAMESPACE);
    // The README's clean-up, as written there.
    const kubectl = (cluster: string, ...args: string[]) => run(toolPath('kubectl'), ['--kubeconfig', testbedPaths().kubeconfig(cluster), ...args], { timeoutMs: 120_000 });
    const memberNamespaces = (await hub.makeApiClient(CoreV1Api).listNamespace()).items.map((n) => n.metadata?.name ?? '').filter((n) => n.startsWith('fleetboard-cluster-'));
    assert.deepEqual(memberNamespaces.sort(), MEMBERS.map(memberNamespace).sort(), 'the hub holds a namespace per member until the clean-up');
    for (const cluster of ['hub', ...MEMBERS]) {
      await kubectl(cluster, 'annotate', 'pods', '-A', '--all', ...POD_ANNOTATIONS.map((a) => `${a}-`));
      await kubectl(cluster, 'delete', 'crd', '--ignore-not-found', ...FLEETBOARD_CRDS);
      await kubectl(cluster, 'delete', 'namespace', '--ignore-not-found', 'fleetboard-system', ...(cluster === 'hub' ? memberNamespaces : []));
    }
    for (const [cluster, k] of [['hub', hub], ...MEMBERS.map((c) => [c, kc[c] as KubeConfig] as const)] as const) {
      const core = k.makeApiClient(CoreV1Api);
      const left = (await core.listNamespace()).items.map((n) => n.metadata?.name ?? '').filter((n) => n.startsWith('fleetboard'));
      assert.deepEqual(left, [], `${cluster}: no FleetBoard namespace is left`);
      const crds = (await k.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition()).items.map((d) => d.metadata?.name ?? '').filter((n) => FLEETBOARD_CRDS.includes(n));
      assert.deepEqual(crds, [], `${cluster}: no FleetBoard CRD (and so none of their objects) is left`);
      for (const p of (await core.listPodForAllNamespaces()).items) {
        const keys = Object.keys(p.metadata?.annotations ?? {}).filter((a) => a.startsWith('fleetboard.io/'));
        assert.deepEqual(keys, [], `${cluster}: ${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''} keeps no fleetboard.io/ annotation`);
      }
      const leftover = [
        ...(await k.makeApiClient(RbacAuthorizationV1Api).listClusterRole()).items,
        ...(await k.makeApiClient(RbacAuthorizationV1Api).listClusterRoleBinding()).items,
        ...(await core.listSecretForAllNamespaces()).items,
      ].map((o) => o.metadata?.name ?? '').filter((n) => n.includes('fleetboard'));
      assert.deepEqual(leftover, [], `${cluster}: no FleetBoard role, binding or secret is left`);
    }
    for (const c of MEMBERS) {
      for (const p of nginx[c] ?? []) assert.equal(await fleetInterface(c, p), undefined, `${c}: ${p.metadata?.name ?? ''} has no eth-fleet any more`);
    }
  });
});
