import { decodeItems, decodeObject, type ObjectKind } from '../../controller/objects/decode.js';
import type { ApiObject } from '../../controller/objects/fields.js';

/** An object as FleetBoard's controllers read it (see controller/objects); tests look at the API the same way. */
export const readAs = <T extends ApiObject>(kind: ObjectKind<T>, raw: unknown): T => decodeObject(kind, raw);

/** The same, for a read that may have found nothing. */
export const readIfFound = <T extends ApiObject>(kind: ObjectKind<T>, raw: unknown): T | undefined => (raw === undefined ? undefined : decodeObject(kind, raw));

/** Every item of a list; one that cannot be read fails the test. */
export const readItems = <T extends ApiObject>(kind: ObjectKind<T>, list: unknown): T[] =>
  decodeItems(kind, (list as { items?: unknown[] }).items, (err) => {
    throw err;
  });
