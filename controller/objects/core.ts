import { z } from 'zod';
import type { ObjectKind } from './decode.js';
import { condition, int, list, objectMeta, optional, stringMap, struct, timestamp } from './fields.js';

const containerState = z.object({
  waiting: optional(z.object({ reason: optional(z.string()), message: optional(z.string()) })),
  running: optional(z.object({ startedAt: optional(timestamp) })),
  terminated: optional(z.object({ exitCode: int, reason: optional(z.string()), message: optional(z.string()) })),
});

const pod = z.object({
  metadata: objectMeta,
  spec: struct({
    nodeName: optional(z.string()),
    hostNetwork: optional(z.boolean()),
  }),
  status: struct({
    phase: optional(z.string()),
    message: optional(z.string()),
    reason: optional(z.string()),
    podIP: optional(z.string()),
    startTime: optional(timestamp),
    conditions: list(condition),
    containerStatuses: list(z.object({ name: z.string(), restartCount: optional(int), ready: optional(z.boolean()), state: optional(containerState) })),
  }),
});
export type Pod = z.output<typeof pod>;
export const PodKind: ObjectKind<Pod> = { kind: 'Pod', schema: pod };

/** A pod as caches of every pod in a cluster keep it: its name and metadata (the global address is an annotation). */
const podMetadata = z.object({ metadata: objectMeta });
export type PodMetadata = z.output<typeof podMetadata>;
export const PodMetadataKind: ObjectKind<PodMetadata> = { kind: 'Pod', schema: podMetadata };

const servicePort = z.object({
  name: optional(z.string()),
  protocol: optional(z.string()),
  appProtocol: optional(z.string()),
  port: int,
});

const service = z.object({
  metadata: objectMeta,
  spec: struct({
    type: optional(z.string()),
    clusterIP: optional(z.string()),
    clusterIPs: list(z.string()),
    ports: list(servicePort),
    sessionAffinity: optional(z.string()),
    sessionAffinityConfig: optional(z.object({ clientIP: optional(z.object({ timeoutSeconds: optional(int) })) })),
  }),
});
export type Service = z.output<typeof service>;
export const ServiceKind: ObjectKind<Service> = { kind: 'Service', schema: service };

const node = z.object({
  metadata: objectMeta,
  spec: struct({ podCIDR: optional(z.string()), podCIDRs: list(z.string()) }),
  status: struct({
    addresses: list(z.object({ type: z.string(), address: z.string() })),
    conditions: list(condition),
    nodeInfo: optional(z.object({ containerRuntimeVersion: optional(z.string()), kubeletVersion: optional(z.string()) })),
  }),
});
export type Node = z.output<typeof node>;
export const NodeKind: ObjectKind<Node> = { kind: 'Node', schema: node };

const namespace = z.object({ metadata: objectMeta, status: struct({ phase: optional(z.string()) }) });
export type Namespace = z.output<typeof namespace>;
export const NamespaceKind: ObjectKind<Namespace> = { kind: 'Namespace', schema: namespace };

const configMap = z.object({ metadata: objectMeta, data: stringMap });
export type ConfigMap = z.output<typeof configMap>;
export const ConfigMapKind: ObjectKind<ConfigMap> = { kind: 'ConfigMap', schema: configMap };

/** `data` holds base64 text, as the API sends it. */
const secret = z.object({ metadata: objectMeta, type: optional(z.string()), data: stringMap });
export type Secret = z.output<typeof secret>;
export const SecretKind: ObjectKind<Secret> = { kind: 'Secret', schema: secret };
