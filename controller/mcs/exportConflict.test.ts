import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conflictVerdict } from './exportConflict.js';
import type { AggregatedService } from './aggregate.js';

const service = (conflicts: AggregatedService['conflicts']): AggregatedService => ({
  namespace: 'default',
  name: 'web',
  spec: { type: 'ClusterSetIP', ports: [] },
  labels: {},
  annotations: {},
  clusters: ['cluster1', 'cluster2'],
  conflicts,
});

test('exports that agree get Conflict=False with NoConflicts', () => {
  assert.deepEqual(conflictVerdict(service([])), { type: 'Conflict', status: 'False', reason: 'NoConflicts', message: '2 cluster(s) export default/web alike' });
});

test('every kind of conflict is in the reason, comma-separated, and each is explained', () => {
  const verdict = conflictVerdict(
    service([
      { cluster: 'cluster2', reason: 'TypeConflict', message: 'cluster2 exports Headless, the oldest export (cluster1) ClusterSetIP' },
      { cluster: 'cluster2', reason: 'PortConflict', message: 'port 80/TCP is named "web" in cluster2 but "http" in an older export' },
      { cluster: 'cluster3', reason: 'PortConflict', message: 'port 81/TCP differs' },
    ]),
  );
  assert.equal(verdict.status, 'True');
  assert.equal(verdict.reason, 'PortConflict,TypeConflict');
  assert.match(verdict.message, /cluster2 exports Headless.*; port 80\/TCP is named "web".*; port 81\/TCP differs; the oldest export's value is used/);
});
