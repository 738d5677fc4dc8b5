import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ResilientWatch } from '../kube/resilientWatch.js';
import { NodeKind, type Node } from '../objects/core.js';
import type { NodeCidrStore } from '../ipam/nodeCidrStore.js';
import type { EventRecorder } from '../kube/events.js';

export interface NodeCidrAllocatorOptions {
  clusterCidr: string;
  nodePrefix: number;
  log: Logger;
}

/** Coalesces bursts of node events (a cluster booting) into one write. */
const DEBOUNCE_MS = 200;
const RETRY_MS = 2000;

/**
 * The leader's job: keep one node CIDR recorded per existing node. Runs only
 * while leading; every run recomputes from the record and the node list, so a
 * new leader simply continues from what the last one recorded.
 */
export class NodeCidrAllocator {
  private watch: ResilientWatch<Node> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private synced = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly store: NodeCidrStore,
    private readonly events: EventRecorder,
    private readonly opts: NodeCidrAllocatorOptions,
  ) {}

  async start(): Promise<void> {
    this.running = true;
    const watch = new ResilientWatch(
      this.kc,
      '/api/v1/nodes',
      NodeKind,
      () => this.core.listNode(),
      { upsert: () => this.schedule(DEBOUNCE_MS), remove: () => this.schedule(DEBOUNCE_MS), invalid: () => this.schedule(DEBOUNCE_MS) },
      (m) => this.opts.log.warn(m),
    );
    this.watch = watch;
    await watch.start();
    // Until the first full listing, a missing node could be a node not yet seen: never reconcile before.
    this.synced = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.synced = false;
    clearTimeout(this.timer);
    await this.watch?.stop();
    this.watch = undefined;
  }

  private schedule(ms: number): void {
    if (!this.running || !this.synced) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reconcile(), ms);
  }

  private async reconcile(): Promise<void> {
    // A node that cannot be read still exists: it keeps its CIDR.
    const nodes = [...(this.watch?.cached() ?? []).map((n) => n.metadata.name), ...(this.watch?.unreadable() ?? []).map((n) => n.name)];
    try {
      const { assignment, problems } = await this.store.reconcile(this.opts.clusterCidr, this.opts.nodePrefix, nodes);
      for (const p of problems) {
        this.opts.log.warn({ node: p.node, code: p.code }, p.message);
        this.events.emit({ kind: 'Node', apiVersion: 'v1', name: p.node }, 'Warning', 'FleetboardNodeCidr', p.message);
      }
      this.opts.log.debug({ nodes: nodes.length, assigned: assignment.size }, 'node CIDRs reconciled');
    } catch (err) {
      this.opts.log.error({ err: (err as Error).message }, 'recording node CIDRs failed; retrying');
      this.schedule(RETRY_MS);
    }
  }
}
