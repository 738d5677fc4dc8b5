import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podStatus, type PodRecord } from './podStatus.js';

const now = new Date('2026-01-01T00:00:00Z');
const base = (): PodRecord => ({
  sandboxReady: true,
  sandboxError: undefined,
  hostIp: '192.168.0.11',
  podIp: '10.244.0.7',
  startTime: now,
  initDone: true,
  containers: [{ name: 'web', image: 'nginx', id: 'x', restartCount: 0, ready: true, state: { kind: 'running', startedAt: now } }],
  finished: undefined,
});
const cond = (s: ReturnType<typeof podStatus>, type: string) => s.conditions?.find((c) => c.type === type)?.status;

test('a running pod with ready containers is Running and Ready with its IP', () => {
  const s = podStatus(base(), now);
  assert.equal(s.phase, 'Running');
  assert.equal(s.podIP, '10.244.0.7');
  assert.equal(cond(s, 'Ready'), 'True');
  assert.equal(s.containerStatuses?.[0]?.state?.running?.startedAt, now);
});

test('a container waiting on readiness keeps the pod not Ready', () => {
  const r = base();
  const c = r.containers[0];
  assert.ok(c);
  c.ready = false;
  const s = podStatus(r, now);
  assert.equal(s.phase, 'Running');
  assert.equal(cond(s, 'Ready'), 'False');
});

test('a sandbox failure is shown on the pod and keeps it Pending', () => {
  const r = { ...base(), sandboxReady: false, sandboxError: 'NRI RunPodSandbox: no address', podIp: undefined };
  const s = podStatus(r, now);
  assert.equal(s.phase, 'Pending');
  const ready = s.conditions?.find((c) => c.type === 'PodReadyToStartContainers');
  assert.ok(ready);
  assert.equal(ready.reason, 'FailedCreatePodSandBox');
  assert.equal(ready.message, 'NRI RunPodSandbox: no address');
  assert.equal(s.podIP, undefined);
});
