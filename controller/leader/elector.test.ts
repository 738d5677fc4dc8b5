import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import {
  ApiException,
  type CoordinationV1ApiCreateNamespacedLeaseRequest,
  type CoordinationV1ApiReplaceNamespacedLeaseRequest,
  type V1Lease,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { waitFor } from '../../test/harness/wait.js';
import { LeaderElector, type LeaderCallbacks, type LeaderElectionConfig } from './elector.js';
import { LeaderElectionError } from './errors.js';
import type { LeaseApi } from './leaseClient.js';
import { leaseRecordOf, type LeaseRecord } from './leaseDecision.js';
import { LeaseKind } from '../objects/coordination.js';
import { decodeObject } from '../objects/decode.js';

const silent = pino({ level: 'silent' });
const timings = { leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 100 };
const config = (identity: string): LeaderElectionConfig => ({ namespace: 'ns', leaseName: 'cnf', identity, ...timings });

/** An in-memory apiserver for one Lease: 404, 409 on a stale resourceVersion, and injectable outages. */
class FakeLeases implements LeaseApi {
  stored: V1Lease | undefined;
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  /** Every successful write: who, and when (monotonic ms). */
  readonly writes: { holder: string; atMs: number }[] = [];
  private version = 0;

  readNamespacedLease(): Promise<V1Lease> {
    return this.serve(() => {
      if (!this.stored) throw new ApiException(404, 'not found', {}, {});
      return this.stored;
    });
  }

  createNamespacedLease(p: CoordinationV1ApiCreateNamespacedLeaseRequest): Promise<V1Lease> {
    return this.serve(() => {
      if (this.stored) throw new ApiException(409, 'already exists', {}, {});
      return this.store(p.body);
    });
  }

  replaceNamespacedLease(p: CoordinationV1ApiReplaceNamespacedLeaseRequest): Promise<V1Lease> {
    return this.serve(() => {
      if (!this.stored) throw new ApiException(404, 'not found', {}, {});
      if (p.body.metadata?.resourceVersion !== this.stored.metadata?.resourceVersion) throw new ApiException(409, 'conflict', {}, {});
      return this.store(p.body);
    });
  }

  holder(): string | undefined {
    return this.stored?.spec?.holderIdentity;
  }

  /** The stored Lease as leader election reads it. */
  record(): LeaseRecord {
    return leaseRecordOf(decodeObject(LeaseKind, this.stored).spec);
  }

  private store(body: V1Lease): V1Lease {
    // A JSON round trip, as over the wire: times come back as strings.
    const lease = JSON.parse(JSON.stringify(body)) as V1Lease;
    (lease.metadata ??= {}).resourceVersion = String(++this.version);
    this.stored = lease;
    this.writes.push({ holder: lease.spec?.holderIdentity ?? '', atMs: performance.now() });
    return lease;
  }

  private async serve(handle: () => V1Lease): Promise<V1Lease> {
    await Promise.resolve();
    if (this.mode === 'hang') return new Promise<V1Lease>(() => undefined);
    if (this.mode === 'fail') throw new ApiException(503, 'unavailable', {}, {});
    return JSON.parse(JSON.stringify(handle())) as V1Lease;
  }
}

interface Recorded {
  callbacks: LeaderCallbacks;
  events: string[];
}

function recorder(log: string[] = []): Recorded {
  return {
    events: log,
    callbacks: {
      onStartedLeading: () => log.push('started'),
      onStoppedLeading: () => log.push('stopped'),
      onNewLeader: (id) => log.push(`leader:${id}`),
    },
  };
}

function startElector(t: { after(fn: () => Promise<void>): void }, api: LeaseApi, identity: string, callbacks: LeaderCallbacks): LeaderElector {
  const elector = new LeaderElector(api, config(identity), callbacks, silent);
  t.after(() => elector.stop());
  elector.start();
  return elector;
}

const leads = (e: LeaderElector) => () => Promise.resolve(e.isLeader ? true : undefined);

test('invalid config fails in the constructor; start() twice fails with ALREADY_STARTED', async () => {
  const api = new FakeLeases();
  assert.throws(
    () => new LeaderElector(api, { ...config('a'), retryPeriodMs: 500 }, recorder().callbacks, silent),
    (err: unknown) => err instanceof LeaderElectionError && err.code === 'INVALID_CONFIG',
  );
  const elector = new LeaderElector(api, config('a'), recorder().callbacks, silent);
  elector.start();
  assert.throws(
    () => elector.start(),
    (err: unknown) => err instanceof LeaderElectionError && err.code === 'ALREADY_STARTED',
  );
  await elector.stop();
});

test('a lone candidate creates the Lease and leads; stop() stops acting first, then releases', async (t) => {
  const api = new FakeLeases();
  const { callbacks, events } = recorder();
  const elector = startElector(t, api, 'a', callbacks);
  await waitFor(leads(elector), { what: 'a to lead', timeoutMs: 2000, intervalMs: 10 });
  assert.equal(elector.leader, 'a');
  assert.deepEqual(events, ['leader:a', 'started']);
  await waitFor(() => Promise.resolve(api.writes.length >= 3 ? true : undefined), { what: 'renewals', timeoutMs: 2000, intervalMs: 10 });

  const writesBeforeStop = api.writes.length;
  let holderWhenStopped: string | undefined;
  callbacks.onStoppedLeading = () => {
    holderWhenStopped = api.holder();
    events.push('stopped');
  };
  await elector.stop();
  assert.equal(holderWhenStopped, 'a', 'onStoppedLeading ran while the Lease still named us');
  const released = api.record();
  assert.equal(released.holderIdentity, '');
  assert.equal(released.leaseDurationSeconds, 1);
  assert.equal(released.leaseTransitions, 0);
  assert.equal(elector.isLeader, false);
  assert.equal(elector.leader, undefined);
  assert.equal(api.writes.length, writesBeforeStop + 1, 'exactly one write (the release) after stop()');
  assert.deepEqual(events, ['leader:a', 'started', 'stopped']);
});

test('a leader whose renewals fail steps down within renewDeadline, before the Lease could expire for others', async (t) => {
  const api = new FakeLeases();
  const { callbacks, events } = recorder();
  let stoppedAtMs = 0;
  callbacks.onStoppedLeading = () => {
    stoppedAtMs = performance.now();
    events.push('stopped');
  };
  const elector = startElector(t, api, 'a', callbacks);
  await waitFor(leads(elector), { what: 'a to lead', timeoutMs: 2000, intervalMs: 10 });
  api.mode = 'fail';
  await waitFor(() => Promise.resolve(elector.isLeader ? undefined : true), { what: 'a to step down', timeoutMs: 2000, intervalMs: 10 });
  const lastRenewal = api.writes.at(-1)?.atMs ?? 0;
  const heldForMs = stoppedAtMs - lastRenewal;
  assert.ok(heldForMs <= timings.renewDeadlineMs, `stepped down ${heldForMs.toFixed(0)} ms after the last renewal`);
  assert.deepEqual(events, ['leader:a', 'started', 'stopped']);

  // Once the API answers again the Lease still names us, so we lead again at once.
  api.mode = 'ok';
  await waitFor(leads(elector), { what: 'a to lead again', timeoutMs: 2000, intervalMs: 10 });
  assert.equal(api.record().leaseTransitions, 0);
});

test('hanging requests: the leader still steps down on time, and stop() returns within renewDeadline', async (t) => {
  const api = new FakeLeases();
  const { callbacks } = recorder();
  const elector = startElector(t, api, 'a', callbacks);
  await waitFor(leads(elector), { what: 'a to lead', timeoutMs: 2000, intervalMs: 10 });
  api.mode = 'hang';
  const hungAt = performance.now();
  await waitFor(() => Promise.resolve(elector.isLeader ? undefined : true), { what: 'a to step down', timeoutMs: 2000, intervalMs: 10 });
  assert.ok(performance.now() - hungAt <= timings.renewDeadlineMs + 100);
  const stopAt = performance.now();
  await elector.stop();
  const stopMs = performance.now() - stopAt;
  assert.ok(stopMs <= timings.renewDeadlineMs + 100, `stop() took ${stopMs.toFixed(0)} ms`);
});

test('two candidates: one wins the create race, the other follows it and takes over once it stops', async (t) => {
  const api = new FakeLeases();
  const shared: string[] = [];
  const a = startElector(t, api, 'a', recorder(shared).callbacks);
  const b = startElector(t, api, 'b', recorder(shared).callbacks);
  const first = await waitFor(() => Promise.resolve(a.isLeader !== b.isLeader ? (a.isLeader ? a : b) : undefined), {
    what: 'one leader',
    timeoutMs: 2000,
    intervalMs: 5,
  });
  const second = first === a ? b : a;
  await waitFor(() => Promise.resolve(second.leader === first.leader ? true : undefined), { what: 'follower to see the leader', timeoutMs: 2000 });
  assert.equal(shared.filter((e) => e === 'started').length, 1);

  await first.stop();
  await waitFor(leads(second), { what: 'the other candidate to take over', timeoutMs: 2000, intervalMs: 10 });
  assert.equal(api.record().leaseTransitions, 1);
});

test('a follower nudged when the Lease is released takes over at once, not at its next retry', async (t) => {
  const api = new FakeLeases();
  // Retries 2 to 4.4 s apart: only the nudge can make the takeover quick.
  const slow = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
  const start = (identity: string) => {
    const elector = new LeaderElector(api, { ...config(identity), ...slow }, recorder().callbacks, silent);
    t.after(() => elector.stop());
    elector.start();
    return elector;
  };
  const a = start('a');
  await waitFor(leads(a), { what: 'a to lead', timeoutMs: 2000, intervalMs: 10 });
  const b = start('b');
  await waitFor(() => Promise.resolve(b.leader === 'a' ? true : undefined), { what: 'b to follow a', timeoutMs: 2000, intervalMs: 10 });
  await a.stop();
  const releasedAt = performance.now();
  b.nudge();
  await waitFor(leads(b), { what: 'b to take over', timeoutMs: 1000, intervalMs: 5 });
  assert.ok(performance.now() - releasedAt < slow.retryPeriodMs, 'sooner than any retry could have');
  a.nudge(); // a stopped elector ignores it
  b.nudge(); // so does a leader
  assert.equal(b.isLeader, true);
});

test('a callback that throws is logged and does not break the loop', async (t) => {
  const api = new FakeLeases();
  const elector = startElector(t, api, 'a', {
    onStartedLeading: () => {
      throw new Error('boom');
    },
    onStoppedLeading: () => undefined,
  });
  await waitFor(leads(elector), { what: 'a to lead', timeoutMs: 2000, intervalMs: 10 });
  const writes = api.writes.length;
  await waitFor(() => Promise.resolve(api.writes.length >= writes + 2 ? true : undefined), { what: 'renewals to continue', timeoutMs: 2000 });
  assert.equal(elector.isLeader, true);
});

test('an apiserver outage longer than the Lease: the leader that was cut off keeps the Lease afterwards, the follower does not depose it', async (t) => {
  const api = new FakeLeases();
  const shared: string[] = [];
  const a = startElector(t, api, 'a', recorder(shared).callbacks);
  await waitFor(leads(a), { what: 'a to lead', timeoutMs: 2000, intervalMs: 10 });
  const b = startElector(t, api, 'b', recorder(shared).callbacks);
  await waitFor(() => Promise.resolve(b.leader === 'a' ? true : undefined), { what: 'b to follow a', timeoutMs: 2000, intervalMs: 10 });
  api.mode = 'fail';
  await waitFor(() => Promise.resolve(a.isLeader ? undefined : true), { what: 'a to step down', timeoutMs: 2000, intervalMs: 10 });
  // Longer than the whole Lease: by b's clock alone, a's term ran out during the outage.
  const outageEnds = performance.now() + timings.leaseDurationMs * 2;
  await waitFor(() => Promise.resolve(performance.now() >= outageEnds ? true : undefined), { what: 'the outage to last', timeoutMs: 5000, intervalMs: 20 });
  api.mode = 'ok';
  await waitFor(leads(a), { what: 'a to lead again', timeoutMs: 2000, intervalMs: 10 });
  // b keeps following for at least another whole Lease while a renews it.
  const watchUntil = performance.now() + timings.leaseDurationMs * 2;
  await waitFor(() => Promise.resolve(b.isLeader || performance.now() >= watchUntil ? true : undefined), { what: 'a stretch of renewals', timeoutMs: 5000, intervalMs: 10 });
  assert.equal(b.isLeader, false, 'b never took the Lease');
  assert.equal(api.holder(), 'a');
  assert.equal(api.record().leaseTransitions, 0);
  assert.deepEqual(shared.filter((e) => e === 'started').length, 2, 'a started leading twice: before and after the outage');
});
