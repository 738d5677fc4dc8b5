import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { decodeObject } from '../objects/decode.js';
import { PodKind } from '../objects/core.js';
import { decodePodNetwork } from '../ipam/annotations.js';
import { apiErrorDetail, isNotFound } from '../kube/apiErrors.js';
import { pollUntil } from './checks.js';
import type { MemberInfo } from './memberInfo.js';

/**
 * `verify` and `benchmark` work in a namespace of their own, named once per
 * run (so a run never meets the leftovers of another) and the same in every
 * member (so exports meet by namespace sameness), removed at the end.
 */
export const runNamespaceName = (command: string): string => `fleetboard-${command}-${randomBytes(3).toString('hex')}`;

export async function createRunNamespace(m: MemberInfo, namespace: string): Promise<void> {
  await m.kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace, labels: { 'app.kubernetes.io/managed-by': 'fleetctl' } } } });
}

/** The pod's global address once it is Ready with one; undefined at the deadline. */
export function readyPodAddress(m: MemberInfo, namespace: string, name: string, deadline: number): Promise<string | undefined> {
  const core = m.kc.makeApiClient(CoreV1Api);
  return pollUntil(async () => {
    const pod = decodeObject(PodKind, await core.readNamespacedPod({ name, namespace }));
    const ready = pod.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
    return ready ? decodePodNetwork(pod.metadata.annotations)?.ipAddress : undefined;
  }, deadline);
}

/** Deletes the namespace everywhere (its pods, Services and ServiceExports go with it); a failure is reported, not thrown. */
export async function removeRunNamespace(members: MemberInfo[], namespace: string, progress: (line: string) => void): Promise<void> {
  progress(`removing namespace ${namespace}`);
  await Promise.all(
    members.map((m) =>
      m.kc
        .makeApiClient(CoreV1Api)
        .deleteNamespace({ name: namespace })
        .then(
          () => undefined,
          (err: unknown) => {
            if (!isNotFound(err)) progress(`could not remove namespace ${namespace} in ${m.clusterID}: ${apiErrorDetail(err)}`);
          },
        ),
    ),
  );
}
