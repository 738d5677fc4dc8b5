import type { Logger } from 'pino';

// Long enough to coalesce a burst of watch events, short next to a leader handover.
const DEBOUNCE_MS = 50;
const RETRY_MS = 2000;
/** A steady stream of changes must not hold the work off for ever. */
const MAX_WAIT_MS = 1000;

/**
 * Runs a reconcile after a burst of changes has settled (or at the latest a
 * second after the first of them), never two at once; a change during a run
 * schedules one more. A failed run is logged and retried.
 */
export class Debouncer {
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** When the oldest change not yet worked on arrived. */
  private pendingSince: number | undefined;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly log: Logger,
    private readonly what = 'configuring the tunnels',
    /** How long changes must settle first; longer for work that costs more than a burst of events. */
    private readonly settleMs = DEBOUNCE_MS,
  ) {}

  schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const now = Date.now();
    this.pendingSince ??= now;
    const delay = Math.min(this.settleMs, Math.max(0, this.pendingSince + MAX_WAIT_MS - now));
    this.timer = setTimeout(() => {
      this.pendingSince = undefined;
      if (this.running) {
        this.again = true;
        return;
      }
      this.running = this.work()
        .catch((err: unknown) => {
          this.log.error({ err: (err as Error).message }, `${this.what} failed; retrying`);
          setTimeout(() => this.schedule(), RETRY_MS).unref();
        })
        .finally(() => {
          this.running = undefined;
          if (this.again) {
            this.again = false;
            this.schedule();
          }
        });
    }, delay);
  }

  /** Runs again in `ms` at the latest: when the first object that failed on its own falls due for a retry. */
  retryIn(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.schedule(), ms);
    this.retryTimer.unref();
  }

  /** Waits for a run in progress; nothing runs after. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    await this.running;
  }
}
