import type { CoreV1Api } from '@kubernetes/client-node';
import type { Pod } from '../objects/core.js';
import { mergePatch } from '../kube/mergePatch.js';
import type { Logger } from 'pino';
import type { NodeAddressPool } from '../ipam/addressPool.js';
import { clearPodNetworkPatch, encodePodNetwork, podNetworkFor } from '../ipam/annotations.js';
import { IpamError } from '../ipam/errors.js';
import type { EventRecorder } from '../kube/events.js';
import type { PodNetworkHandlers } from '../nodeapi/server.js';
import type { PodNetworkConfig, PodRef } from '../../proto/nodeApi.js';
import type { PoolUsage } from '../metrics/controllerMetrics.js';
import { PodNetError } from './errors.js';
import { isTerminal, rebuildPool } from './rebuild.js';

export interface PodAddressOptions {
  nodeName: string;
  globalCidr: string;
  mtu: number;
  log: Logger;
}

/** An allocation whose pod the watch has not seen for this long belongs to a pod that is gone. */
const ORPHAN_AFTER_MS = 60_000;

/**
 * Node IPAM for the pods of this node: addresses from the node CIDR, recorded
 * in the pods' fleetboard.io/ annotations (the durable record a restart
 * rebuilds from), reclaimed when pods end or disappear.
 */
export class PodAddressService implements PodNetworkHandlers {
  private pool: NodeAddressPool | undefined;
  private readonly allocatedAt = new Map<string, number>();

  constructor(
    private readonly core: CoreV1Api,
    private readonly events: EventRecorder,
    private readonly opts: PodAddressOptions,
  ) {}

  /** Takes the node CIDR into use, rebuilding allocations from the node's pods. */
  adoptNodeCidr(cidr: string, pods: readonly Pod[]): void {
    const { pool, problems } = rebuildPool(cidr, pods);
    for (const { pod, reason } of problems) {
      this.opts.log.warn({ pod: `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`, reason }, 'recorded address not kept');
      this.events.emit(
        podRef(pod),
        'Warning',
        'FleetboardAddressNotKept',
        `${reason}. FleetBoard holds no address for this pod now (fleetboard.io/ annotations are written by FleetBoard only): delete the pod so that it is wired again with a fresh address from ${cidr}`,
      );
    }
    const now = Date.now();
    this.allocatedAt.clear();
    for (const pod of pods) if (pool.addressOf(pod.metadata.uid ?? '')) this.allocatedAt.set(pod.metadata.uid ?? '', now);
    this.pool = pool;
    this.opts.log.info({ nodeCidr: cidr, rebuilt: pool.used, problems: problems.length }, 'node CIDR in use');
  }

  /** Undefined until the node CIDR is adopted. */
  usage(): PoolUsage | undefined {
    return this.pool && { cidr: this.pool.cidr, used: this.pool.used, capacity: this.pool.size };
  }

  async allocate(ref: PodRef): Promise<PodNetworkConfig> {
    const pool = this.pool;
    if (!pool) throw new PodNetError('NOT_READY', `node ${this.opts.nodeName} has no node CIDR yet; the cluster's leader assigns it (check the cnf leader's logs)`);
    const fresh = pool.addressOf(ref.uid) === undefined;
    let ip: string;
    try {
      ip = pool.allocate(ref.uid);
    } catch (err) {
      if (err instanceof IpamError && err.code === 'POOL_EXHAUSTED') {
        this.events.emit({ kind: 'Pod', apiVersion: 'v1', ...ref }, 'Warning', 'FleetboardAddressPoolExhausted', err.message);
        throw new PodNetError('EXHAUSTED', err.message, { cause: err });
      }
      throw err;
    }
    const network = podNetworkFor(pool.cidr, ip, this.opts.globalCidr);
    try {
      // metadata.uid makes the patch fail if a pod of the same name replaced this one.
      await this.core.patchNamespacedPod(
        { name: ref.name, namespace: ref.namespace, body: { metadata: { uid: ref.uid, annotations: encodePodNetwork(network) } } },
        mergePatch,
      );
    } catch (err) {
      if (fresh) pool.release(ref.uid);
      const code = (err as { code?: number }).code;
      if (code === 404 || code === 409 || code === 422) throw new PodNetError('POD_GONE', `pod ${ref.namespace}/${ref.name} (uid ${ref.uid}) no longer exists`, { cause: err });
      throw new PodNetError('API', `recording the address of ${ref.namespace}/${ref.name}: ${(err as Error).message}`, { cause: err });
    }
    if (fresh) this.allocatedAt.set(ref.uid, Date.now());
    return { ...network, mtu: this.opts.mtu };
  }

  async release(ref: PodRef, reason: string): Promise<boolean> {
    const released = this.forget(ref.uid);
    if (released) this.opts.log.info({ pod: `${ref.namespace}/${ref.name}`, reason }, 'address released');
    await this.core
      .patchNamespacedPod({ name: ref.name, namespace: ref.namespace, body: { metadata: { uid: ref.uid, annotations: clearPodNetworkPatch() } } }, mergePatch)
      .catch((err: unknown) => {
        const code = (err as { code?: number }).code;
        if (code !== 404 && code !== 409 && code !== 422) throw new PodNetError('API', `clearing the address of ${ref.namespace}/${ref.name}: ${(err as Error).message}`, { cause: err });
      });
    return released;
  }

  /** Watch: a pod of this node was deleted. */
  podDeleted(pod: Pod): void {
    if (this.forget(pod.metadata.uid ?? '')) this.opts.log.info({ pod: `${pod.metadata.namespace ?? ''}/${pod.metadata.name}` }, 'address of deleted pod reclaimed');
  }

  /** Watch: a pod that ran to completion keeps its object but needs no address. */
  podUpdated(pod: Pod): void {
    if (!isTerminal(pod) || !this.pool?.addressOf(pod.metadata.uid ?? '')) return;
    void this.release({ namespace: pod.metadata.namespace ?? '', name: pod.metadata.name, uid: pod.metadata.uid ?? '' }, `pod ${pod.status.phase ?? ''}`).catch(
      (err: unknown) => this.opts.log.warn({ err: (err as Error).message }, 'clearing the annotations of a finished pod failed'),
    );
  }

  /** Reclaims addresses of pods the watch no longer knows (deleted while we were not watching). */
  sweep(knownUids: ReadonlySet<string>, now = Date.now()): number {
    let reclaimed = 0;
    for (const [uid, at] of this.allocatedAt) {
      if (!knownUids.has(uid) && now - at > ORPHAN_AFTER_MS && this.forget(uid)) reclaimed++;
    }
    if (reclaimed > 0) this.opts.log.info({ reclaimed }, 'addresses of vanished pods reclaimed');
    return reclaimed;
  }

  private forget(uid: string): boolean {
    this.allocatedAt.delete(uid);
    return this.pool?.release(uid) ?? false;
  }
}

function podRef(pod: Pod) {
  return { kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name, uid: pod.metadata.uid ?? '' };
}
