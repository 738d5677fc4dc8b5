import type { V1EndpointSlice } from '@kubernetes/client-node';

export interface SlicePlan {
  create: V1EndpointSlice[];
  /** Desired slices whose live copy differs; written over it (the live resourceVersion is kept by the caller). */
  update: V1EndpointSlice[];
  /** Names of live slices nothing exports any more. */
  remove: string[];
}

const content = (s: V1EndpointSlice) => JSON.stringify([s.metadata?.labels ?? {}, s.addressType, s.endpoints, s.ports ?? []]);

/** How to turn the slices published in the hub (`live`) into `desired`, touching only what differs. Pure. */
export function slicePlan(desired: readonly V1EndpointSlice[], live: readonly V1EndpointSlice[]): SlicePlan {
  const byName = new Map(live.map((s) => [s.metadata?.name ?? '', s]));
  const wanted = new Set(desired.map((s) => s.metadata?.name ?? ''));
  const plan: SlicePlan = { create: [], update: [], remove: [] };
  for (const s of desired) {
    const current = byName.get(s.metadata?.name ?? '');
    if (!current) plan.create.push(s);
    else if (content(current) !== content(s)) plan.update.push(s);
  }
  for (const name of byName.keys()) if (!wanted.has(name)) plan.remove.push(name);
  return plan;
}
