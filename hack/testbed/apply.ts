import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

/** Creates each object; one that already exists is left as it is. */
export async function createAll(kc: KubeConfig, objects: KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const obj of objects) {
    await api.create(obj).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 409) {
        throw new Error(`creating ${obj.kind ?? ''} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}: ${(err as Error).message}`, { cause: err });
      }
    });
  }
}
