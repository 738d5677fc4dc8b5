import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiErrorDetail } from '../kube/apiErrors.js';
import type { ResilientWatch } from '../kube/resilientWatch.js';
import { PeerClient } from '../clusterset/peerClient.js';
import { checkPeer, type Peer } from '../clusterset/peer.js';
import type { TunnelMesh } from '../tunnel/mesh.js';
import { Debouncer } from '../tunnel/debouncer.js';
import type { HubMembership } from './credentialStore.js';
import { gatewayView } from './gatewayPeer.js';

export interface ClusterGatewayOptions {
  membership: HubMembership;
  nodeName: string;
  keepaliveSeconds: number;
  statusIntervalMs: number;
  log: Logger;
}

/**
 * The leader cnf's job as its cluster's gateway: publish its WireGuard key in
 * the cluster's Peer in the hub, hold the tunnel to the hub with the other
 * clusters' CIDRs, and report the tunnel's health in the Peer's status.
 */
export class ClusterGateway {
  private readonly peers: PeerClient;
  private watch: ResilientWatch<Peer> | undefined;
  private readonly debouncer: Debouncer;
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly resolved = new Map<string, string>();
  private lastWaiting: string | undefined = 'starting';

  constructor(
    hubKc: KubeConfig,
    private readonly mesh: TunnelMesh,
    private readonly opts: ClusterGatewayOptions,
  ) {
    this.peers = new PeerClient(hubKc);
    this.debouncer = new Debouncer(() => this.reconcile(), opts.log, 'configuring the tunnel to the hub');
  }

  async start(): Promise<void> {
    const { namespace, clusterID } = this.opts.membership;
    this.watch = this.peers.watchAll(() => this.debouncer.schedule(), this.opts.log);
    await this.watch.start();
    await this.peers.patchSpec(namespace, clusterID, { publicKey: this.mesh.publicKey });
    this.statusTimer = setInterval(() => void this.writeStatus(), this.opts.statusIntervalMs);
    this.opts.log.info({ cluster: clusterID }, 'gateway to the hub: published this node\'s public key');
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
    await this.debouncer.stop();
    await this.watch?.stop();
    this.mesh.setHubPeer(undefined);
  }

  private ownPeer(): Peer | undefined {
    const { namespace, clusterID } = this.opts.membership;
    const p = this.watch?.cached().find((o) => o.metadata?.namespace === namespace && o.metadata.name === clusterID);
    const checked = p && checkPeer(p);
    return typeof checked === 'object' ? checked : undefined;
  }

  private async reconcile(): Promise<void> {
    // Objects others wrote: any field may be missing until checkPeer has vouched for them.
    const objects: readonly Partial<Peer>[] = this.watch?.cached() ?? [];
    for (const p of objects) {
      const endpoint = p.spec?.endpoint;
      if (p.spec?.isHub && endpoint && !this.resolved.has(endpoint)) {
        this.resolved.set(endpoint, isIP(endpoint) ? endpoint : (await lookup(endpoint, { family: 4 })).address);
      }
    }
    const { namespace, clusterID } = this.opts.membership;
    const view = gatewayView(objects, { namespace, clusterID, publicKey: this.mesh.publicKey }, this.opts.keepaliveSeconds, (e) => this.resolved.get(e));
    if (view.waiting !== this.lastWaiting) {
      this.lastWaiting = view.waiting;
      if (view.waiting) this.opts.log.info({ reason: view.waiting }, 'not dialling the hub yet');
      else this.opts.log.info({ hub: view.hubPeer?.endpoint, remote: view.hubPeer?.allowedIps }, 'tunnel to the hub configured');
    }
    this.mesh.setHubPeer(view.hubPeer);
  }

  private async writeStatus(): Promise<void> {
    const { namespace, clusterID } = this.opts.membership;
    try {
      const peers: readonly Partial<Peer>[] = this.watch?.cached() ?? [];
      const hubKey = peers.find((p) => p.spec?.isHub)?.spec?.publicKey;
      const tunnel = (await this.mesh.status()).peers.find((p) => p.publicKey === hubKey);
      await this.peers.patchStatus(namespace, clusterID, {
        tunnel: {
          gatewayNode: this.opts.nodeName,
          ...(tunnel?.lastHandshake ? { lastHandshake: tunnel.lastHandshake.toISOString() } : {}),
          rxBytes: tunnel?.rxBytes ?? 0,
          txBytes: tunnel?.txBytes ?? 0,
        },
      });
    } catch (err) {
      this.opts.log.warn({ err: apiErrorDetail(err) }, 'cannot write tunnel health to the hub');
    }
  }
}
