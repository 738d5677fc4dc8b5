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

/**
 * Creates each object, or replaces the one that exists (as `helm upgrade`
 * would); controllers roll what changed. Reads first: creating a Service with
 * a fixed ClusterIP that exists already fails on the taken IP (422), not as a conflict.
 */
export async function applyAll(kc: KubeConfig, objects: KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const obj of objects) {
    const ref = { apiVersion: obj.apiVersion ?? '', kind: obj.kind ?? '', metadata: { name: obj.metadata?.name ?? '', namespace: obj.metadata?.namespace ?? '' } };
    try {
      const live = await api.read(ref).catch((err: unknown) => {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      });
      if (live) await api.replace({ ...obj, metadata: Object.assign({}, obj.metadata, { resourceVersion: live.metadata?.resourceVersion ?? '' }) });
      else await api.create(obj);
    } catch (err) {
      throw new Error(`applying ${obj.kind ?? ''} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}: ${(err as Error).message}`, { cause: err });
    }
  }
}
