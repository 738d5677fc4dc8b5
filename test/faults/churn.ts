import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { setTimeout as delay } from 'node:timers/promises';

export interface ChurnCounts {
  created: number;
  deleted: number;
  /** API calls refused or failed: the churn goes on, and the test decides whether any is acceptable. */
  failed: number;
  /** Pods created per second over the whole run, which falls short of the target when the API lags. */
  createdPerSecond: number;
}

export interface Churn {
  stop(): Promise<ChurnCounts>;
}

/**
 * Creates bare pods labelled `app=<prefix>` at `perSecond` and, once more than
 * `population` exist, deletes the oldest for each one created: a steady
 * create/delete stream. Paced against the clock, so slow calls do not pile up.
 */
export function startChurn(kc: KubeConfig, prefix: string, perSecond: number, population: number): Churn {
  const core = kc.makeApiClient(CoreV1Api);
  const live: string[] = [];
  const counts = { created: 0, deleted: 0, failed: 0 };
  const stop = new AbortController();
  const started = Date.now();
  const loop = (async () => {
    for (let n = 0; !stop.signal.aborted; n++) {
      const name = `${prefix}-${n}`;
      const create = core
        .createNamespacedPod({ namespace: 'default', body: { metadata: { name, labels: { app: prefix } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] } } })
        .then(() => {
          counts.created += 1;
          live.push(name);
        }, () => (counts.failed += 1));
      const oldest = live.length >= population ? live.shift() : undefined;
      const remove = oldest
        ? core.deleteNamespacedPod({ name: oldest, namespace: 'default', gracePeriodSeconds: 0 }).then(() => (counts.deleted += 1), () => (counts.failed += 1))
        : Promise.resolve();
      await Promise.all([create, remove]);
      const next = started + ((n + 1) * 1000) / perSecond;
      if (next > Date.now()) await delay(next - Date.now());
    }
  })();
  return {
    async stop() {
      stop.abort();
      await loop;
      const seconds = (Date.now() - started) / 1000;
      return { ...counts, createdPerSecond: counts.created / seconds };
    },
  };
}
