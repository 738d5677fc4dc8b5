import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CoordinationV1Api, CoreV1Api, type KubeConfig, type V1LeaseSpec } from '@kubernetes/client-node';
import { pino } from 'pino';
import { ControlPlane } from '../harness/controlPlane.js';
import { waitFor } from '../harness/wait.js';
import { DEFAULT_LEADER_TIMINGS, LeaderElector, type LeaderTimings } from '../../controller/leader/elector.js';
import { LEADER_LABEL, LeaderPodLabeler } from '../../controller/leader/leaderLabel.js';
import { watchLeaseRelease } from '../../controller/leader/releaseWatch.js';

const namespace = 'fleetboard-leader';
/** Short enough for a quick test, with the same ratios as the defaults' spirit. */
const SHORT: LeaderTimings = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
const log = pino({ level: 'error' }, pino.destination(2));
const fixture = fileURLToPath(new URL('./fixtures/leaderCandidate.js', import.meta.url));

let plane: ControlPlane | undefined;
let kc: KubeConfig;
let coordination: CoordinationV1Api;
let core: CoreV1Api;

before(async () => {
  plane = new ControlPlane({ name: 'leader', dir: await mkdtemp(join(tmpdir(), 'fleetboard-leader-')) });
  await plane.start();
  kc = plane.kubeConfig();
  coordination = kc.makeApiClient(CoordinationV1Api);
  core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

after(async () => {
  await plane?.stop();
});

interface Candidate {
  identity: string;
  elector: LeaderElector;
  labeler: LeaderPodLabeler | undefined;
  /** How often onStartedLeading ran. */
  terms: { count: number };
}

/**
 * Starts in-process candidates; each is stopped (releasing what it holds) when
 * the test ends. With `watchRelease`, each also watches the Lease, as the cnf does.
 */
function startCandidates(t: TestContext, leaseName: string, identities: string[], timings: LeaderTimings, selector?: string, watchRelease = false): Candidate[] {
  return identities.map((identity) => {
    const labeler = selector ? new LeaderPodLabeler(core, { namespace, podName: identity, selector }, log, 500) : undefined;
    const terms = { count: 0 };
    const elector = new LeaderElector(
      coordination,
      { namespace, leaseName, identity, ...timings },
      {
        onStartedLeading: () => {
          terms.count++;
          labeler?.setLeading(true);
        },
        onStoppedLeading: () => labeler?.setLeading(false),
      },
      log,
    );
    const candidate: Candidate = { identity, elector, labeler, terms };
    t.after(() => stopCandidate(candidate));
    candidate.elector.start();
    if (watchRelease) {
      const releases = watchLeaseRelease(kc, namespace, leaseName, () => elector.nudge(), log);
      t.after(() => releases.stop());
      void releases.start();
    }
    return candidate;
  });
}

async function stopCandidate(c: Candidate): Promise<void> {
  await c.elector.stop();
  await c.labeler?.stop();
}

/** Exactly one candidate leads and every candidate has seen it in the Lease. */
async function settledLeader(candidates: Candidate[], timeoutMs: number): Promise<Candidate> {
  return waitFor(
    () => {
      const leaders = candidates.filter((c) => c.elector.isLeader);
      const [leader] = leaders;
      const agreed = leader && leaders.length === 1 && candidates.every((c) => c.elector.leader === leader.identity);
      return Promise.resolve(agreed ? leader : undefined);
    },
    { what: `one leader among ${candidates.map((c) => c.identity).join(', ')}, seen by all`, timeoutMs, intervalMs: 50 },
  );
}

async function readLeaseSpec(name: string): Promise<V1LeaseSpec> {
  const { spec } = await coordination.readNamespacedLease({ name, namespace });
  assert.ok(spec, `Lease ${namespace}/${name} has a spec`);
  return spec;
}

async function createPods(t: TestContext, app: string, names: string[], leaderToo: string[] = []): Promise<void> {
  for (const name of names) {
    const labels = { app, ...(leaderToo.includes(name) ? { [LEADER_LABEL]: 'true' } : {}) };
    // A scheduler that does not exist leaves the pods Pending and unbound: nothing runs them,
    // and unlike pods bound to a missing node, the pod garbage collector leaves them alone.
    await core.createNamespacedPod({
      namespace,
      body: { metadata: { name, labels }, spec: { schedulerName: 'fleetboard-test-none', containers: [{ name: 'cnf', image: 'pause' }] } },
    });
  }
  t.after(() => core.deleteCollectionNamespacedPod({ namespace, labelSelector: `app=${app}`, gracePeriodSeconds: 0 }));
}

/** Names of the pods of `app` that carry the leader label, once they are exactly `expected`. */
async function waitForLabelled(app: string, expected: string[], timeoutMs = 10_000): Promise<void> {
  let last: string[] = [];
  await waitFor(
    async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `app=${app},${LEADER_LABEL}=true` });
      last = pods.items.map((p) => p.metadata?.name ?? '').sort();
      return last.join(',') === [...expected].sort().join(',') ? true : undefined;
    },
    { what: `leader label on exactly [${expected.join(', ')}] (last seen [${last.join(', ')}])`, timeoutMs, intervalMs: 100 },
  );
}

test('three candidates compete for one Lease: exactly one leads and the Lease names it', async (t) => {
  const candidates = startCandidates(t, 'compete', ['cnf-a', 'cnf-b', 'cnf-c'], DEFAULT_LEADER_TIMINGS);
  const leader = await settledLeader(candidates, 20_000);
  const spec = await readLeaseSpec('compete');
  assert.equal(spec.holderIdentity, leader.identity);
  assert.equal(spec.leaseDurationSeconds, 15);
  assert.equal(spec.leaseTransitions, 0);
  // Nobody else ever started leading, not even briefly while the create race was decided.
  assert.deepEqual(
    candidates.map((c) => c.terms.count),
    candidates.map((c) => (c === leader ? 1 : 0)),
  );
});

test('graceful stop releases the Lease: the others, watching it, take over sooner than their next poll', async (t) => {
  // A long retry period: polling alone, the follower would try again 5 to 11 s after its last look.
  const slowPolls: LeaderTimings = { ...DEFAULT_LEADER_TIMINGS, retryPeriodMs: 5000 };
  const candidates = startCandidates(t, 'graceful', ['cnf-a', 'cnf-b'], slowPolls, undefined, true);
  const leader = await settledLeader(candidates, 20_000);
  const rest = candidates.filter((c) => c !== leader);

  const stoppedAt = performance.now();
  await leader.elector.stop();
  assert.notEqual((await readLeaseSpec('graceful')).holderIdentity, leader.identity, 'stop() gave the Lease up');
  const next = await settledLeader(rest, DEFAULT_LEADER_TIMINGS.leaseDurationMs);
  const takeoverMs = performance.now() - stoppedAt;
  t.diagnostic(`takeover after a graceful stop: ${takeoverMs.toFixed(0)} ms (leaseDuration ${DEFAULT_LEADER_TIMINGS.leaseDurationMs} ms)`);
  assert.ok(takeoverMs < 1000, `takeover took ${takeoverMs.toFixed(0)} ms`);
  assert.equal(leader.elector.isLeader, false);

  const spec = await readLeaseSpec('graceful');
  assert.equal(spec.holderIdentity, next.identity);
  assert.equal(spec.leaseTransitions, 1);
});

test('a SIGKILLed leader keeps the Lease until it expires; then a follower takes over and the leader label moves', async (t) => {
  const app = 'cnf-crash';
  await createPods(t, app, ['crash-0', 'crash-1']);
  const child = spawn(process.execPath, [fixture], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      KUBECONFIG: plane?.kubeconfigPath ?? '',
      LEASE_NAMESPACE: namespace,
      LEASE_NAME: 'crash',
      IDENTITY: 'crash-0',
      LEASE_DURATION_MS: String(SHORT.leaseDurationMs),
      RENEW_DEADLINE_MS: String(SHORT.renewDeadlineMs),
      RETRY_PERIOD_MS: String(SHORT.retryPeriodMs),
      POD_SELECTOR: `app=${app}`,
    },
  });
  const exited = once(child, 'exit');
  const stdout: string[] = [];
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.push(...chunk.split('\n').filter((l) => l !== '')));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });

  await waitFor(
    () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`candidate process exited (${child.signalCode ?? `code ${child.exitCode}`}):\n${stderr}`);
      }
      return Promise.resolve(stdout.includes('LEADING crash-0') ? true : undefined);
    },
    { what: 'the child process to lead', timeoutMs: 20_000, intervalMs: 50 },
  );
  await waitForLabelled(app, ['crash-0']);
  const [follower] = startCandidates(t, 'crash', ['crash-1'], SHORT, `app=${app}`);
  assert.ok(follower);
  await waitFor(() => Promise.resolve(follower.elector.leader === 'crash-0' ? true : undefined), {
    what: 'the follower to see crash-0 lead',
    timeoutMs: 10_000,
    intervalMs: 50,
  });

  child.kill('SIGKILL');
  const killedAt = performance.now();
  await exited;
  assert.equal((await readLeaseSpec('crash')).holderIdentity, 'crash-0', 'a killed leader releases nothing');
  assert.equal(follower.elector.isLeader, false);

  await waitFor(() => Promise.resolve(follower.elector.isLeader ? true : undefined), {
    what: 'the follower to take over',
    timeoutMs: 4 * SHORT.leaseDurationMs,
    intervalMs: 20,
  });
  const takeoverMs = performance.now() - killedAt;
  t.diagnostic(`takeover after SIGKILL: ${takeoverMs.toFixed(0)} ms (leaseDuration ${SHORT.leaseDurationMs} ms, retryPeriod ${SHORT.retryPeriodMs} ms)`);
  // The killed leader renewed at most one retry period before dying, and the follower
  // counts a full leaseDuration from when it saw that renewal.
  assert.ok(takeoverMs >= SHORT.leaseDurationMs - SHORT.retryPeriodMs - 250, `took over after only ${takeoverMs.toFixed(0)} ms`);
  assert.ok(takeoverMs <= SHORT.leaseDurationMs + 3 * SHORT.retryPeriodMs + 2000, `took over after ${takeoverMs.toFixed(0)} ms`);

  const spec = await readLeaseSpec('crash');
  assert.equal(spec.holderIdentity, 'crash-1');
  assert.equal(spec.leaseTransitions, 1);
  await waitForLabelled(app, ['crash-1']);
});

test('the leader label follows the leader: stale labels go, and a graceful handover moves it', async (t) => {
  const app = 'cnf-label';
  const names = ['label-0', 'label-1', 'label-2'];
  // label-old stands for a former leader that crashed with the label still on its pod.
  await createPods(t, app, [...names, 'label-old'], ['label-old']);
  const candidates = startCandidates(t, 'label', names, SHORT, `app=${app}`);
  const leader = await settledLeader(candidates, 20_000);
  await waitForLabelled(app, [leader.identity]);

  await stopCandidate(leader);
  const next = await settledLeader(
    candidates.filter((c) => c !== leader),
    4 * SHORT.leaseDurationMs,
  );
  await waitForLabelled(app, [next.identity]);
});
