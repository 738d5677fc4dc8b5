import { z } from 'zod';
import type { ApiObject } from './fields.js';

/** One kind of API object as FleetBoard reads it: its name for messages, and the schema that decodes it. */
export interface ObjectKind<T extends ApiObject> {
  readonly kind: string;
  readonly schema: z.ZodType<T>;
}

/** An object from the API that FleetBoard cannot read; it is left out and reported, never half-used. */
export class ObjectDecodeError extends Error {
  readonly code = 'INVALID_OBJECT';

  constructor(
    /** `Kind namespace/name`, as far as the object says. */
    readonly object: string,
    /** Each problem, `path: what is wrong`. */
    readonly problems: readonly string[],
  ) {
    super(`${object} cannot be read: ${problems.join('; ')}; fix or delete it`);
    this.name = 'ObjectDecodeError';
  }
}

/** `Kind namespace/name` of whatever an object claims to be, for messages. */
export function describeRaw(kind: string, raw: unknown): string {
  const meta = typeof raw === 'object' && raw !== null ? (raw as { metadata?: unknown }).metadata : undefined;
  const field = (k: string) => {
    const v = typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>)[k] : undefined;
    return typeof v === 'string' ? v : undefined;
  };
  const namespace = field('namespace');
  return `${kind} ${namespace ? `${namespace}/` : ''}${field('name') ?? '(unnamed)'}`;
}

const problemsOf = (err: z.ZodError): string[] => err.issues.slice(0, 5).map((i) => `${i.path.length > 0 ? i.path.join('.') : '(object)'}: ${i.message}`);

/** The object as FleetBoard reads it; throws ObjectDecodeError when it cannot be read. */
export function decodeObject<T extends ApiObject>(kind: ObjectKind<T>, raw: unknown): T {
  const result = kind.schema.safeParse(raw);
  if (result.success) return result.data;
  throw new ObjectDecodeError(describeRaw(kind.kind, raw), problemsOf(result.error));
}

/** The objects of a list that can be read; each one that cannot is handed to `invalid` and left out. */
export function decodeItems<T extends ApiObject>(kind: ObjectKind<T>, raw: readonly unknown[] | null | undefined, invalid: (err: ObjectDecodeError) => void): T[] {
  const items: T[] = [];
  for (const r of raw ?? []) {
    try {
      items.push(decodeObject(kind, r));
    } catch (err) {
      if (!(err instanceof ObjectDecodeError)) throw err;
      invalid(err);
    }
  }
  return items;
}
