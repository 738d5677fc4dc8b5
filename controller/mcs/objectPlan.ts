import type { KubernetesObject } from '@kubernetes/client-node';

export interface ObjectPlan<T> {
  create: T[];
  /** Desired objects whose live copy differs; written over it (the caller carries the live resourceVersion). */
  update: T[];
  /** Live objects nothing wants any more. */
  remove: T[];
}

/** `namespace/name`: objects of one kind are told apart by both. */
export const objectKey = (o: KubernetesObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * How to turn the objects published in the hub (`live`) into `desired`,
 * touching only what differs in `content` (the fields this side owns, not
 * what the server sets). Pure.
 */
export function objectPlan<T extends KubernetesObject>(desired: readonly T[], live: readonly T[], content: (o: T) => unknown): ObjectPlan<T> {
  const byKey = new Map(live.map((o) => [objectKey(o), o]));
  const wanted = new Set(desired.map(objectKey));
  const plan: ObjectPlan<T> = { create: [], update: [], remove: [] };
  for (const o of desired) {
    const current = byKey.get(objectKey(o));
    if (!current) plan.create.push(o);
    else if (JSON.stringify(content(current)) !== JSON.stringify(content(o))) plan.update.push(o);
  }
  for (const [k, o] of byKey) if (!wanted.has(k)) plan.remove.push(o);
  return plan;
}
