import type { Rcode } from './answer.js';

/** Every variant of one encoded response (largest first), and its RCODE. */
export interface CachedResponse {
  variants: readonly Buffer[];
  rcode: Rcode;
}

/**
 * Encoded responses by question (`Query.key`: canonical name, type, class,
 * EDNS and DO; not the size limit, as each entry keeps every variant), so a
 * repeated question costs a map lookup and a copy. Replaced whole when the index changes; when full, the oldest
 * entry goes (a flood of random names cannot grow it).
 */
export class ResponseCache {
  private readonly entries = new Map<string, CachedResponse>();

  constructor(private readonly maxEntries: number) {}

  get(key: string): CachedResponse | undefined {
    return this.entries.get(key);
  }

  set(key: string, response: CachedResponse): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, response);
  }

  get size(): number {
    return this.entries.size;
  }
}
