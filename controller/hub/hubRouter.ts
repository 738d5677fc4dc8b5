import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiErrorDetail } from '../kube/apiErrors.js';
import { ObjectRetries } from '../kube/objectRetries.js';
import { ResilientWatch } from '../kube/resilientWatch.js';
import { NamespaceKind, type Namespace } from '../objects/core.js';
import type { Peer } from '../objects/fleetboard.js';
import { PeerClient, condition, setCondition } from '../clusterset/peerClient.js';
import { CLUSTER_CIDR_ANNOTATION, HUB_PEER_NAME, linkMtuStatus, type PeerStatus } from '../clusterset/peer.js';
import type { WireGuardDevice } from '../wireguard/device.js';
import { publicKeyOf } from '../wireguard/keys.js';
import { ensureTunnelLink } from '../tunnel/tunnelLink.js';
import { Debouncer } from '../tunnel/debouncer.js';
import { handshakeFresh, tunnelHealth, type TunnelHealth, type TunnelName } from '../tunnel/tunnelHealth.js';
import { hubPeers } from './hubPeers.js';
import { objectKey } from '../mcs/objectPlan.js';
import { MEMBER_LABEL } from './memberAccess.js';

export interface HubRouterOptions {
  /** The hub's namespace, where its own Peer lives. */
  namespace: string;
  clusterID: string;
  nodeName: string;
  /** What members dial: the hub's reachable address and the NodePort in front of the leader. */
  endpoint: string;
  port: number;
  listenPort: number;
  privateKey: string;
  globalCidr: string;
  mtu: number;
  underlayMtu: number | undefined;
  /** How often tunnel health is written into the members' Peer status. */
  statusIntervalMs: number;
  log: Logger;
}

/**
 * The hub leader's WireGuard router: one peer per member cluster, allowed
 * exactly its cluster CIDR, and the global CIDR routed back into the tunnel so
 * the hub forwards between members. Publishes the hub's Peer for members to dial.
 */
export class HubRouter {
  private readonly peers: PeerClient;
  private readonly core: CoreV1Api;
  private peerWatch: ResilientWatch<Peer> | undefined;
  private namespaceWatch: ResilientWatch<Namespace> | undefined;
  /** Members' Peers whose status could not be written, each retried on its own. */
  private readonly statusRetries = new ObjectRetries();
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly debouncer: Debouncer;
  private accepted = new Map<string, string>();
  private lastSkipped = '';
  private publishedGeneration: number | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly device: WireGuardDevice,
    private readonly opts: HubRouterOptions,
  ) {
    this.peers = new PeerClient(kc);
    this.core = kc.makeApiClient(CoreV1Api);
    this.debouncer = new Debouncer(() => this.reconcile(), opts.log);
  }

  async start(): Promise<void> {
    const { endpoint, port } = this.opts;
    this.namespaceWatch = new ResilientWatch(
      this.kc,
      '/api/v1/namespaces',
      NamespaceKind,
      () => this.core.listNamespace({ labelSelector: MEMBER_LABEL }),
      { upsert: () => this.debouncer.schedule(), remove: () => this.debouncer.schedule() },
      (m) => this.opts.log.warn(m),
      { label: MEMBER_LABEL },
    );
    this.peerWatch = this.peers.watchAll(() => this.debouncer.schedule(), this.opts.log);
    await this.namespaceWatch.start();
    await this.peerWatch.start();
    this.device.onDied(() => this.debouncer.schedule());
    this.statusTimer = setInterval(() => {
      // Reapplying also restarts a wireguard-go that died unnoticed.
      this.debouncer.schedule();
      void this.writeHealth();
    }, this.opts.statusIntervalMs);
    this.debouncer.schedule();
    this.opts.log.info({ endpoint: `${endpoint}:${port}` }, 'hub router started');
  }

  async stop(): Promise<void> {
    clearInterval(this.statusTimer);
    await this.debouncer.stop();
    await this.peerWatch?.stop();
    await this.namespaceWatch?.stop();
    await this.device.close();
  }

  /** Each member's tunnel as the device reports it now, named by the member's cluster ID. */
  async tunnels(): Promise<TunnelHealth[]> {
    const names = new Map<string, TunnelName>();
    // `namespace/name`, and hubPeers accepted only Peers named after their cluster ID.
    for (const [id, key] of this.accepted) names.set(key, { name: id.slice(id.indexOf('/') + 1), kind: 'cluster' });
    return tunnelHealth(await this.device.status(), names);
  }

  /** Clusters that joined: the member namespaces the join approver made. */
  members(): number {
    return (this.namespaceWatch?.cached() ?? []).filter((ns) => !ns.metadata.deletionTimestamp).length;
  }

  private async reconcile(): Promise<void> {
    const recorded = new Map<string, string>();
    for (const ns of this.namespaceWatch?.cached() ?? []) {
      // A member being removed is no longer routed, though its CIDR stays taken until its namespace is gone.
      if (ns.metadata.deletionTimestamp) continue;
      const cidr = ns.metadata.annotations[CLUSTER_CIDR_ANNOTATION];
      if (cidr) recorded.set(ns.metadata.name, cidr);
    }
    const plan = hubPeers(this.peerWatch?.cached() ?? [], recorded);
    const skippedKey = JSON.stringify(plan.skipped);
    if (skippedKey !== this.lastSkipped) {
      this.lastSkipped = skippedKey;
      for (const s of plan.skipped) this.opts.log.warn({ peer: s.peer, reason: s.reason }, 'cluster is not routed');
    }
    await this.device.apply({ privateKey: this.opts.privateKey, listenPort: this.opts.listenPort, peers: plan.peers });
    await ensureTunnelLink(this.device.name, this.opts.mtu, this.opts.globalCidr);
    this.accepted = plan.accepted;
    if (this.publishedGeneration !== this.device.generation) {
      // Only once members' peers are configured: a member that dialled sooner would be dropped and retry 5 s later.
      // `since` matters when the key is the node's old one: it tells members to handshake again.
      const { namespace, clusterID, endpoint, port, privateKey, nodeName } = this.opts;
      await this.peers.apply(namespace, HUB_PEER_NAME, { clusterID, clusterCIDR: [], endpoint, port, publicKey: publicKeyOf(privateKey), isHub: true, isPublic: true });
      await this.peers.patchStatus(namespace, HUB_PEER_NAME, { tunnel: { gatewayNode: nodeName, since: new Date().toISOString(), ...linkMtuStatus(this.opts) } });
      this.publishedGeneration = this.device.generation;
    }
    // Tell each member which of its gateways the hub now expects, so a new gateway dials only once it is accepted,
    // and why a cluster is not routed, where its admin looks first.
    const peers = this.peerWatch?.cached() ?? [];
    for (const peer of peers) {
      if (peer.spec?.isHub) continue;
      const namespace = peer.metadata.namespace ?? '';
      const id = objectKey(peer);
      const key = plan.accepted.get(id);
      const message = key !== undefined ? `the hub routes ${recorded.get(namespace) ?? ''} to this cluster's gateway` : (plan.skipped.find((s) => s.peer === id)?.reason ?? 'not routed');
      const previous = peer.status.conditions;
      const routed = previous.find((c) => c.type === 'Routed');
      const patch: PeerStatus = {};
      if (key !== undefined && peer.status.acceptedPublicKey !== key) patch.acceptedPublicKey = key;
      if (routed?.status !== (key !== undefined ? 'True' : 'False') || routed.message !== message) {
        patch.conditions = setCondition(previous, condition(previous, 'Routed', key !== undefined, key !== undefined ? 'Accepted' : 'Refused', message));
      }
      if (Object.keys(patch).length > 0) await this.patchStatus(peer, patch);
    }
    this.retryLater(peers);
  }

  /**
   * Writes one member's Peer status; a failure is logged and retried on its
   * own with backoff, and the other members' statuses are still written.
   */
  private async patchStatus(peer: Peer, patch: PeerStatus): Promise<void> {
    const id = objectKey(peer);
    if (this.statusRetries.waiting(id)) return;
    try {
      await this.peers.patchStatus(peer.metadata.namespace ?? '', peer.metadata.name, patch);
      this.statusRetries.succeeded(id);
    } catch (err) {
      const wait = this.statusRetries.failed(id, apiErrorDetail(err));
      this.opts.log.warn({ peer: id, err: apiErrorDetail(err), retryInMs: wait }, 'cannot write the Peer\'s status');
    }
  }

  /** A reconcile when the first failed status write falls due (the Peers that are gone are forgotten). */
  private retryLater(peers: readonly Peer[]): void {
    this.statusRetries.keepOnly(new Set(peers.map(objectKey)));
    const next = this.statusRetries.nextRetryIn();
    if (next !== undefined) this.debouncer.retryIn(next);
  }

  /** Writes a Connected condition per member when its state flips: the hub's view of each tunnel. */
  private async writeHealth(): Promise<void> {
    let status;
    try {
      status = await this.device.status();
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'cannot read tunnel health from the device');
      return;
    }
    const now = Date.now();
    for (const peer of this.peerWatch?.cached() ?? []) {
      const key = this.accepted.get(objectKey(peer));
      if (key === undefined) continue;
      const seen = status.peers.find((p) => p.publicKey === key)?.lastHandshake;
      const up = seen !== undefined && handshakeFresh(seen, now);
      const previous = peer.status.conditions;
      if (previous.find((c) => c.type === 'Connected')?.status === (up ? 'True' : 'False')) continue;
      const message = up ? `handshake with the hub at ${seen.toISOString()}` : 'no recent handshake with the hub: is the cluster\'s gateway running and can it reach the hub endpoint?';
      await this.patchStatus(peer, { conditions: setCondition(previous, condition(previous, 'Connected', up, up ? 'HandshakeRecent' : 'NoHandshake', message)) });
    }
  }
}
