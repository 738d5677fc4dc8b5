import { createHash } from 'node:crypto';
import type { DiscoveryV1EndpointPort, V1Endpoint, V1EndpointConditions, V1EndpointSlice } from '@kubernetes/client-node';
import type { Endpoint, EndpointPort, EndpointSlice } from '../objects/discovery.js';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_SERVICE_NAMESPACE, LABEL_SOURCE_CLUSTER, MANAGED_BY } from './api.js';

/** An EndpointSlice as FleetBoard writes it (in the hub, and imported in members): always named. */
export type SliceBody = V1EndpointSlice & { metadata: { name: string; namespace: string; labels: Record<string, string> } };

export interface ExportedSlices {
  slices: SliceBody[];
  /** Endpoints left out because their pod has no global address (yet): the export is not fully Ready. */
  withoutGlobalAddress: number;
}

/** The global address of a pod, from its FleetBoard annotation; undefined when it has none. */
export type GlobalAddressOf = (namespace: string, podName: string) => string | undefined;

const MAX_NAME = 253;

/** The fields FleetBoard owns in a slice it publishes or imports: what decides whether the live copy must be rewritten. */
export const sliceContent = (s: SliceBody | EndpointSlice): unknown => [s.metadata.labels, s.addressType, s.endpoints, s.ports];

/** An endpoint as FleetBoard publishes and imports it: its addresses and conditions as given, hostname, nodeName and zone as read. */
export function endpointBody(ep: Endpoint, addresses: string[], conditions: V1EndpointConditions): V1Endpoint {
  return {
    addresses,
    conditions,
    ...(ep.hostname ? { hostname: ep.hostname } : {}),
    ...(ep.nodeName ? { nodeName: ep.nodeName } : {}),
    ...(ep.zone ? { zone: ep.zone } : {}),
  };
}

/** A slice's port as FleetBoard publishes and imports it, with the protocol the API defaults. */
export function portBody(p: EndpointPort): DiscoveryV1EndpointPort {
  return { ...(p.name !== undefined ? { name: p.name } : {}), protocol: p.protocol ?? 'TCP', ...(p.port !== undefined ? { port: p.port } : {}), ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) };
}

/** The conditions an endpoint states, and none it leaves unknown (unknown counts as ready to readers). */
export function statedConditions(c: Endpoint['conditions']): V1EndpointConditions {
  return { ...(c.ready !== undefined ? { ready: c.ready } : {}), ...(c.serving !== undefined ? { serving: c.serving } : {}), ...(c.terminating !== undefined ? { terminating: c.terminating } : {}) };
}

/** `<cluster>-<namespace>-<slice>`, shortened with a hash of the whole when too long; unique per source slice. */
export function exportedSliceName(clusterID: string, namespace: string, localSlice: string): string {
  const name = `${clusterID}-${namespace}-${localSlice}`;
  if (name.length <= MAX_NAME) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 10);
  return `${name.slice(0, MAX_NAME - hash.length - 1)}-${hash}`;
}

/**
 * What a cluster publishes in the hub for one exported Service: a copy of
 * each of its EndpointSlices with every pod endpoint's address replaced by
 * the pod's global address, which other clusters can reach through the
 * tunnels. Conditions (ready, serving, terminating), hostname, nodeName and
 * zone are kept; endpoints that are not pods, or pods without a global
 * address, are left out and counted. Pure.
 */
export function exportedSlices(clusterID: string, hubNamespace: string, service: { namespace: string; name: string }, local: readonly EndpointSlice[], globalAddressOf: GlobalAddressOf): ExportedSlices {
  let withoutGlobalAddress = 0;
  const slices: SliceBody[] = [];
  for (const slice of local) {
    if (slice.addressType !== 'IPv4') continue; // the global CIDR is IPv4
    const endpoints: V1Endpoint[] = [];
    for (const ep of slice.endpoints) {
      const ref = ep.targetRef;
      const address = ref?.kind === 'Pod' && ref.name ? globalAddressOf(ref.namespace ?? service.namespace, ref.name) : undefined;
      if (!address) {
        withoutGlobalAddress += 1;
        continue;
      }
      const { ready, serving, terminating } = ep.conditions;
      endpoints.push(endpointBody(ep, [address], { ready: ready ?? false, serving: serving ?? ready ?? false, terminating: terminating ?? false }));
    }
    endpoints.sort((a, b) => (a.addresses[0] ?? '').localeCompare(b.addresses[0] ?? ''));
    slices.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: exportedSliceName(clusterID, service.namespace, slice.metadata.name),
        namespace: hubNamespace,
        labels: { [LABEL_SERVICE_NAME]: service.name, [LABEL_SERVICE_NAMESPACE]: service.namespace, [LABEL_SOURCE_CLUSTER]: clusterID, [LABEL_MANAGED_BY]: MANAGED_BY },
      },
      addressType: 'IPv4',
      endpoints,
      ports: slice.ports.map(portBody),
    });
  }
  slices.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return { slices, withoutGlobalAddress };
}
