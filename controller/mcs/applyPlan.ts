import type { KubernetesObject } from '@kubernetes/client-node';
import { ignoreNotFound, isConflict } from '../kube/apiErrors.js';
import { API_WRITE_CONCURRENCY, eachLimited } from '../kube/eachLimited.js';
import { objectKey, type ObjectPlan } from './objectPlan.js';


/** The API calls that carry out a plan for one kind of object. */
export interface ObjectWrites<T extends KubernetesObject> {
  create(body: T): Promise<unknown>;
  /** `body` carries the live object's resourceVersion, so a concurrent change fails instead of being lost. */
  replace(body: T): Promise<unknown>;
  remove(live: T): Promise<unknown>;
}

/**
 * Creates, replaces and deletes as `plan` says; an object already gone counts
 * as deleted. Plans are made from watch caches, which may lag our own writes:
 * an object that exists already, or changed since it was read, is left for
 * the next reconcile, which its watch event schedules.
 */
export async function applyPlan<T extends KubernetesObject>(plan: ObjectPlan<T>, live: readonly T[], writes: ObjectWrites<T>): Promise<void> {
  const liveByKey = new Map(live.map((o) => [objectKey(o), o]));
  const unlessChangedMeanwhile = (err: unknown) => {
    if (!isConflict(err)) throw err;
  };
  await eachLimited(plan.create, API_WRITE_CONCURRENCY, (body) => writes.create(body).catch(unlessChangedMeanwhile));
  await eachLimited(plan.update, API_WRITE_CONCURRENCY, (body) => {
    const resourceVersion = liveByKey.get(objectKey(body))?.metadata?.resourceVersion ?? '';
    return writes.replace(Object.assign({}, body, { metadata: Object.assign({}, body.metadata, { resourceVersion }) })).catch(unlessChangedMeanwhile);
  });
  await eachLimited(plan.remove, API_WRITE_CONCURRENCY, (gone) => writes.remove(gone).catch(ignoreNotFound));
}
