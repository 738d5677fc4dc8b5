import type { Logger } from 'pino';
import { buildIndex, type IndexInput, type IndexOptions } from './zoneIndex.js';
import type { Responder } from './responder.js';
import { ProblemLog } from '../problemLog.js';

/**
 * Rebuilds the index from each new input and hands it to the responder.
 * Each problem is logged once while it lasts (again if it comes back).
 */
export class IndexFeed {
  private serial = 0;
  private readonly problems: ProblemLog;

  constructor(
    private readonly opts: Omit<IndexOptions, 'serial'>,
    private readonly responder: Pick<Responder, 'setIndex'>,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.problems = new ProblemLog(log);
  }

  update(input: IndexInput): void {
    // Seconds since the epoch, but always increasing, so a secondary (if anyone ever runs one) sees every change.
    this.serial = Math.max(this.serial + 1, Math.floor(this.now() / 1000)) >>> 0;
    let built;
    try {
      built = buildIndex(input, { ...this.opts, serial: this.serial });
    } catch (err) {
      // A bug, not an object (buildIndex isolates those): keep answering from the last index.
      this.log.error({ err: (err as Error).message }, 'cannot rebuild the DNS index; still answering from the previous one');
      return;
    }
    const { index, problems } = built;
    this.problems.report(problems);
    this.responder.setIndex(index);
    this.log.debug({ services: input.imports.length, slices: input.slices.length, names: index.names.size }, 'DNS index rebuilt');
  }
}
