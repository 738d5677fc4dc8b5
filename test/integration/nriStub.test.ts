import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { NriRuntime, type SandboxInfo } from '../../hack/testbed/nriRuntime.js';
import type { NriRelease } from '../../hack/testbed/plan.js';
import { NriStub } from '../../plugin/nri/stub.js';
import type { NriHandlers } from '../../plugin/nri/session.js';
import type { PodSandbox } from '../../plugin/nri/api.js';
import { podNetnsPath } from '../../plugin/nri/pod.js';
import { waitFor } from '../harness/wait.js';

/** Records what the plugin saw; behaviour per pod name is steered by the test. */
class Recorder implements NriHandlers {
  readonly events: { op: string; pod: PodSandbox }[] = [];
  readonly syncs: PodSandbox[][] = [];
  failWith = new Map<string, string>();
  hang = new Set<string>();

  synchronize(pods: PodSandbox[]): Promise<void> {
    this.syncs.push(pods);
    return Promise.resolve();
  }
  runPodSandbox(pod: PodSandbox): Promise<void> {
    return this.handle('run', pod);
  }
  stopPodSandbox(pod: PodSandbox): Promise<void> {
    return this.handle('stop', pod);
  }
  removePodSandbox(pod: PodSandbox): Promise<void> {
    return this.handle('remove', pod);
  }
  private handle(op: string, pod: PodSandbox): Promise<void> {
    this.events.push({ op, pod });
    const failure = this.failWith.get(pod.name);
    if (failure) return Promise.reject(new Error(failure));
    if (this.hang.has(pod.name)) return new Promise(() => undefined);
    return Promise.resolve();
  }
}

const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

const sandbox = (name: string, extra: Partial<SandboxInfo> = {}): SandboxInfo => ({
  id: `sb-${name}`,
  name,
  uid: `uid-${name}`,
  namespace: 'default',
  labels: { app: name },
  annotations: {},
  netns: `/run/netns/test-${name}`,
  ...extra,
});

/**
 * The plugin speaks to every NRI release we support: `current` sends pod events
 * through dedicated RPCs and splits large syncs; `v0.3` (containerd 1.7.0) sends
 * them through StateChange and syncs in one message.
 */
const RELEASES: { release: NriRelease; splitsSync: boolean }[] = [
  { release: 'current', splitsSync: true },
  { release: 'v0.3', splitsSync: false },
];

for (const { release, splitsSync } of RELEASES) {
  describe(`against the NRI ${release} runtime`, () => {
    let dir: string;
    let runtime: NriRuntime;
    let stub: NriStub | undefined;
    const rec = new Recorder();

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'fleetboard-nri-'));
      runtime = new NriRuntime(join(dir, 'nri.sock'), join(dir, 'runtime.log'), release);
    });

    after(async () => {
      await stub?.stop();
      await runtime.stop();
      await rm(dir, { recursive: true, force: true });
    });

    test('the plugin waits for the socket, then registers and receives the pods that already run', async () => {
      stub = new NriStub(rec, { socketPath: join(dir, 'nri.sock'), pluginName: 'fleetboard', pluginIndex: '10', reconnectMaxMs: 300, log });
      stub.start();
      // The runtime starts after the plugin, like a node booting.
      await runtime.start();
      await runtime.deliver('RunPodSandbox', sandbox('early'));
      await stub.firstSync;
      await waitFor(() => Promise.resolve(rec.events.some((e) => e.pod.name === 'early') || rec.syncs.flat().some((p) => p.name === 'early') ? true : undefined), {
        what: 'the plugin to learn of pod "early"',
        timeoutMs: 10_000,
      });
    });

    test('pod events arrive through the real runtime with the pod network namespace', async () => {
      await runtime.deliver('RunPodSandbox', sandbox('web', { labels: { app: 'web', tier: 'front' } }));
      await runtime.deliver('StopPodSandbox', sandbox('web'));
      await runtime.deliver('RemovePodSandbox', sandbox('web'));
      const seen = rec.events.filter((e) => e.pod.name === 'web');
      assert.deepEqual(seen.map((e) => e.op), ['run', 'stop', 'remove']);
      const run = seen[0]?.pod;
      assert.ok(run);
      assert.equal(run.uid, 'uid-web');
      assert.equal(run.namespace, 'default');
      assert.deepEqual(run.labels, { app: 'web', tier: 'front' });
      assert.equal(podNetnsPath(run), '/run/netns/test-web');
    });

    test('a host-network pod has no network namespace of its own', async () => {
      await runtime.deliver('RunPodSandbox', sandbox('hostnet', { netns: '' }));
      const run = rec.events.find((e) => e.pod.name === 'hostnet');
      assert.ok(run);
      assert.equal(podNetnsPath(run.pod), undefined);
    });

    test('a handler error fails the pod with the plugin message', async () => {
      rec.failWith.set('broken', 'node CIDR not assigned yet');
      await assert.rejects(runtime.deliver('RunPodSandbox', sandbox('broken')), /node CIDR not assigned yet/);
      // The plugin is still registered: the next pod goes through.
      await runtime.deliver('RunPodSandbox', sandbox('after-error'));
      assert.ok(rec.events.some((e) => e.pod.name === 'after-error'));
    });

    test('a handler that hangs is answered with an error before the runtime gives up, and the plugin stays connected', async () => {
      rec.hang.add('stuck');
      const started = Date.now();
      await assert.rejects(runtime.deliver('RunPodSandbox', sandbox('stuck')), /did not finish in time/);
      const took = Date.now() - started;
      assert.ok(took < 2000, `answered after ${took} ms; the runtime's request timeout is 2000 ms`);
      await runtime.deliver('RunPodSandbox', sandbox('after-hang'));
      assert.ok(rec.events.some((e) => e.pod.name === 'after-hang'));
    });

    test('a synchronization larger than one ttrpc message arrives in parts and is seen whole', { skip: splitsSync ? false : 'this NRI release sends Synchronize in one message' }, async () => {
      // 12 pods with 400 KB of annotations each: over ttrpc's 4 MiB message limit, so the runtime splits.
      const big = 'x'.repeat(400_000);
      for (let i = 0; i < 12; i++) await runtime.deliver('RunPodSandbox', sandbox(`bulky${i}`, { annotations: { note: big } }));
      const syncsBefore = rec.syncs.length;
      await runtime.stop();
      runtime = new NriRuntime(join(dir, 'nri.sock'), join(dir, 'runtime.log'), release);
      await runtime.start();
      // A fresh runtime knows no pods; register them again, then restart the plugin connection to force a full sync.
      for (let i = 0; i < 12; i++) await runtime.deliver('RunPodSandbox', sandbox(`bulky${i}`, { annotations: { note: big } }));
      await stub?.stop();
      const parts: { pods: number; more: boolean }[] = [];
      const partLog = pino({ level: 'debug' }, { write: (line: string) => void parts.push(JSON.parse(line) as { pods: number; more: boolean }) });
      stub = new NriStub(rec, { socketPath: join(dir, 'nri.sock'), pluginName: 'fleetboard', pluginIndex: '10', reconnectMaxMs: 300, log: partLog });
      stub.start();
      await stub.firstSync;
      const split = parts.filter((p) => typeof p.more === 'boolean');
      assert.ok(split.length >= 2 && split.some((p) => p.more), `expected a split sync, saw parts ${JSON.stringify(split)}`);
      const last = rec.syncs.at(-1) ?? [];
      assert.ok(rec.syncs.length > syncsBefore);
      assert.deepEqual(last.map((p) => p.name).filter((n) => n.startsWith('bulky')).sort(), Array.from({ length: 12 }, (_, i) => `bulky${i}`).sort());
      assert.equal(last.find((p) => p.name === 'bulky3')?.annotations.note?.length, big.length);
    });

    test('the plugin reconnects when the runtime restarts and is synchronized again', async () => {
      const syncsBefore = rec.syncs.length;
      await runtime.stop();
      runtime = new NriRuntime(join(dir, 'nri.sock'), join(dir, 'runtime.log'), release);
      await runtime.start();
      await waitFor(() => Promise.resolve(rec.syncs.length > syncsBefore ? true : undefined), { what: 'a new Synchronize after the runtime restart', timeoutMs: 10_000 });
      await runtime.deliver('RunPodSandbox', sandbox('after-restart'));
      assert.ok(rec.events.some((e) => e.pod.name === 'after-restart'));
    });
  });
}
