import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { NriHandlers } from './nri/session.js';
import type { PodSandbox } from './nri/api.js';
import { podKey, podNetnsPath } from './nri/pod.js';
import { ensurePodInterface, listHostInterfaces, removePodInterface, type CnfNetns } from './netns/podInterfaceIo.js';
import { hostInterfaceName, type PodInterfaceSpec } from './netns/podInterface.js';
import type { PodNetworkConfig, PodRef } from '../proto/nodeApi.js';
import { KeyedQueue } from './keyedQueue.js';

/** The controller as the plugin needs it (ControllerClient in production). */
export interface AddressSource {
  allocate(pod: PodRef, deadline: number): Promise<PodNetworkConfig>;
  release(pod: PodRef, reason: string, deadline: number): Promise<boolean>;
}

export interface PodWiringOptions {
  /** Name of the second interface inside pods. */
  ifName: string;
  /** Pods with this label key set to "cnf" are FleetBoard's own and get no interface. */
  roleLabel: string;
  cnf: CnfNetns;
  log: Logger;
}

/** Time the background reconcile of a Synchronize gives one pod. */
const SYNC_POD_BUDGET_MS = 30_000;
const SYNC_CONCURRENCY = 4;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * NRI handlers that give every workload pod its second interface: an address
 * from the controller, a veth pair into the cnf netns. Events of one pod run
 * in order; a restart re-runs the same steps, which are idempotent.
 */
export class PodWiring implements NriHandlers {
  private readonly queue = new KeyedQueue();
  /** Running pods a reconcile could not wire yet (e.g. the node has no CIDR yet), retried with backoff. */
  private readonly retries = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly controller: AddressSource,
    private readonly opts: PodWiringOptions,
  ) {}

  /** Pods that get the interface: their own netns, and not a FleetBoard cnf pod. */
  wants(pod: PodSandbox): boolean {
    return podNetnsPath(pod) !== undefined && pod.labels[this.opts.roleLabel] !== 'cnf';
  }

  runPodSandbox(pod: PodSandbox, deadline: number): Promise<void> {
    if (!this.wants(pod)) return Promise.resolve();
    return this.queue.run(pod.uid, () => this.wire(pod, deadline));
  }

  stopPodSandbox(pod: PodSandbox, deadline: number): Promise<void> {
    this.cancelRetry(pod.uid);
    return this.queue.run(pod.uid, () => this.unwire(pod, 'StopPodSandbox', deadline));
  }

  removePodSandbox(pod: PodSandbox, deadline: number): Promise<void> {
    this.cancelRetry(pod.uid);
    return this.queue.run(pod.uid, () => this.unwire(pod, 'RemovePodSandbox', deadline));
  }

  /** Answers at once; wires every live pod and removes veths of pods that are gone in the background. */
  synchronize(pods: PodSandbox[]): Promise<void> {
    for (const uid of [...this.retries.keys()]) this.cancelRetry(uid);
    void this.reconcile(pods).catch((err: unknown) => this.opts.log.error({ err: (err as Error).message }, 'reconciling pods after synchronize failed'));
    return Promise.resolve();
  }

  private async reconcile(pods: PodSandbox[]): Promise<void> {
    const live = pods.filter((p) => this.wants(p) && existsSync(podNetnsPath(p) ?? ''));
    const keep = new Set(live.map((p) => hostInterfaceName(p.uid)));
    for (const stale of (await listHostInterfaces(this.opts.cnf)).filter((n) => !keep.has(n))) {
      await removePodInterface(stale, this.opts.cnf);
      this.opts.log.info({ hostInterface: stale }, 'removed the interface of a pod that no longer runs');
    }
    let failed = 0;
    const work = [...live];
    const worker = async () => {
      for (let pod = work.shift(); pod; pod = work.shift()) {
        const p = pod;
        await this.queue.run(p.uid, () => this.wire(p, Date.now() + SYNC_POD_BUDGET_MS)).catch((err: unknown) => {
          failed++;
          this.opts.log.error({ pod: podKey(p), err: (err as Error).message }, 'cannot wire a running pod; retrying');
          this.retryLater(p, 1);
        });
      }
    };
    await Promise.all(Array.from({ length: SYNC_CONCURRENCY }, worker));
    this.opts.log.info({ pods: live.length, failed }, 'reconciled running pods');
  }

  /** Clears pending retries; the composition root calls it on shutdown. */
  stop(): void {
    for (const uid of [...this.retries.keys()]) this.cancelRetry(uid);
  }

  private retryLater(pod: PodSandbox, attempt: number): void {
    const delayMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (attempt - 1));
    const timer = setTimeout(() => {
      this.retries.delete(pod.uid);
      if (!existsSync(podNetnsPath(pod) ?? '')) return;
      this.queue.run(pod.uid, () => this.wire(pod, Date.now() + SYNC_POD_BUDGET_MS)).catch((err: unknown) => {
        this.opts.log.warn({ pod: podKey(pod), attempt, err: (err as Error).message }, 'still cannot wire a running pod; retrying');
        this.retryLater(pod, attempt + 1);
      });
    }, delayMs);
    this.retries.set(pod.uid, timer);
  }

  private cancelRetry(uid: string): void {
    clearTimeout(this.retries.get(uid));
    this.retries.delete(uid);
  }

  private async wire(pod: PodSandbox, deadline: number): Promise<void> {
    const netns = podNetnsPath(pod);
    if (!netns) return;
    // The runtime names the netns by its path on the node: the plugin sees it only through a mount of that folder.
    if (!existsSync(netns)) {
      throw new Error(
        `fleetboard: pod ${podKey(pod)}'s network namespace ${netns} is not visible in the cnf pod: mount the node's ${dirname(netns)} into the plugin container (hostPath, mountPropagation: HostToContainer), as the fleetboard-agent chart does`,
      );
    }
    const ref = { namespace: pod.namespace, name: pod.name, uid: pod.uid };
    let cfg: PodNetworkConfig;
    try {
      cfg = await this.controller.allocate(ref, deadline);
    } catch (err) {
      throw new Error(`fleetboard: no address for pod ${podKey(pod)}: ${grpcDetail(err)}`, { cause: err });
    }
    try {
      await ensurePodInterface(netns, this.spec(pod, cfg), this.opts.cnf);
    } catch (err) {
      throw new Error(`fleetboard: setting up ${this.opts.ifName} in pod ${podKey(pod)}: ${(err as Error).message}`, { cause: err });
    }
    this.opts.log.info({ pod: podKey(pod), ip: cfg.ipAddress }, 'pod wired');
  }

  private async unwire(pod: PodSandbox, reason: string, deadline: number): Promise<void> {
    if (!this.wants(pod)) return;
    await removePodInterface(hostInterfaceName(pod.uid), this.opts.cnf);
    try {
      await this.controller.release({ namespace: pod.namespace, name: pod.name, uid: pod.uid }, reason, deadline);
    } catch (err) {
      // The controller also reclaims addresses of deleted pods; log and let the runtime go on.
      this.opts.log.warn({ pod: podKey(pod), err: grpcDetail(err) }, 'releasing the address failed; the controller reclaims it when the pod is deleted');
    }
  }

  private spec(pod: PodSandbox, cfg: PodNetworkConfig): PodInterfaceSpec {
    const prefixLength = Number(cfg.cidr.split('/')[1]);
    return {
      ifName: this.opts.ifName,
      hostIfName: hostInterfaceName(pod.uid),
      address: cfg.ipAddress,
      prefixLength,
      gateway: cfg.gateway,
      mac: cfg.macAddress,
      mtu: cfg.mtu,
      routes: cfg.routes,
    };
  }
}

/** grpc-js messages start with "<code> <NAME>: "; users need the controller's text. */
function grpcDetail(err: unknown): string {
  const e = err as { details?: string; message?: string };
  return e.details ?? e.message ?? String(err);
}
