import { z } from 'zod';
import type { ObjectKind } from './decode.js';
import { int, objectMeta, optional, struct, timestamp } from './fields.js';

const lease = z.object({
  metadata: objectMeta,
  spec: struct({
    holderIdentity: optional(z.string()),
    leaseDurationSeconds: optional(int),
    acquireTime: optional(timestamp),
    renewTime: optional(timestamp),
    leaseTransitions: optional(int),
  }),
});
export type Lease = z.output<typeof lease>;
export const LeaseKind: ObjectKind<Lease> = { kind: 'Lease', schema: lease };
