import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeObject } from '../objects/decode.js';
import { ServiceImportKind, type ServiceImport } from '../objects/mcs.js';
import type { ServiceImportSpec } from './api.js';
import { aggregateServices } from './aggregate.js';

/** A cluster's view of a service it exports, as read back from the hub. */
function described(cluster: string, exportedAt: string, spec: Partial<ServiceImportSpec>, namespace = `fleetboard-cluster-${cluster}`): ServiceImport {
  return decodeObject(ServiceImportKind, {
    metadata: {
      name: 'nginx-svc.default',
      namespace,
      labels: { 'multicluster.kubernetes.io/service-name': 'nginx-svc', 'fleetboard.io/service-namespace': 'default', 'multicluster.kubernetes.io/source-cluster': cluster },
      annotations: { 'fleetboard.io/exported-at': exportedAt },
    },
    spec: { type: 'ClusterSetIP', ports: [{ name: 'http', protocol: 'TCP', port: 80 }], sessionAffinity: 'None', ...spec },
  });
}

test('one exporting cluster: its service as it described it', () => {
  assert.deepEqual(aggregateServices([described('cluster1', '2026-11-21T10:00:00.000Z', {})]), [
    { namespace: 'default', name: 'nginx-svc', spec: { type: 'ClusterSetIP', ports: [{ name: 'http', protocol: 'TCP', port: 80 }], sessionAffinity: 'None' }, labels: {}, annotations: {}, clusters: ['cluster1'], conflicts: [] },
  ]);
});

test('two clusters: ports are the union; the oldest export decides, and the newer one is told where it differs', () => {
  const [merged] = aggregateServices([
    described('cluster2', '2026-11-21T11:00:00.000Z', { type: 'Headless', ports: [{ name: 'web', protocol: 'TCP', port: 80 }, { name: 'metrics', protocol: 'TCP', port: 9090 }] }),
    described('cluster1', '2026-11-21T10:00:00.000Z', { ports: [{ name: 'http', protocol: 'TCP', port: 80 }, { name: 'dns', protocol: 'UDP', port: 53 }] }),
  ]);
  assert.equal(merged?.spec.type, 'ClusterSetIP', 'cluster1 exported first');
  assert.deepEqual(merged.clusters, ['cluster1', 'cluster2']);
  assert.deepEqual(merged.spec.ports, [
    { name: 'dns', protocol: 'UDP', port: 53 },
    { name: 'http', protocol: 'TCP', port: 80 },
    { name: 'metrics', protocol: 'TCP', port: 9090 },
  ]);
  assert.deepEqual(
    merged.conflicts.map((c) => [c.cluster, c.reason]),
    [
      ['cluster2', 'TypeConflict'],
      ['cluster2', 'PortConflict'],
    ],
  );
  assert.match(merged.conflicts[1]?.message ?? '', /port 80\/TCP is named "web" in cluster2 but "http"/);
});

test('an export is trusted only in its own cluster\'s hub namespace', () => {
  assert.deepEqual(aggregateServices([described('cluster1', '2026-11-21T10:00:00.000Z', {}, 'fleetboard-cluster-cluster2')]), []);
  assert.deepEqual(aggregateServices([decodeObject(ServiceImportKind, { ...described('cluster1', '', {}), metadata: { name: 'x', namespace: 'fleetboard-cluster-cluster1' } })]), [], 'no labels: not an export');
});

test('the oldest export decides the extra DNS names', () => {
  const older = described('cluster1', '2026-11-21T10:00:00.000Z', {});
  const newer = described('cluster2', '2026-11-21T11:00:00.000Z', {});
  Object.assign(older.metadata.annotations, { 'fleetboard.io/dns-name': 'nginx.shared.example' });
  Object.assign(newer.metadata.annotations, { 'fleetboard.io/dns-name': 'other.shared.example' });
  assert.equal(aggregateServices([newer, older])[0]?.dnsNames, 'nginx.shared.example');
  assert.equal(aggregateServices([described('cluster3', '2026-11-21T10:00:00.000Z', {})])[0]?.dnsNames, undefined);
});

test('the oldest export decides the exported labels and annotations; a newer export that differs is told, and a malformed map counts as empty', () => {
  const older = described('cluster1', '2026-11-21T10:00:00.000Z', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } });
  const newer = described('cluster2', '2026-11-21T11:00:00.000Z', { sessionAffinity: 'ClientIP' });
  const broken = described('cluster3', '2026-11-21T12:00:00.000Z', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } });
  Object.assign(older.metadata.annotations, { 'fleetboard.io/exported-labels': '{"tier":"web","team":"shop"}', 'fleetboard.io/exported-annotations': '{"owner":"ops"}' });
  Object.assign(newer.metadata.annotations, { 'fleetboard.io/exported-labels': '{"team":"shop","tier":"web"}', 'fleetboard.io/exported-annotations': '{"owner":"dev"}' });
  Object.assign(broken.metadata.annotations, { 'fleetboard.io/exported-labels': '["tier"]', 'fleetboard.io/exported-annotations': '{"owner":' });
  const [merged] = aggregateServices([broken, newer, older]);
  assert.deepEqual(merged?.labels, { team: 'shop', tier: 'web' });
  assert.deepEqual(merged.annotations, { owner: 'ops' });
  assert.deepEqual(
    merged.conflicts.map((c) => [c.cluster, c.reason]),
    [
      ['cluster2', 'SessionAffinityConfigConflict'],
      ['cluster2', 'AnnotationsConflict'],
      ['cluster3', 'LabelsConflict'],
      ['cluster3', 'AnnotationsConflict'],
    ],
  );
});
