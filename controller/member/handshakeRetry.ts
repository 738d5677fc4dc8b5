/** After how long without a handshake a newly dialled peer is dialled again, attempt by attempt. */
export const HANDSHAKE_RETRY_MS = [1000, 2000, 4000] as const;

interface Pending {
  since: number;
  attempts: number;
  nextAt: number;
}

/**
 * Which newly configured peers to dial again. WireGuard retries a lost
 * handshake initiation only after 5 s, and the first one is often lost when a
 * gateway moves: the NodePort in front of the new one, or its device, is not
 * ready for a moment. A peer that has not handshaken within 1 s is re-created,
 * which initiates again at once; after the last attempt WireGuard's own
 * retries take over. Pure: time and handshakes are passed in.
 */
export class HandshakeRetry {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly delaysMs: readonly number[] = HANDSHAKE_RETRY_MS) {}

  /** Peers just configured (new, or re-created): wait for a handshake from `now` on (to the second: `wg show` has no finer). */
  expect(keys: Iterable<string>, now: number): void {
    const since = Math.floor(now / 1000) * 1000;
    for (const key of keys) this.pending.set(key, { since, attempts: 0, nextAt: now + (this.delaysMs[0] ?? 0) });
  }

  get waiting(): boolean {
    return this.pending.size > 0;
  }

  /** Keys to re-create now; peers no longer dialled, or that handshook, are dropped. */
  due(dialled: ReadonlySet<string>, lastHandshake: (key: string) => number | undefined, now: number): string[] {
    const again: string[] = [];
    for (const [key, p] of this.pending) {
      if (!dialled.has(key) || (lastHandshake(key) ?? -Infinity) >= p.since) {
        this.pending.delete(key);
        continue;
      }
      if (now < p.nextAt) continue;
      again.push(key);
      p.attempts += 1;
      const delay = this.delaysMs[p.attempts];
      if (delay === undefined) this.pending.delete(key);
      else p.nextAt = now + delay;
    }
    return again;
  }
}
