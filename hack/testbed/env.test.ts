import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerEnv, expandVars, fieldValue, EnvError } from './env.js';

const pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { app: 'a' } },
  spec: { nodeName: 'n1', containers: [] },
  status: { podIP: '10.244.0.5' },
};

test('$(VAR) expands known names, keeps unknown ones and unescapes $$', () => {
  assert.equal(expandVars('--node=$(NODE) $(MISSING) $$(NODE)', { NODE: 'n1' }), '--node=n1 $(MISSING) $(NODE)');
});

test('downward API field paths', () => {
  assert.equal(fieldValue(pod, 'spec.nodeName'), 'n1');
  assert.equal(fieldValue(pod, "metadata.labels['app']"), 'a');
  assert.equal(fieldValue(pod, 'status.podIP'), '10.244.0.5');
  assert.throws(() => fieldValue(pod, 'spec.bogus'), EnvError);
});

test('container env: literal, fieldRef, configMap keys and a missing required ConfigMap', async () => {
  const sources = {
    configMap: (_ns: string, name: string) => Promise.resolve(name === 'cm' ? { k: 'v' } : undefined),
    secret: () => Promise.resolve(undefined),
  };
  const env = await containerEnv(
    pod,
    {
      name: 'c',
      env: [
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'ARG', value: 'on-$(NODE)' },
        { name: 'K', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } },
      ],
    },
    sources,
    { BASE: '1' },
  );
  assert.deepEqual(env, { BASE: '1', NODE: 'n1', ARG: 'on-n1', K: 'v' });
  await assert.rejects(containerEnv(pod, { name: 'c', envFrom: [{ configMapRef: { name: 'nope' } }] }, sources, {}), /configMap ns\/nope not found/);
});
