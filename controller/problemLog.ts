import type { Logger } from 'pino';

/** Something wrong with one object, the same text each time it is found. */
export interface Problem {
  /** `namespace/name` of the object, the log line's `service` field. */
  service: string;
  message: string;
}

/**
 * Logs each problem once while it lasts, and again if it comes back: a
 * reconcile that runs on every change would otherwise repeat it each time.
 */
export class ProblemLog {
  private logged = new Set<string>();

  constructor(private readonly log: Pick<Logger, 'warn'>) {}

  /** The problems found now, all of them: those not found any more are forgotten. */
  report(problems: Iterable<Problem>): void {
    const now = new Set<string>();
    for (const p of problems) {
      const key = `${p.service}\u0000${p.message}`;
      now.add(key);
      if (!this.logged.has(key)) this.log.warn({ service: p.service }, p.message);
    }
    this.logged = now;
  }
}
