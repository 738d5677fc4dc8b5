import { PatchStrategy, setHeaderOptions, type CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ResilientWatch } from '../kube/resilientWatch.js';
import type { WireGuardDevice } from '../wireguard/device.js';
import { publicKeyOf } from '../wireguard/keys.js';
import { meshPeers, tunnelAnnotations } from './meshPeers.js';
import { ensureTunnelLink } from './tunnelLink.js';

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
  /** Reapply everything this often, which also restarts a WireGuard device that died. */
  resyncMs: number;
  log: Logger;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const DEBOUNCE_MS = 200;

/**
 * The tunnels between the cnf pods of one cluster: this node publishes its
 * public key on its own cnf pod, follows the other cnf pods and the node CIDRs,
 * and keeps its WireGuard device peered with every other node.
 */
export class TunnelMesh {
  private watch: ResilientWatch<V1Pod> | undefined;
  private nodeCidrs: ReadonlyMap<string, string> = new Map();
  private timer: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private lastSkipped = '';
  private stopped = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly device: WireGuardDevice,
    private readonly opts: TunnelMeshOptions,
  ) {}

  async start(): Promise<void> {
    const { namespace, podName, cnfSelector } = this.opts;
    await this.core.patchNamespacedPod(
      {
        name: podName,
        namespace,
        body: { metadata: { annotations: { [tunnelAnnotations.publicKey]: publicKeyOf(this.opts.privateKey), [tunnelAnnotations.port]: String(this.opts.listenPort) } } },
      },
      mergePatch,
    );
    this.watch = new ResilientWatch<V1Pod>(
      this.kc,
      `/api/v1/namespaces/${namespace}/pods`,
      () => this.core.listNamespacedPod({ namespace, labelSelector: cnfSelector }),
      { upsert: () => this.schedule(), remove: () => this.schedule() },
      (m) => this.opts.log.warn(m),
      { label: cnfSelector },
    );
    await this.watch.start();
    this.resync = setInterval(() => this.schedule(), this.opts.resyncMs);
    this.schedule();
  }

  nodeCidrsChanged(cidrs: ReadonlyMap<string, string>): void {
    this.nodeCidrs = cidrs;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.resync);
    await this.watch?.stop();
    await this.running;
    await this.device.close();
  }

  /** Coalesces bursts of changes into one reconcile, never two at once. */
  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.running) {
        this.again = true;
        return;
      }
      this.running = this.reconcile().finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.schedule();
        }
      });
    }, DEBOUNCE_MS);
  }

  private async reconcile(): Promise<void> {
    const { peers, skipped } = meshPeers(this.opts.nodeName, this.watch?.cached() ?? [], this.nodeCidrs);
    const skippedKey = JSON.stringify(skipped);
    if (skippedKey !== this.lastSkipped) {
      this.lastSkipped = skippedKey;
      for (const s of skipped) this.opts.log.info({ pod: s.pod, reason: s.reason }, 'cnf pod is not a tunnel peer yet');
    }
    try {
      await this.device.apply({ privateKey: this.opts.privateKey, listenPort: this.opts.listenPort, peers });
      await ensureTunnelLink(this.device.name, this.opts.mtu, this.opts.globalCidr);
    } catch (err) {
      this.opts.log.error({ err: (err as Error).message, iface: this.device.name }, 'configuring the tunnels failed; retrying');
      setTimeout(() => this.schedule(), 2000).unref();
    }
  }
}
