import { KubeConfig } from '@kubernetes/client-node';

export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
}

/** A kubeconfig file (default: $KUBECONFIG, then ~/.kube/config) and optionally one of its contexts. */
export interface ClusterAccess {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

export function loadKubeConfig(access: ClusterAccess, role: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (access.kubeconfig) kc.loadFromFile(access.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new KubeConfigError(`reading the ${role} kubeconfig ${access.kubeconfig ?? '(default)'}: ${(err as Error).message}`, { cause: err });
  }
  if (access.context) {
    if (!kc.getContextObject(access.context)) throw new KubeConfigError(`the ${role} kubeconfig has no context "${access.context}" (it has: ${kc.getContexts().map((c) => c.name).join(', ')})`);
    kc.setCurrentContext(access.context);
  }
  if (!kc.getCurrentCluster()) throw new KubeConfigError(`the ${role} kubeconfig ${access.kubeconfig ?? '(default)'} names no cluster: pass --kubeconfig or --context`);
  return kc;
}

/** Member clusters from repeated `--member <kubeconfig>` and `--member-context <name>` flags. */
export function memberAccesses(files: string[], contexts: string[], defaultKubeconfig: string | undefined): ClusterAccess[] {
  return [...files.map((kubeconfig) => ({ kubeconfig })), ...contexts.map((context) => ({ kubeconfig: defaultKubeconfig, context }))];
}
