import type { Query } from './query.js';

/**
 * Encoded responses by question, so a repeated question costs a map lookup
 * and a copy. Replaced whole when the index changes; when full, the oldest
 * entry goes (a flood of random names cannot grow it).
 */
export class ResponseCache {
  private readonly entries = new Map<string, readonly Buffer[]>();

  constructor(private readonly maxEntries: number) {}

  get(key: string): readonly Buffer[] | undefined {
    return this.entries.get(key);
  }

  set(key: string, variants: readonly Buffer[]): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, variants);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * What the response depends on besides id, RD/CD and the question's case:
 * the canonical name, type, class, and whether there is EDNS with DO. The
 * size limit is not part of it: each entry keeps every variant.
 */
export function cacheKey(q: Query): string {
  const edns = q.edns ? (q.edns.dnssecOk ? 2 : 1) : 0;
  return `${q.name}\u0000${q.qtype}\u0000${q.qclass}\u0000${edns}`;
}
