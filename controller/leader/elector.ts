import { performance } from 'node:perf_hooks';
import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { leaseDurationSeconds, validateLeaderElectionConfig, type LeaderElectionConfig } from './config.js';
import { LeaderElectionError } from './errors.js';
import { LeaseClient, type LeaseApi } from './leaseClient.js';
import { decideLease, leaseRecordOf, releasedRecord, type LeaseObservation } from './leaseDecision.js';
import { decodeObject } from '../objects/decode.js';
import { LeaseKind } from '../objects/coordination.js';

/** The Lease as read (kept whole for the next write), as election reads it. */
const recordOf = (lease: V1Lease) => leaseRecordOf(decodeObject(LeaseKind, lease).spec);

export { DEFAULT_LEADER_TIMINGS, type LeaderElectionConfig, type LeaderTimings } from './config.js';

export interface LeaderCallbacks {
  /** We now hold the Lease; start the leader-only work. */
  onStartedLeading(): void;
  /** We no longer hold the Lease (lost, not renewed in time, or stopping); stop the leader-only work now. */
  onStoppedLeading(): void;
  /** The Lease names a different holder than before (ourselves included). */
  onNewLeader?(identity: string): void;
}

/** client-go's JitterFactor: candidates retry at random points in [retry, 2.2 × retry] so they do not collide. */
/**
 * Node timers fire up to a few ms late (integer ms, cached loop time): the
 * renew-deadline timer is set this much early so stepping down never runs
 * past renewDeadline. Stepping down early is always safe.
 */
const TIMER_SLACK_MS = 10;
const ACQUIRE_JITTER = 1.2;
/** A nudged follower still waits a random moment, so candidates that all saw the release do not write at once. */
const NUDGE_JITTER_MS = 50;

/**
 * Lease-based leader election with client-go's semantics: expiry is judged by
 * when we last saw the Lease change on our own clock, writes use the Lease's
 * resourceVersion, and a leader that cannot renew within renewDeadline steps
 * down before any follower may consider the Lease expired.
 */
export class LeaderElector {
  private readonly config: LeaderElectionConfig;
  private readonly lease: LeaseClient;
  private readonly log: Logger;
  private readonly durationSeconds: number;
  /** Aborted by stop(): cancels whatever request the loop is waiting on. */
  private readonly stopSignal = new AbortController();
  private state: 'new' | 'running' | 'stopped' = 'new';
  private leading = false;
  private observed: LeaseObservation | undefined;
  private currentLeader: string | undefined;
  private roundTimer: NodeJS.Timeout | undefined;
  private renewDeadlineTimer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private nudged = false;
  /** When our view of the Lease last came from a successful read (monotonic ms). */
  private lastReadMs: number | undefined;
  /** Set when a round fails: the start of a stretch in which we could not read the Lease. */
  private blindSinceMs: number | undefined;

  constructor(
    api: LeaseApi,
    config: LeaderElectionConfig,
    private readonly callbacks: LeaderCallbacks,
    log: Logger,
  ) {
    validateLeaderElectionConfig(config);
    this.config = { ...config };
    this.lease = new LeaseClient(api, config.namespace, config.leaseName);
    this.durationSeconds = leaseDurationSeconds(config.leaseDurationMs);
    this.log = log.child({ lease: `${config.namespace}/${config.leaseName}`, identity: config.identity });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** The holder named by the Lease as last seen; undefined when nobody holds it. */
  get leader(): string | undefined {
    return this.currentLeader;
  }

  start(): void {
    if (this.state !== 'new') {
      throw new LeaderElectionError('ALREADY_STARTED', `leader elector ${this.config.identity} was already started; create a new LeaderElector to run again`);
    }
    this.state = 'running';
    this.log.info('starting leader election');
    this.scheduleRound(0);
  }

  /**
   * The Lease was seen released (or deleted): a follower tries to take it at
   * once instead of at its next retry, up to 2.2 retry periods away. That is
   * what makes a graceful leader move quick; the write still goes through the
   * Lease's resourceVersion, so racing candidates cannot both win.
   */
  nudge(): void {
    if (this.state !== 'running' || this.leading) return;
    if (this.round) {
      this.nudged = true;
      return;
    }
    clearTimeout(this.roundTimer);
    this.scheduleRound(Math.random() * NUDGE_JITTER_MS);
  }

  /** Stops the loop; a leader first stops acting (onStoppedLeading), then releases the Lease. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    clearTimeout(this.roundTimer);
    this.stopSignal.abort(new Error('leader elector stopped'));
    await this.round;
    this.stepDown('elector stopping', 'info');
    if (wasRunning) await this.release();
    this.log.info('leader election stopped');
  }

  private scheduleRound(delayMs: number): void {
    this.roundTimer = setTimeout(() => {
      this.roundTimer = undefined;
      this.round = this.withDeadline(this.stopSignal.signal, (signal) => this.tryAcquireOrRenew(signal))
        .catch((err: unknown) => {
          this.blindSinceMs ??= this.lastReadMs ?? performance.now();
          if (this.state === 'running') this.log.warn({ err }, 'leader election round failed; retrying');
        })
        .finally(() => {
          this.round = undefined;
          if (this.state === 'running') this.scheduleRound(this.nextDelayMs());
        });
    }, delayMs);
  }

  private nextDelayMs(): number {
    const retry = this.config.retryPeriodMs;
    if (this.nudged) {
      this.nudged = false;
      if (!this.leading) return Math.random() * NUDGE_JITTER_MS;
    }
    return this.leading ? retry : retry + Math.random() * ACQUIRE_JITTER * retry;
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<void> {
    // Measured before the read: followers cannot have seen our write before we sent it,
    // so counting the renew deadline from here keeps us on the safe side.
    const sentAtMs = performance.now();
    const current = await this.lease.read(signal);
    this.afterRead();
    const decision = decideLease({
      lease: current ? recordOf(current) : undefined,
      previous: this.observed,
      identity: this.config.identity,
      leading: this.leading,
      nowMs: performance.now(),
      wallTime: new Date(),
      leaseDurationSeconds: this.durationSeconds,
    });
    if (decision.action !== 'create') this.observed = decision.observed;
    if (decision.action === 'follow') {
      // Stop first: whoever reacts to the new leader can rely on us no longer leading.
      this.stepDown(`lease is held by ${decision.holder}`);
      this.noteLeader(decision.holder);
      this.log.debug({ holder: decision.holder, expiresInMs: decision.expiresInMs }, 'following');
      return;
    }
    const outcome = current ? await this.lease.replace(current, decision.record, signal) : await this.lease.create(decision.record, signal);
    if (outcome === 'conflict') {
      this.log.debug({ action: decision.action }, 'lease changed under us; another candidate won this round');
      return;
    }
    this.observed = { record: decision.record, observedAtMs: performance.now() };
    if (decision.action !== 'renew') {
      this.log.info({ action: decision.action, reason: decision.action === 'acquire' ? decision.reason : undefined }, 'lease acquired');
    }
    this.noteLeader(this.config.identity);
    this.renewed(sentAtMs);
  }

  /**
   * After we could not read the Lease for longer than renewDeadline, the holder
   * most likely could not renew it either: the apiserver was gone for everyone.
   * Forgetting what we observed restarts our clock, so a leader that was only cut
   * off gets a whole term to renew once the apiserver is back, instead of being
   * deposed by followers whose clocks ran through the outage. This only ever
   * delays a takeover, so it cannot make two leaders.
   */
  private afterRead(): void {
    const now = performance.now();
    if (this.blindSinceMs !== undefined && now - this.blindSinceMs > this.config.renewDeadlineMs && !this.leading) {
      this.log.info({ blindForMs: Math.round(now - this.blindSinceMs) }, 'the Lease was unreadable for longer than renewDeadline; giving its holder a fresh term');
      this.observed = undefined;
    }
    this.blindSinceMs = undefined;
    this.lastReadMs = now;
  }

  private renewed(sentAtMs: number): void {
    // A write that lands while stopping is undone by the release.
    if (this.state !== 'running') return;
    const remainingMs = sentAtMs + this.config.renewDeadlineMs - performance.now();
    if (remainingMs <= 0) {
      // The write landed, but too late to be sure no follower has given up on us.
      this.stepDown('lease write completed after the renew deadline');
      return;
    }
    clearTimeout(this.renewDeadlineTimer);
    this.renewDeadlineTimer = setTimeout(() => {
      this.renewDeadlineTimer = undefined;
      this.stepDown(`lease not renewed within renewDeadline (${this.config.renewDeadlineMs} ms)`);
    }, Math.max(0, remainingMs - TIMER_SLACK_MS));
    if (this.leading) return;
    this.leading = true;
    this.log.info('started leading');
    this.invoke('onStartedLeading', () => this.callbacks.onStartedLeading());
  }

  private stepDown(reason: string, level: 'info' | 'warn' = 'warn'): void {
    clearTimeout(this.renewDeadlineTimer);
    this.renewDeadlineTimer = undefined;
    if (!this.leading) return;
    this.leading = false;
    this.log[level]({ reason }, 'stopped leading');
    this.invoke('onStoppedLeading', () => this.callbacks.onStoppedLeading());
  }

  private noteLeader(holder: string): void {
    const leader = holder === '' ? undefined : holder;
    if (leader === this.currentLeader) return;
    this.currentLeader = leader;
    if (leader === undefined) return;
    this.log.info({ leader }, 'new leader observed');
    this.invoke('onNewLeader', () => this.callbacks.onNewLeader?.(leader));
  }

  /** Hands the Lease over at once: empty holder, as client-go's ReleaseOnCancel writes it. */
  private async release(): Promise<void> {
    try {
      // The loop's signal is aborted by now, so the release runs under a deadline of its own.
      await this.withDeadline(undefined, async (signal) => {
        const current = await this.lease.read(signal);
        const record = current ? recordOf(current) : undefined;
        if (!current || record?.holderIdentity !== this.config.identity) return;
        const outcome = await this.lease.replace(current, releasedRecord(record, new Date()), signal);
        if (outcome === 'conflict') {
          this.log.warn('lease changed while releasing it; leaving it to expire');
          return;
        }
        this.currentLeader = undefined;
        this.log.info('lease released');
      });
    } catch (err) {
      this.log.error({ err }, 'could not release the lease; followers take over once it expires');
    }
  }

  /**
   * Runs `work` with a signal that aborts after renewDeadline (and with `parent`):
   * a round that takes longer is worthless to a leader anyway. The timer is ours
   * rather than AbortSignal.timeout's so that it is cleared as soon as the work ends.
   */
  private async withDeadline<T>(parent: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = new AbortController();
    const timer = setTimeout(() => {
      deadline.abort(new Error(`lease request took longer than renewDeadline (${this.config.renewDeadlineMs} ms)`));
    }, this.config.renewDeadlineMs);
    try {
      return await work(parent ? AbortSignal.any([parent, deadline.signal]) : deadline.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A throwing callback is the caller's bug; it must not break the election loop. */
  private invoke(name: keyof LeaderCallbacks, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.log.error({ err, callback: name }, 'leader election callback threw');
    }
  }
}
