import { z } from 'zod';
import type { ObjectKind } from './decode.js';
import { int, list, objectMeta, optional, struct } from './fields.js';

const container = z.object({ name: z.string(), image: optional(z.string()), command: list(z.string()), args: list(z.string()) });
export type Container = z.output<typeof container>;

/** What fleetctl reads of the workloads the agent chart installs: their containers' flags, and how many pods are ready. */
const podTemplate = struct({ spec: struct({ containers: list(container) }) });

const daemonSet = z.object({
  metadata: objectMeta,
  spec: struct({ template: podTemplate }),
  status: struct({ desiredNumberScheduled: optional(int), numberReady: optional(int) }),
});
export type DaemonSet = z.output<typeof daemonSet>;
export const DaemonSetKind: ObjectKind<DaemonSet> = { kind: 'DaemonSet', schema: daemonSet };

const deployment = z.object({
  metadata: objectMeta,
  spec: struct({ template: podTemplate }),
  status: struct({ readyReplicas: optional(int) }),
});
export type Deployment = z.output<typeof deployment>;
export const DeploymentKind: ObjectKind<Deployment> = { kind: 'Deployment', schema: deployment };
