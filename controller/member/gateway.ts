import { setTimeout as delay } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiErrorDetail, httpCode } from '../kube/apiErrors.js';
import type { ResilientWatch } from '../kube/resilientWatch.js';
import { PeerClient } from '../clusterset/peerClient.js';
import { checkPeer, linkMtuStatus, type CheckedPeer } from '../clusterset/peer.js';
import type { Peer } from '../objects/fleetboard.js';
import type { TunnelMesh } from '../tunnel/mesh.js';
import { Debouncer } from '../tunnel/debouncer.js';
import type { HubMembership } from './credentialStore.js';
import { credentialsRevoked } from './hubKubeConfig.js';
import { handshakeFresh } from '../tunnel/tunnelHealth.js';
import { EndpointResolver } from './endpointResolver.js';
import { HandshakeRetry } from './handshakeRetry.js';
import { gatewayView, restartedPeers, type DirectPeer } from './gatewayPeer.js';

/** How often peers waiting for their first handshake are checked. */
const HANDSHAKE_CHECK_MS = 250;

export interface ClusterGatewayOptions {
  membership: HubMembership;
  nodeName: string;
  keepaliveSeconds: number;
  /** Where other members reach this gateway (a NodePort or load balancer in front of the leader cnf); undefined behind NAT. */
  publicEndpoint: { host: string; port: number } | undefined;
  statusIntervalMs: number;
  /** Called once when the hub refuses credentials that have not expired: this cluster was removed from the hub. */
  onRevoked: () => void;
  /**
   * Called once after that, when the tunnel to the hub is down too: gone from
   * the device (this gateway dropped it once its own Peer left the hub) or
   * without a handshake for WireGuard's reject-after-time. Until then the data
   * path may still work (say, after a botched key rotation in the hub).
   */
  onCutOff: () => void;
  log: Logger;
}

/**
 * The leader cnf's job as its cluster's gateway: publish its WireGuard key
 * (and its endpoint, when reachable) in the cluster's Peer in the hub, hold
 * the tunnel to the hub and the direct tunnels to other clusters, and report
 * their health in the Peer's status.
 */
export class ClusterGateway {
  private readonly peers: PeerClient;
  private watch: ResilientWatch<Peer> | undefined;
  private readonly debouncer: Debouncer;
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly resolver = new EndpointResolver();
  private lastWaiting: string | undefined = 'starting';
  private lastUnresolved = '';
  private direct: DirectPeer[] = [];
  private dialled: ReadonlyMap<string, string | undefined> = new Map();
  private readonly handshakes = new HandshakeRetry();
  private retryTimer: NodeJS.Timeout | undefined;
  private retrying = false;
  /** When this gateway's device was (re)created, as published: clusters dialling it restart their session when it changes. */
  private since: { generation: number; at: string } | undefined;
  private revoked: 'no' | 'revoked' | 'cut off' = 'no';

  constructor(
    hubKc: KubeConfig,
    private readonly mesh: TunnelMesh,
    private readonly opts: ClusterGatewayOptions,
  ) {
    this.peers = new PeerClient(hubKc);
    this.debouncer = new Debouncer(() => this.reconcile(), opts.log, 'configuring the tunnel to the hub');
  }

  /** The membership (and hub token) this gateway talks to the hub with. */
  get membership(): HubMembership {
    return this.opts.membership;
  }

  async start(): Promise<void> {
    const { namespace, clusterID } = this.opts.membership;
    this.watch = this.peers.watchAll(() => this.debouncer.schedule(), this.opts.log);
    await this.watch.start();
    const pub = this.opts.publicEndpoint;
    await this.peers.patchSpec(namespace, clusterID, { publicKey: this.mesh.publicKey, isPublic: pub !== undefined, endpoint: pub?.host ?? null, port: pub?.port ?? null });
    this.retryTimer = setInterval(() => void this.retryHandshakes(), HANDSHAKE_CHECK_MS);
    this.statusTimer = setInterval(() => {
      // Also looks up endpoint names again once their address has aged.
      this.debouncer.schedule();
      void this.writeStatus();
    }, this.opts.statusIntervalMs);
    this.opts.log.info({ cluster: clusterID, endpoint: pub && `${pub.host}:${pub.port}` }, 'gateway: published this node\'s public key');
    this.debouncer.schedule();
  }

  /**
   * Keeps forwarding until another cnf has published its key in the cluster's
   * Peer (the hub then sends there), or `timeoutMs` passes; then stops.
   */
  async handOver(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.ownPeer()?.spec.publicKey === this.mesh.publicKey) await delay(100);
    await this.stop();
  }

  async stop(): Promise<void> {
    clearInterval(this.statusTimer);
    clearInterval(this.retryTimer);
    await this.debouncer.stop();
    await this.watch?.stop();
    this.mesh.setClustersetPeers([]);
  }

  private ownPeer(): CheckedPeer | undefined {
    const { namespace, clusterID } = this.opts.membership;
    const p = this.watch?.cached().find((o) => o.metadata.namespace === namespace && o.metadata.name === clusterID);
    const checked = p && checkPeer(p);
    return typeof checked === 'object' ? checked : undefined;
  }

  private async reconcile(): Promise<void> {
    // Objects others wrote: no field is to be trusted until checkPeer has vouched for them.
    const objects = this.watch?.cached() ?? [];
    const dialable = objects.filter((p) => p.spec?.isHub || p.spec?.isPublic).map((p) => p.spec?.endpoint);
    const unresolvable = await this.resolver.refresh(dialable.filter((e): e is string => typeof e === 'string' && e !== ''));
    const { namespace, clusterID } = this.opts.membership;
    const view = gatewayView(objects, { namespace, clusterID, publicKey: this.mesh.publicKey }, this.opts.keepaliveSeconds, (e) => this.resolver.address(e));
    if (view.waiting !== this.lastWaiting) {
      this.lastWaiting = view.waiting;
      if (view.waiting) this.opts.log.info({ reason: view.waiting }, 'not dialling the hub yet');
      else this.opts.log.info({ hub: view.hubPeer?.endpoint, remote: view.hubPeer?.allowedIps }, 'tunnel to the hub configured');
    }
    const unresolved = view.unresolved.join(', ');
    if (unresolved !== this.lastUnresolved) {
      this.lastUnresolved = unresolved;
      if (unresolved) this.opts.log.warn({ clusters: view.unresolved }, 'cannot dial these clusters directly: their endpoint does not resolve; they can still dial this one');
    }
    const directKey = JSON.stringify(view.direct);
    if (directKey !== JSON.stringify(this.direct)) {
      if (view.direct.length > 0) this.opts.log.info({ direct: view.direct.map((d) => ({ cluster: d.clusterID, endpoint: d.peer.endpoint, remote: d.peer.allowedIps })) }, 'direct tunnels to other clusters configured');
      this.direct = view.direct;
    }
    const restart = restartedPeers(this.dialled, view.dialled);
    const fresh = [...view.dialled.keys()].filter((k) => !this.dialled.has(k));
    this.dialled = view.dialled;
    this.mesh.setClustersetPeers(
      view.hubPeer ? [{ name: view.hubClusterID, kind: 'hub', peer: view.hubPeer }, ...view.direct.map((d) => ({ name: d.clusterID, kind: 'cluster' as const, peer: d.peer }))] : [],
    );
    this.mesh.restartPeers(restart);
    this.handshakes.expect([...fresh, ...restart], Date.now());
    if (view.hubPeer && this.since === undefined) void this.writeStatus();
    // One member's bad DNS name must not hold up the other tunnels: they are configured above, and the debouncer retries the lookups.
    if (unresolvable.length > 0) throw new Error(`cannot resolve ${unresolvable.join(', ')}`);
  }

  /** Dials again the peers that have not handshaken since they were configured (see HandshakeRetry). */
  private async retryHandshakes(): Promise<void> {
    if (!this.handshakes.waiting || this.retrying) return;
    this.retrying = true;
    try {
      const device = (await this.mesh.status()).peers;
      const again = this.handshakes.due(new Set(this.dialled.keys()), (key) => device.find((p) => p.publicKey === key)?.lastHandshake?.getTime(), Date.now());
      if (again.length > 0) {
        this.opts.log.info({ peers: again }, 'no handshake yet: dialling again');
        this.mesh.restartPeers(again);
      }
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'cannot read the tunnel device to check handshakes');
    } finally {
      this.retrying = false;
    }
  }

  private async writeStatus(): Promise<void> {
    if (this.revoked !== 'no') {
      await this.checkCutOff();
      return;
    }
    const { namespace, clusterID } = this.opts.membership;
    if (this.lastWaiting === undefined && this.since?.generation !== this.mesh.generation) this.since = { generation: this.mesh.generation, at: new Date().toISOString() };
    try {
      const hubKey = this.hubKey();
      const device = (await this.mesh.status()).peers;
      const health = (key: string | undefined) => {
        const t = device.find((p) => p.publicKey === key);
        return { ...(t?.lastHandshake ? { lastHandshake: t.lastHandshake.toISOString() } : {}), rxBytes: t?.rxBytes ?? 0, txBytes: t?.txBytes ?? 0 };
      };
      await this.peers.patchStatus(namespace, clusterID, {
        tunnel: {
          gatewayNode: this.opts.nodeName,
          ...(this.since ? { since: this.since.at } : {}),
          ...linkMtuStatus(this.mesh.linkMtus),
          ...health(hubKey),
          // A merge patch replaces the list whole, so a tunnel that went away drops out.
          direct: this.direct.map((d) => ({ clusterID: d.clusterID, ...health(d.peer.publicKey) })),
        },
      });
    } catch (err) {
      if (httpCode(err) === 401 && credentialsRevoked(this.opts.membership.token, Date.now())) {
        this.revoked = 'revoked';
        this.opts.onRevoked();
        return;
      }
      this.opts.log.warn({ err: apiErrorDetail(err) }, 'cannot write tunnel health to the hub');
    }
  }

  /** The hub's key, from Peers others wrote: a Peer may have no spec. */
  private hubKey(): string | undefined {
    const peers: readonly Peer[] = this.watch?.cached() ?? [];
    return peers.find((p) => p.spec?.isHub)?.spec?.publicKey;
  }

  private async checkCutOff(): Promise<void> {
    if (this.revoked !== 'revoked') return;
    const hubKey = this.hubKey();
    try {
      const last = (await this.mesh.status()).peers.find((p) => p.publicKey === hubKey)?.lastHandshake;
      if (last && handshakeFresh(last, Date.now())) return;
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'cannot read the tunnel device to check the hub tunnel');
      return;
    }
    this.revoked = 'cut off';
    this.opts.onCutOff();
  }
}
