import { V1MicroTime, type V1LeaseSpec } from '@kubernetes/client-node';
import type { Lease } from '../objects/coordination.js';

/**
 * The part of a Lease's spec leader election reads and writes. Times are kept
 * as the apiserver prints them (RFC 3339 with microseconds) because they are
 * only ever compared for change, never against our clock.
 */
export interface LeaseRecord {
  /** Empty when nobody holds the Lease (never held, or released). */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string | undefined;
  renewTime: string | undefined;
  leaseTransitions: number;
}

/** The last Lease record we saw, and when it first appeared, by our own monotonic clock. */
export interface LeaseObservation {
  record: LeaseRecord;
  observedAtMs: number;
}

export interface LeaseDecisionInput {
  /** The Lease as just read; undefined when it does not exist. */
  lease: LeaseRecord | undefined;
  /** What we remembered from the previous round (or wrote ourselves). */
  previous: LeaseObservation | undefined;
  identity: string;
  /** Whether we currently act as leader. */
  leading: boolean;
  /** Local monotonic clock: the only clock expiry is judged by. */
  nowMs: number;
  /** Wall clock, written into acquireTime/renewTime for humans and other tools. */
  wallTime: Date;
  /** Our configured lease duration, in the whole seconds a Lease stores. */
  leaseDurationSeconds: number;
}

export type AcquireReason = 'expired' | 'released' | 'ours';

export type LeaseDecision =
  /** No Lease exists: create it naming us. */
  | { action: 'create'; record: LeaseRecord }
  /** Take the Lease: its holder's term ran out, it was released, or it names us while we are not leading. */
  | { action: 'acquire'; reason: AcquireReason; record: LeaseRecord; observed: LeaseObservation }
  /** We lead and the Lease names us: extend it. */
  | { action: 'renew'; record: LeaseRecord; observed: LeaseObservation }
  /** Someone else holds a Lease that has not expired by our observation. */
  | { action: 'follow'; holder: string; expiresInMs: number; observed: LeaseObservation };

/** Formats a wall-clock time the way the apiserver stores a MicroTime. */
export function microTime(wall: Date): string {
  return new V1MicroTime(wall.getTime()).toISOString();
}

/** What leader election reads of a Lease's spec, with the API's defaults for what it leaves out. */
export function leaseRecordOf(spec: Lease['spec']): LeaseRecord {
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: spec.acquireTime,
    renewTime: spec.renewTime,
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

/** The Lease spec that stores `record`, leaving fields we do not own (strategy, preferredHolder) to the caller. */
export function leaseSpecOf(record: LeaseRecord): V1LeaseSpec {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaseTransitions,
    ...(record.acquireTime === undefined ? {} : { acquireTime: new StoredMicroTime(record.acquireTime) }),
    ...(record.renewTime === undefined ? {} : { renewTime: new StoredMicroTime(record.renewTime) }),
  };
}

export function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/**
 * Keeps the time we first saw a record for as long as the record stays the
 * same. A holder proves it is alive only by changing the record, so the
 * remote timestamps, written by another node's clock, are never trusted.
 */
export function observeLease(previous: LeaseObservation | undefined, lease: LeaseRecord, nowMs: number): LeaseObservation {
  return previous && sameRecord(previous.record, lease) ? previous : { record: lease, observedAtMs: nowMs };
}

/** Milliseconds until the observed record expires by our clock; zero or less once expired. */
export function msUntilExpiry(observed: LeaseObservation, nowMs: number): number {
  return observed.observedAtMs + observed.record.leaseDurationSeconds * 1000 - nowMs;
}

/** One round of client-go's tryAcquireOrRenew, as a decision about what to write. */
export function decideLease(input: LeaseDecisionInput): LeaseDecision {
  const { lease, identity, wallTime, leaseDurationSeconds } = input;
  const now = microTime(wallTime);
  if (!lease) {
    return {
      action: 'create',
      record: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
    };
  }
  const observed = observeLease(input.previous, lease, input.nowMs);
  if (lease.holderIdentity === identity) {
    // Same holder, same term: acquireTime and the transition count stay.
    const record = { ...lease, leaseDurationSeconds, renewTime: now };
    return input.leading ? { action: 'renew', record, observed } : { action: 'acquire', reason: 'ours', record, observed };
  }
  const takeOver = (reason: AcquireReason): LeaseDecision => ({
    action: 'acquire',
    reason,
    record: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: lease.leaseTransitions + 1 },
    observed,
  });
  if (lease.holderIdentity === '') return takeOver('released');
  const expiresInMs = msUntilExpiry(observed, input.nowMs);
  if (expiresInMs <= 0) return takeOver('expired');
  return { action: 'follow', holder: lease.holderIdentity, expiresInMs, observed };
}

/** The record a stopping leader writes so that followers take over at their next retry. */
export function releasedRecord(lease: LeaseRecord, wallTime: Date): LeaseRecord {
  const now = microTime(wallTime);
  // One second rather than zero, as client-go writes it, so a reader that ignores
  // an empty holder still sees the Lease expire almost at once.
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.leaseTransitions };
}

/**
 * Serialises to exactly the text it was read as: a JavaScript Date holds only
 * milliseconds, and a round trip must not alter the microseconds another
 * client wrote.
 */
class StoredMicroTime extends V1MicroTime {
  constructor(private readonly text: string) {
    super(text);
  }

  override toISOString(): string {
    return this.text;
  }
}
