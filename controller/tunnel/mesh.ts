import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { mergePatch } from '../kube/mergePatch.js';
import type { Logger } from 'pino';
import { ResilientWatch } from '../kube/resilientWatch.js';
import { PodKind, type Pod } from '../objects/core.js';
import type { WireGuardDevice } from '../wireguard/device.js';
import { publicKeyOf } from '../wireguard/keys.js';
import { meshPeers, peerNodes, tunnelAnnotations } from './meshPeers.js';
import { ensureTunnelLink } from './tunnelLink.js';
import { Debouncer } from './debouncer.js';
import { tunnelHealth, type TunnelHealth, type TunnelName } from './tunnelHealth.js';
import type { PeerConfig } from '../wireguard/device.js';

export interface TunnelMeshOptions {
  namespace: string;
  podName: string;
  nodeName: string;
  /** Selects the cnf pods of this cluster. */
  cnfSelector: string;
  listenPort: number;
  privateKey: string;
  globalCidr: string;
  mtu: number;
  underlayMtu: number | undefined;
  /** Keepalive towards the other nodes, which also makes a restarted device handshake at once. */
  keepaliveSeconds: number;
  /** Reapply everything this often, which also restarts a WireGuard device that died. */
  resyncMs: number;
  log: Logger;
}

/** A peer towards the hub or another cluster, under the name its tunnel has in metrics. */
export interface ClustersetPeer extends TunnelName {
  kind: 'hub' | 'cluster';
  peer: PeerConfig;
}

/**
 * The tunnels between the cnf pods of one cluster: this node publishes its
 * public key on its own cnf pod, follows the other cnf pods and the node CIDRs,
 * and keeps its WireGuard device peered with every other node. On the
 * cluster's gateway it also holds the peers towards the hub and other clusters.
 */
export class TunnelMesh {
  private watch: ResilientWatch<Pod> | undefined;
  private nodeCidrs: ReadonlyMap<string, string> = new Map();
  private resync: NodeJS.Timeout | undefined;
  private readonly debouncer: Debouncer;
  private clustersetPeers: readonly ClustersetPeer[] = [];
  private readonly restart = new Set<string>();
  private lastSkipped = '';

  constructor(
    private readonly kc: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly device: WireGuardDevice,
    private readonly opts: TunnelMeshOptions,
  ) {
    this.debouncer = new Debouncer(() => this.reconcile(), opts.log);
  }

  get publicKey(): string {
    return publicKeyOf(this.opts.privateKey);
  }

  /** The tunnel MTU and the underlay's, for the gateway's Peer status. */
  get linkMtus(): { mtu: number; underlayMtu: number | undefined } {
    return { mtu: this.opts.mtu, underlayMtu: this.opts.underlayMtu };
  }

  async start(): Promise<void> {
    const { namespace, podName, cnfSelector } = this.opts;
    await this.core.patchNamespacedPod(
      {
        name: podName,
        namespace,
        body: { metadata: { annotations: { [tunnelAnnotations.publicKey]: this.publicKey, [tunnelAnnotations.port]: String(this.opts.listenPort) } } },
      },
      mergePatch,
    );
    this.watch = new ResilientWatch(
      this.kc,
      `/api/v1/namespaces/${namespace}/pods`,
      PodKind,
      () => this.core.listNamespacedPod({ namespace, labelSelector: cnfSelector }),
      { upsert: () => this.debouncer.schedule(), remove: () => this.debouncer.schedule() },
      (m) => this.opts.log.warn(m),
      { label: cnfSelector },
    );
    await this.watch.start();
    this.resync = setInterval(() => this.debouncer.schedule(), this.opts.resyncMs);
    this.device.onDied(() => this.debouncer.schedule());
    this.debouncer.schedule();
  }

  nodeCidrsChanged(cidrs: ReadonlyMap<string, string>): void {
    this.nodeCidrs = cidrs;
    this.debouncer.schedule();
  }

  /** The gateway's tunnels to the hub and to directly peered clusters; none on every other node. */
  setClustersetPeers(peers: readonly ClustersetPeer[]): void {
    if (JSON.stringify(peers) === JSON.stringify(this.clustersetPeers)) return;
    this.clustersetPeers = peers;
    this.debouncer.schedule();
  }

  /** Removes these peers and adds them again: drops their session and handshakes at once. */
  restartPeers(keys: readonly string[]): void {
    if (keys.length === 0) return;
    for (const key of keys) this.restart.add(key);
    this.debouncer.schedule();
  }

  /** Changes when the device was created again (it had died), which lost every session. */
  get generation(): number {
    return this.device.generation;
  }

  /** What the device reports, for tunnel health in the cluster's Peer. */
  status(): ReturnType<WireGuardDevice['status']> {
    return this.device.status();
  }

  /** Every tunnel of this node as the device reports it now, named by node or cluster ID. */
  async tunnels(): Promise<TunnelHealth[]> {
    const names = peerNodes(this.watch?.cached() ?? []);
    for (const { name, kind, peer } of this.clustersetPeers) names.set(peer.publicKey, { name, kind });
    return tunnelHealth(await this.device.status(), names);
  }

  async stop(): Promise<void> {
    clearInterval(this.resync);
    await this.debouncer.stop();
    await this.watch?.stop();
    await this.device.close();
  }

  private async reconcile(): Promise<void> {
    const { peers, skipped } = meshPeers(this.opts.nodeName, this.watch?.cached() ?? [], this.nodeCidrs, this.opts.globalCidr, this.opts.keepaliveSeconds);
    const skippedKey = JSON.stringify(skipped);
    if (skippedKey !== this.lastSkipped) {
      this.lastSkipped = skippedKey;
      for (const s of skipped) this.opts.log.info({ pod: s.pod, reason: s.reason }, 'cnf pod is not a tunnel peer yet');
    }
    const config = { privateKey: this.opts.privateKey, listenPort: this.opts.listenPort, peers: [...peers, ...this.clustersetPeers.map((c) => c.peer)] };
    if (this.restart.size > 0) {
      const restart = new Set(this.restart);
      this.opts.log.info({ peers: [...restart] }, 're-creating peers so they handshake at once');
      await this.device.apply({ ...config, peers: config.peers.filter((p) => !restart.has(p.publicKey)) });
      for (const key of restart) this.restart.delete(key);
    }
    await this.device.apply(config);
    await ensureTunnelLink(this.device.name, this.opts.mtu, this.opts.globalCidr);
  }
}
