import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApiException,
  type CoreV1ApiListNamespacedPodRequest,
  type CoreV1ApiPatchNamespacedPodRequest,
  type V1Pod,
  type V1PodList,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { waitFor } from '../../test/harness/wait.js';
import { PodMetadataKind } from '../objects/core.js';
import { decodeItems } from '../objects/decode.js';
import { LeaderElectionError } from './errors.js';
import { LEADER_LABEL, LeaderPodLabeler, labelLeaderPod, podsToUnlabel, type PodApi } from './leaderLabel.js';

const pod = (name: string, labels: Record<string, string> = {}): V1Pod => ({ metadata: { name, labels } });

/** Pods as label maps; merge patches on labels, equality and existence selectors, one request at a time checked. */
class FakePods implements PodApi {
  readonly labels = new Map<string, Record<string, string>>();
  failPatches = 0;
  inFlight = 0;
  maxInFlight = 0;

  constructor(pods: Record<string, Record<string, string>>) {
    for (const [name, labels] of Object.entries(pods)) this.labels.set(name, { ...labels });
  }

  async listNamespacedPod(p: CoreV1ApiListNamespacedPodRequest): Promise<V1PodList> {
    await Promise.resolve();
    const terms = (p.labelSelector ?? '').split(',').filter((s) => s !== '');
    const matches = (labels: Record<string, string>) =>
      terms.every((term) => {
        const [key = '', value] = term.split('=');
        return value === undefined ? key in labels : labels[key] === value;
      });
    return { items: [...this.labels].filter(([, labels]) => matches(labels)).map(([name, labels]) => pod(name, labels)) };
  }

  async patchNamespacedPod(p: CoreV1ApiPatchNamespacedPodRequest): Promise<V1Pod> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (this.failPatches > 0) {
        this.failPatches--;
        throw new ApiException(503, 'unavailable', {}, {});
      }
      const labels = this.labels.get(p.name);
      if (!labels) throw new ApiException(404, 'not found', {}, {});
      const patch = (p.body as { metadata: { labels: Record<string, string | null> } }).metadata.labels;
      for (const [key, value] of Object.entries(patch)) {
        if (value === null) Reflect.deleteProperty(labels, key);
        else labels[key] = value;
      }
      return pod(p.name, labels);
    } finally {
      this.inFlight--;
    }
  }

  isLeader(name: string): boolean {
    return this.labels.get(name)?.[LEADER_LABEL] === 'true';
  }
}

const target = { namespace: 'ns', podName: 'cnf-b', selector: 'app=cnf' };

test('podsToUnlabel: every labelled pod but ours', () => {
  const invalid: string[] = [];
  // Read as labelLeaderPod reads them: a pod without a name cannot be patched, so it is left out.
  const pods = decodeItems(PodMetadataKind, [pod('cnf-a', { [LEADER_LABEL]: 'true' }), pod('cnf-b', { [LEADER_LABEL]: 'true' }), pod('cnf-c'), { metadata: {} }], (err) => invalid.push(err.object));
  assert.deepEqual(podsToUnlabel(pods, 'cnf-b'), ['cnf-a']);
  assert.deepEqual(invalid, ['Pod (unnamed)']);
});

test('labelLeaderPod labels ours, unlabels other candidates, leaves pods outside the selector alone; gone pods are fine', async () => {
  const api = new FakePods({
    'cnf-a': { app: 'cnf', [LEADER_LABEL]: 'true' },
    'cnf-b': { app: 'cnf' },
    'other': { app: 'web', [LEADER_LABEL]: 'true' },
  });
  await labelLeaderPod(api, target);
  assert.deepEqual([...api.labels.keys()].filter((n) => api.isLeader(n)), ['cnf-b', 'other']);
  assert.deepEqual(api.labels.get('cnf-a'), { app: 'cnf' });

  await assert.rejects(labelLeaderPod(api, { ...target, podName: 'missing' }), (err: unknown) => {
    assert.ok(err instanceof LeaderElectionError);
    assert.equal(err.code, 'POD_LABEL_FAILED');
    return true;
  });
});

test('LeaderPodLabeler applies quick flips one at a time, ends at the latest state, and retries failures', async (t) => {
  const api = new FakePods({ 'cnf-a': { app: 'cnf', [LEADER_LABEL]: 'true' }, 'cnf-b': { app: 'cnf' } });
  const labeler = new LeaderPodLabeler(api, target, pino({ level: 'silent' }), 20);
  t.after(() => labeler.stop());
  labeler.setLeading(true);
  labeler.setLeading(false);
  labeler.setLeading(true);
  await waitFor(() => Promise.resolve(api.isLeader('cnf-b') && !api.isLeader('cnf-a') ? true : undefined), {
    what: 'cnf-b labelled alone',
    timeoutMs: 2000,
    intervalMs: 5,
  });
  api.failPatches = 2;
  labeler.setLeading(false);
  await waitFor(() => Promise.resolve(api.isLeader('cnf-b') ? undefined : true), { what: 'label removed after retries', timeoutMs: 2000, intervalMs: 5 });
  assert.equal(api.failPatches, 0);
  assert.equal(api.maxInFlight, 1);
});

test('LeaderPodLabeler: a pod that never led sends nothing when told it does not lead', async () => {
  const api = new FakePods({ 'cnf-a': { app: 'cnf' }, 'cnf-b': { app: 'cnf' } });
  const labeler = new LeaderPodLabeler(api, target, pino({ level: 'silent' }), 20);
  labeler.setLeading(false);
  await labeler.stop();
  assert.equal(api.maxInFlight, 0, 'no patch was sent');
});
