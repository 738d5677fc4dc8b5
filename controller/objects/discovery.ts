import { z } from 'zod';
import type { ObjectKind } from './decode.js';
import { int, list, objectMeta, objectReference, optional, struct } from './fields.js';

const endpoint = z.object({
  addresses: list(z.string()),
  conditions: struct({ ready: optional(z.boolean()), serving: optional(z.boolean()), terminating: optional(z.boolean()) }),
  hostname: optional(z.string()),
  nodeName: optional(z.string()),
  zone: optional(z.string()),
  targetRef: optional(objectReference),
});
export type Endpoint = z.output<typeof endpoint>;

const endpointPort = z.object({
  name: optional(z.string()),
  protocol: optional(z.string()),
  port: optional(int),
  appProtocol: optional(z.string()),
});
export type EndpointPort = z.output<typeof endpointPort>;

/**
 * discovery.k8s.io/v1 EndpointSlice. `endpoints` is null when the Service
 * has no endpoints (scaled to 0, or none ready yet), though the OpenAPI
 * document calls it required.
 */
const endpointSlice = z.object({
  metadata: objectMeta,
  addressType: z.string(),
  endpoints: list(endpoint),
  ports: list(endpointPort),
});
export type EndpointSlice = z.output<typeof endpointSlice>;
export const EndpointSliceKind: ObjectKind<EndpointSlice> = { kind: 'EndpointSlice', schema: endpointSlice };
