import type { KubernetesObject } from '@kubernetes/client-node';
import { isNotFound } from '../kube/apiErrors.js';
import { objectKey, type ObjectPlan } from './objectPlan.js';

/** The API calls that carry out a plan for one kind of object. */
export interface ObjectWrites<T extends KubernetesObject> {
  create(body: T): Promise<unknown>;
  /** `body` carries the live object's resourceVersion, so a concurrent change fails instead of being lost. */
  replace(body: T): Promise<unknown>;
  remove(live: T): Promise<unknown>;
}

/** Creates, replaces and deletes as `plan` says; an object already gone counts as deleted. */
export async function applyPlan<T extends KubernetesObject>(plan: ObjectPlan<T>, live: readonly T[], writes: ObjectWrites<T>): Promise<void> {
  const liveByKey = new Map(live.map((o) => [objectKey(o), o]));
  for (const body of plan.create) await writes.create(body);
  for (const body of plan.update) {
    const resourceVersion = liveByKey.get(objectKey(body))?.metadata?.resourceVersion ?? '';
    await writes.replace(Object.assign({}, body, { metadata: Object.assign({}, body.metadata, { resourceVersion }) }));
  }
  for (const gone of plan.remove) {
    await writes.remove(gone).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }
}
