import { PatchStrategy, setHeaderOptions, type CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { PodMetadataKind, type PodMetadata } from '../objects/core.js';
import { decodeItems } from '../objects/decode.js';
import { hasStatus, LeaderElectionError } from './errors.js';

/** Set to "true" on the leader's pod, so Services and people can select it. */
export const LEADER_LABEL = 'fleetboard.io/leader';

/** The pod calls the leader label needs; a CoreV1Api satisfies it. */
export type PodApi = Pick<CoreV1Api, 'listNamespacedPod' | 'patchNamespacedPod'>;

export interface LeaderPodTarget {
  namespace: string;
  /** Our own pod. */
  podName: string;
  /** Label selector of all candidates' pods (the DaemonSet's), e.g. "app=cnf". */
  selector: string;
}

/** Pods other than ours that still carry the leader label, e.g. a crashed former leader's. */
export function podsToUnlabel(pods: readonly PodMetadata[], self: string): string[] {
  return pods.filter((p) => p.metadata.name !== self && p.metadata.labels[LEADER_LABEL] !== undefined).map((p) => p.metadata.name);
}

/** Labels our pod as the leader, then takes the label off every other candidate pod. */
export async function labelLeaderPod(core: PodApi, target: LeaderPodTarget): Promise<void> {
  // Ours first: a Service selecting the leader is better off briefly with two
  // endpoints (the old one is no longer leading) than with none.
  await patchLeaderLabel(core, target.namespace, target.podName, 'true');
  const labelSelector = [target.selector, LEADER_LABEL].filter((s) => s !== '').join(',');
  let listed;
  try {
    listed = await core.listNamespacedPod({ namespace: target.namespace, labelSelector });
  } catch (err) {
    throw new LeaderElectionError('POD_LABEL_FAILED', `could not list pods "${labelSelector}" in ${target.namespace} to remove stale leader labels`, {
      cause: err,
    });
  }
  // Only names and labels are read; a pod whose metadata cannot be read cannot be patched by name either.
  const pods = decodeItems(PodMetadataKind, listed.items, () => undefined);
  const failed: { name: string; err: unknown }[] = [];
  for (const name of podsToUnlabel(pods, target.podName)) {
    // Each pod on its own: one that cannot be patched does not keep the label on the others.
    await unlabelPod(core, target.namespace, name).catch((err: unknown) => failed.push({ name, err }));
  }
  const [first] = failed;
  if (first) throw new LeaderElectionError('POD_LABEL_FAILED', `could not remove the leader label from pod(s) ${failed.map((f) => f.name).join(', ')} in ${target.namespace}`, { cause: first.err });
}

/** Removes the leader label from a pod; a pod that no longer exists has none. */
export async function unlabelPod(core: PodApi, namespace: string, podName: string): Promise<void> {
  try {
    await patchLeaderLabel(core, namespace, podName, null);
  } catch (err) {
    if (!(err instanceof LeaderElectionError && hasStatus(err.cause, 404))) throw err;
  }
}

/** A merge patch: `null` deletes the label, and a missing label stays missing. */
async function patchLeaderLabel(core: PodApi, namespace: string, podName: string, value: 'true' | null): Promise<void> {
  try {
    await core.patchNamespacedPod(
      { name: podName, namespace, body: { metadata: { labels: { [LEADER_LABEL]: value } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  } catch (err) {
    const verb = value === null ? 'remove' : 'set';
    throw new LeaderElectionError('POD_LABEL_FAILED', `could not ${verb} label ${LEADER_LABEL} on pod ${namespace}/${podName}`, { cause: err });
  }
}

/**
 * Keeps our pod's leader label in step with leadership. The elector's callbacks
 * are synchronous and may flip quickly, so updates run one at a time, always
 * towards the latest state, and a failed update is retried.
 */
export class LeaderPodLabeler {
  private desired: boolean | undefined;
  private applied: boolean | undefined;
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly core: PodApi,
    private readonly target: LeaderPodTarget,
    private readonly log: Logger,
    private readonly retryMs = 2000,
  ) {}

  /** True on taking the lead; false once this pod no longer acts as leader (which may be later than losing the Lease). */
  setLeading(leading: boolean): void {
    // A pod that never led has no label of ours to take off (a stale one goes when the leader labels itself).
    if (!leading && this.desired === undefined) return;
    this.desired = leading;
    this.kick();
  }

  /** Makes a last attempt at the latest state, then stops retrying; resolves when no update is in flight. */
  async stop(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.kick();
    this.stopped = true;
    await this.running;
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    clearTimeout(this.retryTimer);
    this.running = this.drain().finally(() => {
      this.running = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.desired !== undefined && this.desired !== this.applied) {
      const leading = this.desired;
      try {
        if (leading) await labelLeaderPod(this.core, this.target);
        else await unlabelPod(this.core, this.target.namespace, this.target.podName);
        this.applied = leading;
      } catch (err) {
        const retry = !this.stopped;
        this.log.error({ err, leading, retry }, 'could not update the leader label of our pod');
        if (retry) this.retryTimer = setTimeout(() => this.kick(), this.retryMs);
        return;
      }
    }
  }
}
