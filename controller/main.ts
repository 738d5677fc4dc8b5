import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { KeepAliveKubeConfig } from './kube/keepAliveKubeConfig.js';
import type { Logger } from 'pino';
import { runComponent } from './componentMain.js';
import { parseControllerOptions, type ControllerOptions } from './options.js';
import { EventRecorder } from './kube/events.js';
import { ResilientWatch } from './kube/resilientWatch.js';
import { decodeObject } from './objects/decode.js';
import { PodKind, type Pod } from './objects/core.js';
import { NodeApiServer } from './nodeapi/server.js';
import { PodAddressService } from './podnet/podAddresses.js';
import { linkMtus } from './podnet/mtu.js';
import { enableForwarding } from './podnet/forwarding.js';
import { NodeCidrStore, DEFAULT_NODE_CIDR_CONFIGMAP } from './ipam/nodeCidrStore.js';
import { NodeCidrWatch } from './nodecidr/nodeCidrWatch.js';
import { loadOrCreatePrivateKey } from './tunnel/privateKeyFile.js';
import { TunnelMesh } from './tunnel/mesh.js';
import { openWireGuardDevice } from './wireguard/backend.js';
import { LeaderElector } from './leader/elector.js';
import { watchLeaseRelease } from './leader/releaseWatch.js';
import { LeaderPodLabeler } from './leader/leaderLabel.js';
import { controllerMetrics } from './metrics/controllerMetrics.js';
import { MetricsServer } from './metrics/server.js';
import { LeaderDuties } from './member/leaderDuties.js';
import { ClusterSetLoadBalancer } from './clustersetip/loadBalancer.js';
import { LocalImports } from './mcs/localImports.js';
import { apiErrorDetail } from './kube/apiErrors.js';
import { readFile } from 'node:fs/promises';

/** Pods of the cnf DaemonSet carry this label; leader election runs among them. */
export const CNF_SELECTOR = 'fleetboard.io/role=cnf';
const SWEEP_INTERVAL_MS = 30_000;
const TUNNEL_RESYNC_MS = 30_000;

/** The node controller of the cnf pod: composition root. */
async function run(opts: ControllerOptions, log: Logger): Promise<() => Promise<void>> {
  const kc = new KeepAliveKubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(CoreV1Api);
  const events = new EventRecorder(core, 'fleetboard-controller', opts.nodeName, log);

  await enableForwarding();
  const mtus = await linkMtus(opts.mtu);
  const mtu = mtus.mtu;
  const addresses = new PodAddressService(core, events, { nodeName: opts.nodeName, globalCidr: opts.globalCidr, mtu, log });
  // Made first, as the node API records into it from the first request; the sources are read only at scrape time, once the metrics server below listens.
  const metrics = controllerMetrics({
    pool: () => addresses.usage(),
    leading: () => elector.isLeader,
    tunnels: () => mesh.tunnels(),
    tunnelReadFailed: (err) => log.warn({ err: (err as Error).message }, 'cannot read the tunnel device for metrics'),
    exports: () => duties.exportConditions(),
    imports: () => duties.importedServices(),
  });
  const api = new NodeApiServer(opts.socket, addresses, metrics.podSetupDone, log);
  await api.start();

  const pods = new ResilientWatch(
    kc,
    '/api/v1/pods',
    PodKind,
    () => core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${opts.nodeName}` }),
    { upsert: (p) => addresses.podUpdated(p), remove: (p) => addresses.podDeleted(p) },
    (m) => log.warn(m),
    { field: `spec.nodeName=${opts.nodeName}` },
  );
  await pods.start();
  // A pod that cannot be read still holds the address its annotations record: it is counted by its metadata alone.
  const nodePods = (): Pod[] => [...pods.cached(), ...pods.unreadable().flatMap((u) => (u.metadata ? [decodeObject(PodKind, { metadata: u.metadata })] : []))];
  const sweep = setInterval(() => addresses.sweep(new Set(nodePods().map((p) => p.metadata.uid ?? ''))), SWEEP_INTERVAL_MS);

  const privateKey = await loadOrCreatePrivateKey(opts.keyFile, log);
  const mesh = new TunnelMesh(kc, core, await openWireGuardDevice(opts.tunnelInterface, { backend: opts.wireguardBackend, log }), {
    namespace: opts.namespace,
    podName: opts.podName,
    nodeName: opts.nodeName,
    cnfSelector: CNF_SELECTOR,
    listenPort: opts.tunnelPort,
    privateKey,
    globalCidr: opts.globalCidr,
    mtu,
    underlayMtu: mtus.underlayMtu,
    keepaliveSeconds: opts.keepaliveSeconds,
    resyncMs: TUNNEL_RESYNC_MS,
    log,
  });
  let ownNodeCidr: string | undefined;
  const nodeCidrs = new NodeCidrWatch(
    kc,
    core,
    { namespace: opts.namespace, configMap: DEFAULT_NODE_CIDR_CONFIGMAP },
    (cidrs) => {
      const own = cidrs.get(opts.nodeName);
      if (own && own !== ownNodeCidr) {
        ownNodeCidr = own;
        addresses.adoptNodeCidr(own, nodePods());
      }
      mesh.nodeCidrsChanged(cidrs);
    },
    log,
  );
  await nodeCidrs.start();
  await mesh.start();

  const localImports = new LocalImports(kc, log);
  await localImports.start().catch((err: unknown) => log.error({ err: apiErrorDetail(err) }, 'cannot follow ServiceImports, so ClusterSetIPs and imports do not work here: are the multicluster.x-k8s.io CRDs installed?'));
  const loadBalancer = new ClusterSetLoadBalancer(localImports, { globalCidr: opts.globalCidr, target: {}, log });
  loadBalancer.start();

  const join = opts.hub && { hubUrl: opts.hub.url, caPem: await readFile(opts.hub.caFile, 'utf8'), bootstrapToken: opts.hub.bootstrapToken, clusterID: opts.hub.clusterID };
  const duties = new LeaderDuties(kc, new NodeCidrStore(core, opts.namespace, DEFAULT_NODE_CIDR_CONFIGMAP), events, mesh, localImports, {
    namespace: opts.namespace,
    podName: opts.podName,
    nodeName: opts.nodeName,
    clusterCidr: opts.clusterCidr,
    nodeCidrPrefix: opts.nodeCidrPrefix,
    join,
    keepaliveSeconds: opts.keepaliveSeconds,
    publicEndpoint: opts.publicEndpoint,
    log,
  });
  let handingOver: Promise<void> = Promise.resolve();
  const handOver = async () => {
    await duties.handOverGateway(opts.leaseDurationMs);
    // The label marks the cnf other nodes send clusterset traffic to: it moves only with the gateway.
    if (!elector.isLeader) labeler.setLeading(false);
  };
  const labeler = new LeaderPodLabeler(core, { namespace: opts.namespace, podName: opts.podName, selector: CNF_SELECTOR }, log);
  const elector = new LeaderElector(
    kc.makeApiClient(CoordinationV1Api),
    {
      namespace: opts.namespace,
      leaseName: opts.leaseName,
      identity: opts.podName,
      leaseDurationMs: opts.leaseDurationMs,
      renewDeadlineMs: opts.renewDeadlineMs,
      retryPeriodMs: opts.retryPeriodMs,
    },
    {
      onStartedLeading: () => {
        log.info(join ? 'leading: node CIDRs and the gateway to the hub' : 'leading: allocating node CIDRs');
        labeler.setLeading(true);
        void handingOver.then(() => duties.begin());
      },
      onStoppedLeading: () => {
        log.info(join ? 'no longer leading: the gateway keeps forwarding until another leader is seen' : 'no longer leading');
        handingOver = handingOver.then(() => duties.end());
      },
      onNewLeader: (identity) => {
        if (identity === opts.podName || elector.isLeader) return;
        // The next leader normally takes over within one retry period; forwarding goes on until it has.
        handingOver = handingOver.then(handOver);
      },
    },
    log,
  );
  elector.start();
  const releases = watchLeaseRelease(kc, opts.namespace, opts.leaseName, () => elector.nudge(), log);
  await releases.start();

  const metricsServer = new MetricsServer(
    opts.metricsAddress,
    metrics.registry,
    () => (addresses.usage() ? undefined : `node ${opts.nodeName} has no node CIDR yet; the cluster's leader assigns it`),
    log,
  );
  await metricsServer.start();
  log.info({ node: opts.nodeName, clusterCidr: opts.clusterCidr, hub: opts.hub?.url, mtu, metrics: opts.metricsAddress }, 'controller started');

  return async () => {
    clearInterval(sweep);
    // Releasing the Lease first lets another cnf take over at once.
    await releases.stop();
    await elector.stop();
    await handingOver;
    await handOver();
    await labeler.stop();
    await api.stop();
    await nodeCidrs.stop();
    await mesh.stop();
    await loadBalancer.stop();
    await localImports.stop();
    await pods.stop();
    await metricsServer.stop();
  };
}

void runComponent('fleetboard-controller', 'controller', parseControllerOptions, run);
