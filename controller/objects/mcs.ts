import { z } from 'zod';
import type { ObjectKind } from './decode.js';
import { condition, int, list, objectMeta, optional, stringMap, struct } from './fields.js';

/** multicluster.x-k8s.io ServiceExport. */
const serviceExport = z.object({
  metadata: objectMeta,
  spec: struct({ exportedLabels: stringMap, exportedAnnotations: stringMap }),
  status: struct({ conditions: list(condition) }),
});
export type ServiceExport = z.output<typeof serviceExport>;
export const ServiceExportKind: ObjectKind<ServiceExport> = { kind: 'ServiceExport', schema: serviceExport };

const importPort = z.object({
  name: optional(z.string()),
  /** The CRD defaults it to TCP; an object stored without that default has none. */
  protocol: optional(z.string()),
  appProtocol: optional(z.string()),
  port: int,
});
export type ImportPort = z.output<typeof importPort>;

/**
 * multicluster.x-k8s.io ServiceImport: in a member (made by FleetBoard, or by
 * hand and then adopted) or in the hub (a cluster's view of a service it
 * exports). A hand-written one may have no spec at all, so no type.
 */
const serviceImport = z.object({
  metadata: objectMeta,
  spec: struct({
    type: optional(z.string()),
    ports: list(importPort),
    ips: list(z.string()),
    sessionAffinity: optional(z.string()),
    sessionAffinityConfig: optional(z.object({ clientIP: optional(z.object({ timeoutSeconds: optional(int) })) })),
  }),
  status: struct({ clusters: list(z.object({ cluster: z.string() })), conditions: list(condition) }),
});
export type ServiceImport = z.output<typeof serviceImport>;
export const ServiceImportKind: ObjectKind<ServiceImport> = { kind: 'ServiceImport', schema: serviceImport };
