import { apiErrorDetail, ignoreNotFound, isConflict } from '../kube/apiErrors.js';
import { API_WRITE_CONCURRENCY, eachLimited } from '../kube/eachLimited.js';
import { objectKey, type Named, type ObjectPlan } from './objectPlan.js';

/** The API calls that carry out a plan for one kind of object: `D` as written, `L` as read. */
export interface ObjectWrites<D extends Named, L extends Named> {
  create(body: D): Promise<unknown>;
  /** `body` carries the live object's resourceVersion, so a concurrent change fails instead of being lost. */
  replace(body: D): Promise<unknown>;
  remove(live: L): Promise<unknown>;
}

/** One write of a plan that failed; the others were made. */
export interface WriteFailure<D, L> {
  verb: 'create' | 'replace' | 'delete';
  object: D | L;
  err: unknown;
}

/**
 * Failed writes by what they belong to (`ownerOf`: an export, an import),
 * added to `into` with the first failure's explanation for each.
 */
export function failuresByOwner<D extends Named, L extends Named>(kind: string, failures: readonly WriteFailure<D, L>[], ownerOf: (o: D | L) => string, into: Map<string, string>): void {
  for (const f of failures) {
    const owner = ownerOf(f.object);
    if (!into.has(owner)) into.set(owner, `${f.verb} ${kind} ${objectKey(f.object)} failed: ${apiErrorDetail(f.err)}`);
  }
}

/**
 * Creates, replaces and deletes as `plan` says, each object on its own: one
 * that fails is returned, and every other write is still made. An object
 * already gone counts as deleted. Plans are made from watch caches, which
 * may lag our own writes: an object that exists already, or changed since it
 * was read, is left for the next reconcile, which its watch event schedules.
 */
export async function applyPlan<D extends Named, L extends Named>(plan: ObjectPlan<D, L>, live: readonly L[], writes: ObjectWrites<D, L>): Promise<WriteFailure<D, L>[]> {
  const liveByKey = new Map(live.map((o) => [objectKey(o), o]));
  const failures: WriteFailure<D, L>[] = [];
  const attempt = async (verb: WriteFailure<D, L>['verb'], object: D | L, write: Promise<unknown>) => {
    try {
      await write;
    } catch (err) {
      if (isConflict(err)) return; // changed meanwhile: its watch event brings the next reconcile
      failures.push({ verb, object, err });
    }
  };
  await eachLimited(plan.create, API_WRITE_CONCURRENCY, (body) => attempt('create', body, writes.create(body)));
  await eachLimited(plan.update, API_WRITE_CONCURRENCY, (body) => {
    const resourceVersion = liveByKey.get(objectKey(body))?.metadata?.resourceVersion ?? '';
    return attempt('replace', body, writes.replace(Object.assign({}, body, { metadata: Object.assign({}, body.metadata, { resourceVersion }) })));
  });
  await eachLimited(plan.remove, API_WRITE_CONCURRENCY, (gone) => attempt('delete', gone, writes.remove(gone).catch(ignoreNotFound)));
  return failures;
}
