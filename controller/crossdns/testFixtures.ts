import { DNS_NAME_ANNOTATION, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_SOURCE_CLUSTER, LABEL_SOURCE_CONNECTED, MANAGED_BY, MCS_GROUP, MCS_VERSION, type ServiceImportBody, type ServiceImportSpec } from '../mcs/api.js';
import type { SliceBody } from '../mcs/exportedSlices.js';
import { decodeObject } from '../objects/decode.js';
import { EndpointSliceKind } from '../objects/discovery.js';
import { ServiceImportKind } from '../objects/mcs.js';
import type { IndexInput } from './zoneIndex.js';

/** ServiceImports and imported EndpointSlices as the import controller writes them, for tests and the benchmark. */

export function serviceImport(namespace: string, name: string, spec: ServiceImportSpec, dnsNames?: string): ServiceImportBody {
  return {
    apiVersion: `${MCS_GROUP}/${MCS_VERSION}`,
    kind: 'ServiceImport',
    metadata: { name, namespace, labels: {}, annotations: dnsNames === undefined ? {} : { [DNS_NAME_ANNOTATION]: dnsNames } },
    spec,
  };
}

export interface TestEndpoint {
  ip: string;
  hostname?: string;
  ready?: boolean;
}

export function importedSlice(namespace: string, service: string, cluster: string, endpoints: readonly TestEndpoint[], opts: { connected?: boolean; name?: string } = {}): SliceBody {
  const v6 = endpoints.some((e) => e.ip.includes(':'));
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: opts.name ?? `${service}-${cluster}${v6 ? '-v6' : ''}`,
      namespace,
      labels: { [LABEL_SERVICE_NAME]: service, [LABEL_SOURCE_CLUSTER]: cluster, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_SOURCE_CONNECTED]: String(opts.connected ?? true) },
    },
    addressType: v6 ? 'IPv6' : 'IPv4',
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], ...(e.hostname ? { hostname: e.hostname } : {}), ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }) })),
    ports: [],
  };
}

/** What crossdns reads of these objects once they are in the API. */
export function indexInput(imports: readonly ServiceImportBody[], slices: readonly SliceBody[] = []): IndexInput {
  return { imports: imports.map((i) => decodeObject(ServiceImportKind, i)), slices: slices.map((s) => decodeObject(EndpointSliceKind, s)) };
}
