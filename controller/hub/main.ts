import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { KeepAliveKubeConfig } from '../kube/keepAliveKubeConfig.js';
import type { Logger } from 'pino';
import { runComponent } from '../componentMain.js';
import { EventRecorder } from '../kube/events.js';
import { enableForwarding } from '../podnet/forwarding.js';
import { linkMtus } from '../podnet/mtu.js';
import { loadOrCreatePrivateKey } from '../tunnel/privateKeyFile.js';
import { openWireGuardDevice } from '../wireguard/backend.js';
import { LeaderElector } from '../leader/elector.js';
import { watchLeaseRelease } from '../leader/releaseWatch.js';
import { LeaderPodLabeler } from '../leader/leaderLabel.js';
import { hubMetrics } from '../metrics/hubMetrics.js';
import { MetricsServer } from '../metrics/server.js';
import { JoinApprover } from './joinApprover.js';
import { HubRouter } from './hubRouter.js';
import { parseHubOptions, type HubOptions } from './options.js';

/** Pods of the hub's cnf DaemonSet carry this label; leader election runs among them. */
const HUB_CNF_SELECTOR = 'fleetboard.io/role=hub-cnf';
const STATUS_INTERVAL_MS = 10_000;

/**
 * The hub cnf: leader-elected. The leader approves joins and is the
 * WireGuard router members dial (the NodePort Service selects the leader pod).
 */
async function run(opts: HubOptions, log: Logger): Promise<() => Promise<void>> {
  const kc = new KeepAliveKubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(CoreV1Api);
  const events = new EventRecorder(core, 'fleetboard-hub', opts.nodeName, log);
  await enableForwarding();
  const { mtu, underlayMtu } = await linkMtus(opts.mtu);
  const privateKey = await loadOrCreatePrivateKey(opts.keyFile, log);

  let approver: JoinApprover | undefined;
  let router: HubRouter | undefined;
  let duties: Promise<void> = Promise.resolve();
  // The sources are read only at scrape time, once the metrics server below listens.
  const metrics = hubMetrics({
    leading: () => elector.isLeader,
    members: () => router?.members() ?? 0,
    tunnels: () => router?.tunnels() ?? Promise.resolve([]),
    tunnelReadFailed: (err) => log.warn({ err: (err as Error).message }, 'cannot read the tunnel device for metrics'),
  });
  // Joins are approved only while holding the Lease; routing goes on after losing it until another
  // leader is seen, so members' traffic keeps flowing through an outage of the hub's apiserver.
  const lead = async () => {
    approver = new JoinApprover(kc, events, { globalCidr: opts.globalCidr, clusterCidrPrefix: opts.clusterCidrPrefix, memberTokenSeconds: opts.memberTokenSeconds, onHandled: metrics.joinHandled, log });
    await approver.start();
    if (router) return;
    router = new HubRouter(kc, await openWireGuardDevice(opts.tunnelInterface, { backend: opts.wireguardBackend, log }), {
      namespace: opts.namespace,
      clusterID: opts.clusterID,
      nodeName: opts.nodeName,
      endpoint: opts.endpoint,
      port: opts.endpointPort,
      listenPort: opts.tunnelPort,
      privateKey,
      globalCidr: opts.globalCidr,
      mtu,
      underlayMtu,
      statusIntervalMs: STATUS_INTERVAL_MS,
      log,
    });
    await router.start();
  };
  const stopApproving = async () => {
    await approver?.stop();
    approver = undefined;
  };
  const stopRouting = async () => {
    await router?.stop();
    router = undefined;
    // Only now: the NodePort Service selects the labelled pod, and members should keep reaching a router.
    if (!elector.isLeader) labeler.setLeading(false);
  };
  const labeler = new LeaderPodLabeler(core, { namespace: opts.namespace, podName: opts.podName, selector: HUB_CNF_SELECTOR }, log);
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
        log.info('leading: approving joins and routing between clusters');
        labeler.setLeading(true);
        duties = duties.then(lead).catch((err: unknown) => log.error({ err: (err as Error).message }, 'hub duties failed to start'));
      },
      onStoppedLeading: () => {
        log.info(router ? 'no longer leading: still routing until another leader is seen' : 'no longer leading');
        duties = duties.then(stopApproving);
      },
      onNewLeader: (identity) => {
        if (identity === opts.podName || !router) return;
        log.info({ leader: identity }, 'another hub cnf leads: handing routing over');
        duties = duties.then(stopRouting);
      },
    },
    log,
  );
  elector.start();
  const releases = watchLeaseRelease(kc, opts.namespace, opts.leaseName, () => elector.nudge(), log);
  await releases.start();
  const metricsServer = new MetricsServer(opts.metricsAddress, metrics.registry, () => undefined, log);
  await metricsServer.start();
  log.info({ node: opts.nodeName, endpoint: `${opts.endpoint}:${opts.endpointPort}`, globalCidr: opts.globalCidr, mtu }, 'hub cnf started');
  return async () => {
    await releases.stop();
    await elector.stop();
    await duties;
    await stopRouting();
    await labeler.stop();
    await metricsServer.stop();
  };
}

void runComponent('fleetboard-hub', 'hub', parseHubOptions, run);
