import type { Logger } from 'pino';

/**
 * At most one warning per kind per interval, saying how many were held
 * back: a flood of garbage must not turn into a flood of log lines.
 */
export class RateLimitedLog {
  private readonly kinds = new Map<string, { loggedAt: number; held: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    const at = this.now();
    const state = this.kinds.get(kind);
    if (state && at - state.loggedAt < this.intervalMs) {
      state.held += 1;
      return;
    }
    this.log.warn({ ...fields, ...(state?.held ? { heldBack: state.held } : {}) }, message);
    this.kinds.set(kind, { loggedAt: at, held: 0 });
  }
}
