import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { PodKind, type Pod } from '../objects/core.js';
import { decodeObject } from '../objects/decode.js';
import { curlFailure, probeOutcome, probeStalled, probes, serverObjects } from './verifyPlan.js';

const members = [
  { clusterID: 'cluster1', zones: ['clusterset.local', 'hyperos.local'], serverAddress: '10.112.0.5' },
  { clusterID: 'cluster2', zones: ['clusterset.local'], serverAddress: '10.113.0.7' },
];

test('every ordered pair is probed by global address and by each zone the probing cluster serves', () => {
  const plan = probes('fleetboard-verify-abc', members, 'curlimages/curl');
  assert.deepEqual(
    plan.map((p) => `${p.from}>${p.to} ${p.url}`),
    [
      'cluster1>cluster2 http://10.113.0.7/',
      'cluster1>cluster2 http://verify-cluster2.fleetboard-verify-abc.svc.clusterset.local/',
      'cluster1>cluster2 http://verify-cluster2.fleetboard-verify-abc.svc.hyperos.local/',
      'cluster2>cluster1 http://10.112.0.5/',
      'cluster2>cluster1 http://verify-cluster1.fleetboard-verify-abc.svc.clusterset.local/',
    ],
  );
  assert.equal(new Set(plan.map((p) => `${p.from}/${p.pod.metadata.name}`)).size, plan.length, 'pod names are unique per cluster');
  for (const p of plan) {
    assert.equal(p.pod.spec.restartPolicy, 'Never', 'a probe runs once and its exit code is the result');
    assert.equal(p.pod.spec.containers[0]?.args?.at(-1), p.url);
  }
});

test('the server is exported under a name that says which cluster serves it', () => {
  const o = serverObjects('ns', 'cluster1', 'nginx:1.27');
  assert.equal(o.service.metadata?.name, 'verify-cluster1');
  assert.equal(o.serviceExport.metadata.name, 'verify-cluster1');
  assert.deepEqual(o.service.spec?.selector, o.pod.metadata?.labels);
});

const meta = { namespace: 'fleetboard-verify-abc', name: 'probe-cluster2-0' };
const probePod = (pod: Omit<V1Pod, 'metadata'>): Pod => decodeObject(PodKind, { metadata: meta, ...pod });

test('a probe pod reads as pending, passed, or failed with what to do', () => {
  assert.equal(probeOutcome(probePod({ status: { phase: 'Running' } })), undefined);
  assert.deepEqual(probeOutcome(probePod({ status: { phase: 'Succeeded' } })), { ok: true, detail: '' });
  const failed = probeOutcome(probePod({ status: { phase: 'Failed', containerStatuses: [{ name: 'curl', image: 'c', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 6 } } }] } }));
  assert.ok(failed && !failed.ok);
  assert.match(failed.detail, /did not resolve.*forwards the zone to crossdns/);
  assert.match(curlFailure(28), /timed out/);
  assert.equal(curlFailure(3), 'curl exited with 3');
});

test('a probe that has not ended by the deadline says where it stands: unscheduled, waiting with the reason, or still running on its node', () => {
  assert.equal(
    probeStalled(probePod({ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', message: '0/2 nodes are available' }] } }), 120),
    'the probe pod did not finish within 120 s: not scheduled (0/2 nodes are available)',
  );
  const waiting = probeStalled(
    probePod({ spec: { nodeName: 'node1', containers: [] }, status: { phase: 'Pending', containerStatuses: [{ name: 'curl', image: 'c', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating', message: 'no global address' } } }] } }),
    120,
  );
  assert.equal(waiting, 'the probe pod did not finish within 120 s: waiting on node1: ContainerCreating no global address (kubectl -n fleetboard-verify-abc describe pod probe-cluster2-0)');
  assert.match(probeStalled(probePod({ spec: { nodeName: 'node1', containers: [] }, status: { phase: 'Running' } }), 120), /: Running on node1 \(kubectl -n fleetboard-verify-abc describe pod probe-cluster2-0\)$/);
  assert.match(probeStalled(undefined, 120), /could not be read/);
});
