import type { Logger } from 'pino';

// Long enough to coalesce a burst of watch events, short next to a leader handover.
const DEBOUNCE_MS = 50;
const RETRY_MS = 2000;

/**
 * Runs a reconcile after a burst of changes has settled, never two at once; a
 * change during a run schedules one more. A failed run is logged and retried.
 */
export class Debouncer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly log: Logger,
    private readonly what = 'configuring the tunnels',
  ) {}

  schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
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
    }, DEBOUNCE_MS);
  }

  /** Waits for a run in progress; nothing runs after. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
