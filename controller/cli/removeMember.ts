import { CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { decodeObject } from '../objects/decode.js';
import { NamespaceKind } from '../objects/core.js';
import { ignoreNotFound, isNotFound } from '../kube/apiErrors.js';
import { CLUSTER_CIDR_ANNOTATION, memberNamespace } from '../clusterset/peer.js';
import { MEMBER_LABEL, readerBindingName } from '../hub/memberAccess.js';
import { pollUntil } from './checks.js';

export class RemoveError extends Error {
  override name = 'RemoveError';
}

export interface RemovedMember {
  clusterID: string;
  namespace: string;
  clusterCIDR: string | undefined;
  /** False when not waited for: the namespace may still be terminating. */
  gone: boolean;
}

/**
 * Removes a member from the clusterset by deleting its namespace in the hub:
 * its Peer (so the hub stops routing it), its exports (so every member drops
 * them), its ServiceAccount (so its hub token stops working) and its RBAC go.
 * The cluster CIDR is recorded on the namespace, so it is free again only once
 * all of that is gone.
 */
export async function removeMember(hub: KubeConfig, clusterID: string, opts: { wait: boolean; timeoutMs: number }): Promise<RemovedMember> {
  const core = hub.makeApiClient(CoreV1Api);
  const namespace = memberNamespace(clusterID);
  const ns = decodeObject(
    NamespaceKind,
    await core.readNamespace({ name: namespace }).catch((err: unknown) => {
      if (isNotFound(err)) throw new RemoveError(`no member cluster ${clusterID} in this hub (no namespace ${namespace}); fleetctl show lists the members`);
      throw err;
    }),
  );
  if (ns.metadata.labels[MEMBER_LABEL] !== clusterID) {
    throw new RemoveError(`namespace ${namespace} is not the hub's record of member ${clusterID} (no ${MEMBER_LABEL}=${clusterID} label); not deleting it`);
  }
  const clusterCIDR = ns.metadata.annotations[CLUSTER_CIDR_ANNOTATION];
  if (!ns.metadata.deletionTimestamp) await core.deleteNamespace({ name: namespace });
  await deleteReaderBinding(hub, clusterID, namespace);
  if (!opts.wait) return { clusterID, namespace, clusterCIDR, gone: false };
  const gone = await pollUntil(
    () => core.readNamespace({ name: namespace }).then(
      () => undefined,
      (err: unknown) => (isNotFound(err) ? true : Promise.reject(err as Error)),
    ),
    Date.now() + opts.timeoutMs,
  );
  if (!gone) throw new RemoveError(`namespace ${namespace} is still terminating after ${Math.round(opts.timeoutMs / 1000)} s; kubectl describe namespace ${namespace} says what it waits for`);
  return { clusterID, namespace, clusterCIDR, gone: true };
}

/**
 * The member's cluster-wide reader binding. The namespace owns it (garbage
 * collection removes it), but members that joined an older hub have one without
 * an owner; deleting it here covers both.
 */
async function deleteReaderBinding(hub: KubeConfig, clusterID: string, namespace: string): Promise<void> {
  const rbac = hub.makeApiClient(RbacAuthorizationV1Api);
  const name = readerBindingName(namespace);
  const binding = await rbac.readClusterRoleBinding({ name }).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  if (binding?.metadata?.labels?.[MEMBER_LABEL] !== clusterID) return;
  await rbac.deleteClusterRoleBinding({ name }).catch(ignoreNotFound);
}

export function renderRemoved(r: RemovedMember): string {
  const cidr = r.clusterCIDR ? `its cluster CIDR ${r.clusterCIDR}` : 'its cluster CIDR';
  const lines = r.gone
    ? [`removed ${r.clusterID} from the clusterset: the hub no longer routes it, every member dropped its exports, its hub credentials no longer work, and ${cidr} is free again.`]
    : [`removing ${r.clusterID}: namespace ${r.namespace} is terminating; ${cidr} is freed once everything in it is gone.`];
  lines.push(`In ${r.clusterID} itself, uninstall the agent: helm uninstall fleetboard-agent --namespace fleetboard-system`);
  return `${lines.join('\n')}\n`;
}
