import type { KubernetesObject } from '@kubernetes/client-node';

export interface ObjectPlan<T> {
  create: T[];
  /** Desired objects whose live copy differs; written over it (the caller carries the live resourceVersion). */
  update: T[];
  /** Names of live objects nothing wants any more. */
  remove: string[];
}

/**
 * How to turn the objects published in the hub (`live`) into `desired`,
 * touching only what differs in `content` (the fields this side owns, not
 * what the server sets). Pure.
 */
export function objectPlan<T extends KubernetesObject>(desired: readonly T[], live: readonly T[], content: (o: T) => unknown): ObjectPlan<T> {
  const byName = new Map(live.map((o) => [o.metadata?.name ?? '', o]));
  const wanted = new Set(desired.map((o) => o.metadata?.name ?? ''));
  const plan: ObjectPlan<T> = { create: [], update: [], remove: [] };
  for (const o of desired) {
    const current = byName.get(o.metadata?.name ?? '');
    if (!current) plan.create.push(o);
    else if (JSON.stringify(content(current)) !== JSON.stringify(content(o))) plan.update.push(o);
  }
  for (const name of byName.keys()) if (!wanted.has(name)) plan.remove.push(name);
  return plan;
}
