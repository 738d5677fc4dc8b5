import type { V1ContainerStatus, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';

/** What the node agent knows about one container. */
export interface ContainerRecord {
  name: string;
  image: string;
  id: string;
  restartCount: number;
  ready: boolean;
  state:
    | { kind: 'waiting'; reason: string; message?: string }
    | { kind: 'running'; startedAt: Date }
    | { kind: 'terminated'; exitCode: number; reason: string; startedAt: Date; finishedAt: Date; message?: string };
  lastTermination?: { exitCode: number; reason: string; startedAt: Date; finishedAt: Date; message?: string } | undefined;
}

export interface PodRecord {
  sandboxReady: boolean;
  /** Failure that keeps the sandbox from being created, shown on the pod. */
  sandboxError: string | undefined;
  hostIp: string;
  podIp: string | undefined;
  startTime: Date;
  initDone: boolean;
  containers: ContainerRecord[];
  /** Set when every container has ended and none will restart. */
  finished: 'Succeeded' | 'Failed' | undefined;
}

/** Strategic-merge-patch directive that makes a list replace the stored one. */
const REPLACE_LIST = { $patch: 'replace' } as unknown as { ip: string };

function condition(type: string, ok: boolean, now: Date, reason?: string, message?: string): V1PodCondition {
  return {
    type,
    status: ok ? 'True' : 'False',
    lastTransitionTime: now,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

function containerStatus(c: ContainerRecord): V1ContainerStatus {
  const s = c.state;
  const state =
    s.kind === 'running'
      ? { running: { startedAt: s.startedAt } }
      : s.kind === 'waiting'
        ? { waiting: { reason: s.reason, ...(s.message ? { message: s.message } : {}) } }
        : { terminated: { exitCode: s.exitCode, reason: s.reason, startedAt: s.startedAt, finishedAt: s.finishedAt, ...(s.message ? { message: s.message } : {}) } };
  return {
    name: c.name,
    image: c.image,
    imageID: `testbed://${c.image}`,
    ...(s.kind === 'waiting' ? {} : { containerID: `testbed://${c.id}` }),
    ready: c.ready,
    started: s.kind === 'running',
    restartCount: c.restartCount,
    state,
    ...(c.lastTermination ? { lastState: { terminated: c.lastTermination } } : {}),
  };
}

/**
 * The pod status a kubelet would report for this record. Conditions carry
 * `now` as transition time; the apiserver keeps them per type (strategic merge).
 */
export function podStatus(r: PodRecord, now: Date): V1PodStatus {
  const containersReady = r.containers.length > 0 && r.containers.every((c) => c.ready);
  const anyRunning = r.containers.some((c) => c.state.kind === 'running');
  const phase = r.finished ?? (r.sandboxReady && r.initDone && anyRunning ? 'Running' : 'Pending');
  const waitingReason = r.containers.find((c) => c.state.kind === 'waiting' && c.state.reason !== 'ContainerCreating');
  return {
    phase,
    hostIP: r.hostIp,
    // Lists are replaced, not merged by key: a recreated sandbox has a new address.
    hostIPs: [{ ip: r.hostIp }, REPLACE_LIST],
    ...(r.podIp ? { podIP: r.podIp, podIPs: [{ ip: r.podIp }, REPLACE_LIST] } : {}),
    startTime: r.startTime,
    conditions: [
      condition('PodReadyToStartContainers', r.sandboxReady, now, r.sandboxError ? 'FailedCreatePodSandBox' : undefined, r.sandboxError),
      condition('Initialized', r.initDone, now),
      condition('ContainersReady', containersReady, now, containersReady ? undefined : 'ContainersNotReady'),
      condition(
        'Ready',
        containersReady && phase === 'Running',
        now,
        containersReady ? undefined : 'ContainersNotReady',
        waitingReason?.state.kind === 'waiting' ? waitingReason.state.message : undefined,
      ),
    ],
    containerStatuses: r.containers.map(containerStatus),
  };
}
