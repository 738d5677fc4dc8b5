import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V1MicroTime } from '@kubernetes/client-node';
import {
  decideLease,
  leaseRecordOf,
  leaseSpecOf,
  microTime,
  observeLease,
  releasedRecord,
  type LeaseDecisionInput,
  type LeaseRecord,
} from './leaseDecision.js';
import { LeaseKind } from '../objects/coordination.js';
import { decodeObject } from '../objects/decode.js';

const wallTime = new Date('2030-01-02T03:04:05.678Z');
const now = '2030-01-02T03:04:05.678000Z';

function held(holderIdentity: string, renewTime = '2030-01-02T03:04:00.000000Z'): LeaseRecord {
  return { holderIdentity, leaseDurationSeconds: 15, acquireTime: '2030-01-02T03:00:00.123456Z', renewTime, leaseTransitions: 4 };
}

function input(overrides: Partial<LeaseDecisionInput>): LeaseDecisionInput {
  return { lease: undefined, previous: undefined, identity: 'me', leading: false, nowMs: 100_000, wallTime, leaseDurationSeconds: 15, ...overrides };
}

test('no Lease: create one naming us, with no transitions yet', () => {
  assert.deepEqual(decideLease(input({})), {
    action: 'create',
    record: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 0 },
  });
});

test('leading and the Lease names us: renew keeps acquireTime and the transition count', () => {
  const d = decideLease(input({ lease: held('me'), leading: true }));
  assert.equal(d.action, 'renew');
  assert.deepEqual(d.record, { ...held('me'), renewTime: now });
});

test('the Lease names us but we are not leading (restart): acquire without counting a transition', () => {
  const d = decideLease(input({ lease: held('me'), leading: false }));
  assert.equal(d.action, 'acquire');
  assert.equal(d.reason, 'ours');
  assert.equal(d.record.leaseTransitions, 4);
  assert.equal(d.record.acquireTime, held('me').acquireTime);
});

test('a released Lease (empty holder) is taken at once, counting a transition', () => {
  const released = releasedRecord(held('other'), wallTime);
  assert.deepEqual(released, { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: 4 });
  const previous = { record: released, observedAtMs: 100_000 };
  const d = decideLease(input({ lease: released, previous }));
  assert.equal(d.action, 'acquire');
  assert.equal(d.reason, 'released');
  assert.deepEqual(d.record, { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 5 });
});

test('first sight of a Lease held by another: follow for a full lease duration, however old its renewTime', () => {
  // The holder's clock may be far behind ours; only a change we saw ourselves counts.
  const lease = held('other', '2001-01-01T00:00:00.000000Z');
  const d = decideLease(input({ lease, nowMs: 100_000 }));
  assert.equal(d.action, 'follow');
  assert.equal(d.holder, 'other');
  assert.equal(d.expiresInMs, 15_000);
  assert.deepEqual(d.observed, { record: lease, observedAtMs: 100_000 });
});

test('a Lease unchanged for leaseDuration by our clock expires, even if its renewTime lies in our future', () => {
  const lease = held('other', '2099-01-01T00:00:00.000000Z');
  const previous = { record: lease, observedAtMs: 100_000 };
  const before = decideLease(input({ lease, previous, nowMs: 114_999 }));
  assert.equal(before.action, 'follow');
  assert.equal(before.expiresInMs, 1);
  // client-go: valid while observedTime + duration is after now, so the boundary is already expired.
  const at = decideLease(input({ lease, previous, nowMs: 115_000 }));
  assert.equal(at.action, 'acquire');
  assert.equal(at.reason, 'expired');
  assert.deepEqual(at.record, { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 5 });
});

test('a renewal restarts the wait: a changed record is observed anew', () => {
  const old = held('other', '2030-01-02T03:04:00.000000Z');
  const renewed = held('other', '2030-01-02T03:04:02.000000Z');
  const d = decideLease(input({ lease: renewed, previous: { record: old, observedAtMs: 100_000 }, nowMs: 114_000 }));
  assert.equal(d.action, 'follow');
  assert.deepEqual(d.observed, { record: renewed, observedAtMs: 114_000 });
  assert.equal(d.expiresInMs, 15_000);
});

test("the holder's own leaseDurationSeconds decides its expiry, not ours", () => {
  const lease = { ...held('other'), leaseDurationSeconds: 60 };
  const d = decideLease(input({ lease, previous: { record: lease, observedAtMs: 0 }, nowMs: 59_000, leaseDurationSeconds: 15 }));
  assert.equal(d.action, 'follow');
});

test('leading while the Lease names another holder: follow (the elector steps down)', () => {
  const d = decideLease(input({ lease: held('other'), leading: true }));
  assert.equal(d.action, 'follow');
});

test('observeLease keeps the first sighting while the record is unchanged', () => {
  const first = observeLease(undefined, held('a'), 10);
  assert.equal(observeLease(first, held('a'), 20), first);
  assert.equal(observeLease(first, held('b'), 30).observedAtMs, 30);
});

test('Lease spec round trip keeps microseconds and accepts Dates as well as strings', () => {
  const lease = (spec?: object) => decodeObject(LeaseKind, { metadata: { name: 'cnf', namespace: 'ns' }, ...(spec ? { spec } : {}) });
  const record = leaseRecordOf(
    lease({
      holderIdentity: 'x',
      leaseDurationSeconds: 15,
      acquireTime: '2030-01-02T03:00:00.123456Z',
      renewTime: new V1MicroTime('2030-01-02T03:04:05.678Z'),
      leaseTransitions: 2,
    }).spec,
  );
  assert.deepEqual(record, {
    holderIdentity: 'x',
    leaseDurationSeconds: 15,
    acquireTime: '2030-01-02T03:00:00.123456Z',
    renewTime: now,
    leaseTransitions: 2,
  });
  const json = JSON.parse(JSON.stringify(leaseSpecOf(record))) as Record<string, unknown>;
  assert.equal(json.acquireTime, '2030-01-02T03:00:00.123456Z');
  assert.equal(json.renewTime, now);
  assert.deepEqual(leaseRecordOf(lease().spec), {
    holderIdentity: '',
    leaseDurationSeconds: 0,
    acquireTime: undefined,
    renewTime: undefined,
    leaseTransitions: 0,
  });
  assert.equal(microTime(new Date('2030-01-01T00:00:00Z')), '2030-01-01T00:00:00.000000Z');
});
