import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ResilientWatch } from '../kube/resilientWatch.js';
import { LeaseKind, type Lease } from '../objects/coordination.js';

/**
 * Watches one Lease and calls `onReleased` when it has no holder or is gone:
 * a leader stepping down gracefully writes an empty holder, and followers
 * that learn of it at once take over without waiting for their next poll.
 */
export function watchLeaseRelease(kc: KubeConfig, namespace: string, leaseName: string, onReleased: () => void, log: Logger): ResilientWatch<Lease> {
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const field = `metadata.name=${leaseName}`;
  return new ResilientWatch(
    kc,
    `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
    LeaseKind,
    () => coordination.listNamespacedLease({ namespace, fieldSelector: field }),
    {
      upsert: (lease) => {
        if (!lease.spec.holderIdentity) onReleased();
      },
      remove: () => onReleased(),
    },
    (m) => log.warn(m),
    { field },
  );
}
