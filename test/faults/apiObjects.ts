import fc from 'fast-check';

/**
 * Objects as the Kubernetes API may send them, for property tests: every
 * field the API may omit or send as null is, in turn, omitted, null, empty or
 * set. A field is described once (`Field`) and serves two generators: random
 * objects (fast-check), and a systematic walk that takes a full object and
 * treats one optional field at a time each way.
 */

/** How an optional field arrives. */
export type Treatment = 'omitted' | 'null' | 'empty';
const TREATMENTS: readonly Treatment[] = ['omitted', 'null', 'empty'];

export type Field =
  | { kind: 'value'; arb: fc.Arbitrary<unknown>; sample: unknown; optional: boolean; empty?: unknown }
  | { kind: 'struct'; fields: Record<string, Field>; optional: boolean }
  | { kind: 'list'; item: Field; optional: boolean; max: number };

/** A scalar; `empty` is what the API sends for an empty one (e.g. ""), if it can. */
export const value = <T>(arb: fc.Arbitrary<T>, sample: T, opts: { optional?: boolean; empty?: T } = {}): Field => ({ kind: 'value', arb, sample, optional: opts.optional ?? true, ...(opts.empty !== undefined ? { empty: opts.empty } : {}) });
export const required = <T>(arb: fc.Arbitrary<T>, sample: T): Field => value(arb, sample, { optional: false });
export const struct = (fields: Record<string, Field>, optional = true): Field => ({ kind: 'struct', fields, optional });
export const list = (item: Field, opts: { optional?: boolean; max?: number } = {}): Field => ({ kind: 'list', item, optional: opts.optional ?? true, max: opts.max ?? 3 });
/** labels, annotations, ConfigMap data: a map the API omits when empty. */
export const stringMap = (keys: fc.Arbitrary<string>, values: fc.Arbitrary<string>, sample: Record<string, string>): Field =>
  value(fc.dictionary(keys, values, { maxKeys: 4 }), sample, { empty: {} });

const OMIT = Symbol('omitted');

/** What the API sends for an empty field; a struct with a required field is never empty. */
function emptyOf(f: Field): unknown {
  if (f.kind === 'list') return [];
  if (f.kind === 'struct') return Object.values(f.fields).every((v) => v.optional) ? {} : undefined;
  return f.empty;
}

/** Random objects of `f`: each optional field omitted, null, empty or generated. */
export function arbitrary(f: Field): fc.Arbitrary<unknown> {
  const present: fc.Arbitrary<unknown> =
    f.kind === 'value'
      ? f.arb
      : f.kind === 'list'
        ? fc.array(arbitrary(f.item), { maxLength: f.max })
        : fc.record(Object.fromEntries(Object.entries(f.fields).map(([k, v]) => [k, v.optional ? withTreatments(v) : arbitrary(v)]))).map(dropOmitted);
  return present;
}

function withTreatments(f: Field): fc.Arbitrary<unknown> {
  const empty = emptyOf(f);
  return fc.oneof(fc.constant(OMIT), fc.constant(null), ...(empty !== undefined ? [fc.constant(empty)] : []), arbitrary(f), arbitrary(f));
}

function dropOmitted(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== OMIT));
}

/** A full object of `f`: every field set, lists with one item. */
export function sample(f: Field): unknown {
  if (f.kind === 'value') return structuredClone(f.sample);
  if (f.kind === 'list') return [sample(f.item)];
  return Object.fromEntries(Object.entries(f.fields).map(([k, v]) => [k, sample(v)]));
}

export interface Variant {
  /** Which field, and how it arrives: `spec.ports[0].protocol omitted`. */
  label: string;
  object: unknown;
}

/** The full object, then for every optional field each treatment in turn, the rest left full. */
export function variants(f: Field): Variant[] {
  const out: Variant[] = [{ label: 'every field set', object: sample(f) }];
  const walk = (field: Field, path: string[], apply: (treat: (at: unknown) => unknown) => unknown) => {
    if (field.kind === 'struct') {
      for (const [k, child] of Object.entries(field.fields)) {
        const at = [...path, k];
        if (child.optional) {
          for (const t of TREATMENTS) {
            const empty = emptyOf(child);
            if (t === 'empty' && empty === undefined) continue;
            out.push({ label: `${at.join('.')} ${t}`, object: apply((o) => setField(o, k, t === 'omitted' ? OMIT : t === 'null' ? null : structuredClone(empty))) });
          }
        }
        walk(child, at, (treat) => apply((o) => updateField(o, k, treat)));
      }
    } else if (field.kind === 'list') {
      walk(field.item, [...path.slice(0, -1), `${path.at(-1) ?? ''}[0]`], (treat) => apply((o) => (Array.isArray(o) ? [treat(o[0]), ...(o as unknown[]).slice(1)] : o)));
    }
  };
  walk(f, [], (treat) => treat(sample(f)));
  return out;
}

function setField(o: unknown, key: string, v: unknown): unknown {
  if (typeof o !== 'object' || o === null) return o;
  const copy: Record<string, unknown> = { ...(o as Record<string, unknown>) };
  if (v === OMIT) Reflect.deleteProperty(copy, key);
  else copy[key] = v;
  return copy;
}

function updateField(o: unknown, key: string, treat: (at: unknown) => unknown): unknown {
  if (typeof o !== 'object' || o === null) return o;
  return { ...(o as Record<string, unknown>), [key]: treat((o as Record<string, unknown>)[key]) };
}
