/** An object as written (the client's types) or as read (objects/): both are named, perhaps namespaced. */
export interface Named {
  metadata?: { name?: string | undefined; namespace?: string | undefined; resourceVersion?: string | undefined; labels?: Record<string, string> | undefined };
}

/** `D`: objects as written; `L`: as read back. */
export interface ObjectPlan<D, L> {
  create: D[];
  /** Desired objects whose live copy differs; written over it (the caller carries the live resourceVersion). */
  update: D[];
  /** Live objects nothing wants any more. */
  remove: L[];
}

/** `namespace/name`: objects of one kind are told apart by both. */
export const namespacedName = (namespace: string | undefined, name: string | undefined): string => `${namespace ?? ''}/${name ?? ''}`;
export const objectKey = (o: Named): string => namespacedName(o.metadata?.namespace, o.metadata?.name);

const byKeyName = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * JSON with every object's keys in sorted order, and empty lists and maps
 * left out like absent ones. The apiserver returns maps (labels) and a custom
 * resource's fields in its own order, not the order we wrote them, and drops
 * or nulls what is empty, while objects as read have every list and map
 * (objects/): compared as plain JSON, an unchanged object looked changed and
 * was written again on every reconcile.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.length === 0 ? undefined : v;
    const entries = Object.entries(v).filter(([, x]) => x !== undefined && x !== null);
    return entries.length === 0 ? undefined : Object.fromEntries(entries.sort(byKeyName));
  });
}

/** What this side owns of an object with a spec: labels, annotations and the spec. */
export const labelsAnnotationsAndSpec = (o: { metadata?: { labels?: unknown; annotations?: unknown }; spec?: unknown }): unknown => [o.metadata?.labels, o.metadata?.annotations, o.spec];

/**
 * The canonical content of live objects, per content function. Watch caches
 * replace an object on every change and never edit one, so its text holds
 * for as long as the object lives and need not be made again each reconcile.
 */
const liveContent = new WeakMap<object, WeakMap<object, string>>();

function canonicalLive<T extends object>(o: T, content: (o: T) => unknown): string {
  let byObject = liveContent.get(content);
  if (!byObject) liveContent.set(content, (byObject = new WeakMap()));
  let text = byObject.get(o);
  if (text === undefined) byObject.set(o, (text = canonicalJson(content(o))));
  return text;
}

/**
 * How to turn the objects published in the hub (`live`) into `desired`,
 * touching only what differs in `content` (the fields this side owns, not
 * what the server sets). Pure; `content` should be one function for all
 * calls (not made anew each time), so the live side is serialized once.
 */
export function objectPlan<D extends Named, L extends Named>(desired: readonly D[], live: readonly L[], content: (o: D | L) => unknown): ObjectPlan<D, L> {
  const byKey = new Map(live.map((o) => [objectKey(o), o]));
  const wanted = new Set(desired.map(objectKey));
  const plan: ObjectPlan<D, L> = { create: [], update: [], remove: [] };
  for (const o of desired) {
    const current = byKey.get(objectKey(o));
    if (!current) plan.create.push(o);
    else if (canonicalLive(current, content) !== canonicalJson(content(o))) plan.update.push(o);
  }
  for (const [k, o] of byKey) if (!wanted.has(k)) plan.remove.push(o);
  return plan;
}
