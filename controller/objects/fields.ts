import { z } from 'zod';

/*
 * What Kubernetes may leave out of an object, as its Go types marshal it:
 * a field tagged `omitempty` is absent when empty; a slice or map without it
 * is `null` when nil (EndpointSlice.endpoints of a Service with no ready
 * pods); an optional struct is absent. The OpenAPI document marks some of
 * these "required", and @kubernetes/client-node's types follow it, so neither
 * can be trusted for this. These builders read every such field as the API
 * really sends it and normalize it once, here: a list is always a list, a map
 * always a map, an optional value `undefined` rather than `null`.
 */

/** A scalar or struct the API may omit or send as null: `undefined` when it does. */
export const optional = <T extends z.ZodType>(schema: T) =>
  schema
    .nullable()
    .transform((v): z.output<T> | undefined => v ?? undefined)
    .optional();

/** A list the API may omit or send as null: always a list. */
export const list = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((v): z.output<T>[] => v ?? []);

/** A map of strings (labels, annotations, ConfigMap data) the API may omit or send as null: always a map. */
export const stringMap = z
  .record(z.string(), z.string())
  .nullish()
  .transform((v): Record<string, string> => v ?? {});

/**
 * A struct whose every field may be absent, itself absent or null (a spec or
 * status): read as the empty struct, so its lists and maps are still there.
 */
export const struct = <S extends z.ZodRawShape>(shape: S) => z.preprocess((v) => v ?? {}, z.object(shape));

/**
 * A timestamp: RFC 3339 text as a watch delivers it, or the Date the typed
 * client makes of it when it lists or reads; always the text.
 */
export const timestamp = z.union([z.string(), z.date().transform((d) => d.toISOString())]);

export const int = z.number().int();

/** metav1.ObjectMeta: what FleetBoard reads of it. An object from the API always has a name. */
export const objectMeta = z.object({
  name: z.string(),
  namespace: optional(z.string()),
  uid: optional(z.string()),
  resourceVersion: optional(z.string()),
  generation: optional(int),
  creationTimestamp: optional(timestamp),
  deletionTimestamp: optional(timestamp),
  labels: stringMap,
  annotations: stringMap,
});
export type ObjectMeta = z.output<typeof objectMeta>;

/** metav1.Condition (and the older condition types, whose reason and message are optional). */
export const condition = z.object({
  type: z.string(),
  status: z.string(),
  reason: optional(z.string()),
  message: optional(z.string()),
  lastTransitionTime: optional(timestamp),
  observedGeneration: optional(int),
});
export type Condition = z.output<typeof condition>;

/** corev1.ObjectReference as EndpointSlices point at their pods. */
export const objectReference = z.object({
  kind: optional(z.string()),
  namespace: optional(z.string()),
  name: optional(z.string()),
  uid: optional(z.string()),
});

/** Every object FleetBoard reads: named, perhaps namespaced. */
export interface ApiObject {
  metadata: ObjectMeta;
}

/** A boolean the API may omit (Go `omitempty`, or a CRD default not yet applied): false when it does. */
export const flag = z
  .boolean()
  .nullish()
  .transform((v) => v ?? false);
