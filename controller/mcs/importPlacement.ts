import type { AggregatedService } from './aggregate.js';

/** A service to import, and where its ServiceImport and slices live here. */
export interface PlacedImport extends AggregatedService {
  at: { namespace: string; name: string };
}

/**
 * Where each exported service is imported: in the namespace of the same name
 * when it exists here (namespace sameness). A service published under names
 * of its own (DNS_NAME_ANNOTATION) is imported even without that namespace,
 * into `fallbackNamespace` as `<name>.<namespace>`, so those names resolve in
 * every member. Anything else is not imported here. Pure.
 */
export function placeImports(services: readonly AggregatedService[], present: ReadonlySet<string>, fallbackNamespace: string): PlacedImport[] {
  const placed: PlacedImport[] = [];
  for (const s of services) {
    if (present.has(s.namespace)) placed.push({ ...s, at: { namespace: s.namespace, name: s.name } });
    else if (s.dnsNames) placed.push({ ...s, at: { namespace: fallbackNamespace, name: `${s.name}.${s.namespace}` } });
  }
  return placed;
}
