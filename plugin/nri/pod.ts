import type { PodSandbox } from './api.js';

/** Path of the pod's network namespace; undefined for host-network pods, which have none of their own. */
export function podNetnsPath(pod: PodSandbox): string | undefined {
  const ns = pod.linux?.namespaces.find((n) => n.type === 'network');
  return ns?.path ? ns.path : undefined;
}

export const podKey = (pod: Pick<PodSandbox, 'namespace' | 'name'>): string => `${pod.namespace}/${pod.name}`;
