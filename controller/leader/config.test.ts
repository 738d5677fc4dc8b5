import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LEADER_TIMINGS, leaseDurationSeconds, validateLeaderElectionConfig, type LeaderElectionConfig } from './config.js';
import { LeaderElectionError } from './errors.js';

const valid: LeaderElectionConfig = { namespace: 'fleetboard', leaseName: 'cnf', identity: 'cnf-abc', ...DEFAULT_LEADER_TIMINGS };

function rejectsWith(config: LeaderElectionConfig, ...fragments: string[]): void {
  assert.throws(
    () => validateLeaderElectionConfig(config),
    (err: unknown) => {
      assert.ok(err instanceof LeaderElectionError);
      assert.equal(err.code, 'INVALID_CONFIG');
      for (const f of fragments) assert.match(err.message, new RegExp(f));
      return true;
    },
  );
}

test('the defaults are valid', () => {
  assert.deepEqual(DEFAULT_LEADER_TIMINGS, { leaseDurationMs: 15000, renewDeadlineMs: 10000, retryPeriodMs: 2000 });
  validateLeaderElectionConfig(valid);
});

test('durations must be positive and finite; every problem is named at once', () => {
  rejectsWith({ ...valid, leaseDurationMs: 0, retryPeriodMs: Number.NaN }, 'leaseDurationMs must be a positive', 'retryPeriodMs must be a positive');
  rejectsWith({ ...valid, renewDeadlineMs: -1 }, 'renewDeadlineMs');
});

test('renewDeadline must be shorter than leaseDuration, retryPeriod shorter than renewDeadline', () => {
  rejectsWith({ ...valid, renewDeadlineMs: 15000 }, 'renewDeadlineMs \\(15000\\) must be less than leaseDurationMs');
  rejectsWith({ ...valid, retryPeriodMs: 10000 }, 'retryPeriodMs \\(10000\\) must be less than renewDeadlineMs');
});

test('namespace, lease name and identity must be set', () => {
  rejectsWith({ ...valid, identity: '' }, 'identity');
  rejectsWith({ ...valid, namespace: '', leaseName: '' }, 'namespace', 'leaseName');
});

test('lease duration rounds up to whole seconds, never below the configured time', () => {
  assert.equal(leaseDurationSeconds(15000), 15);
  assert.equal(leaseDurationSeconds(2500), 3);
  assert.equal(leaseDurationSeconds(300), 1);
});
