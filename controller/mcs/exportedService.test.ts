import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Service } from '@kubernetes/client-node';
import { ServiceKind, type Service } from '../objects/core.js';
import { decodeObject } from '../objects/decode.js';
import { ServiceExportKind } from '../objects/mcs.js';
import { exportedService, exportedServiceName } from './exportedService.js';

const rawExport = { metadata: { name: 'nginx-svc', namespace: 'default', creationTimestamp: new Date('2026-11-21T10:00:00Z') } };
const exp = decodeObject(ServiceExportKind, rawExport);
const service = (raw: V1Service): Service => decodeObject(ServiceKind, raw);

test('a ClusterIP Service is published as a ClusterSetIP import with its ports, affinity and export time', () => {
  const nginx = service({
    metadata: { name: 'nginx-svc', namespace: 'default' },
    spec: {
      clusterIP: '10.96.0.20',
      ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'dns', port: 53, protocol: 'UDP', appProtocol: 'dns' }],
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
    },
  });
  assert.deepEqual(exportedService('cluster1', 'fleetboard-cluster-cluster1', nginx, exp), {
    apiVersion: 'multicluster.x-k8s.io/v1beta1',
    kind: 'ServiceImport',
    metadata: {
      name: 'nginx-svc.default',
      namespace: 'fleetboard-cluster-cluster1',
      labels: { 'multicluster.kubernetes.io/service-name': 'nginx-svc', 'fleetboard.io/service-namespace': 'default', 'multicluster.kubernetes.io/source-cluster': 'cluster1' },
      annotations: { 'fleetboard.io/exported-at': '2026-11-21T10:00:00.000Z' },
    },
    spec: {
      type: 'ClusterSetIP',
      ports: [
        { name: 'http', protocol: 'TCP', port: 80 },
        { name: 'dns', protocol: 'UDP', appProtocol: 'dns', port: 53 },
      ],
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
    },
  });
});

test('a headless Service is published as Headless; names keep namespace and service apart', () => {
  const headless = service({ metadata: { name: 'db', namespace: 'prod' }, spec: { clusterIP: 'None', ports: [{ port: 5432 }] } });
  const published = exportedService('cluster2', 'hub-ns', headless, exp);
  assert.equal(published.spec.type, 'Headless');
  assert.equal(published.spec.sessionAffinity, 'None');
  assert.notEqual(exportedServiceName('a-b', 'c'), exportedServiceName('a', 'b-c'));
});

test('extra DNS names asked for on the ServiceExport travel with the published service', () => {
  const nginx = service({ metadata: { name: 'nginx-svc', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
  const named = decodeObject(ServiceExportKind, { metadata: { ...rawExport.metadata, annotations: { 'fleetboard.io/dns-name': 'nginx.shared.example' } } });
  assert.equal(exportedService('cluster1', 'ns', nginx, named).metadata.annotations['fleetboard.io/dns-name'], 'nginx.shared.example');
  assert.equal(exportedService('cluster1', 'ns', nginx, exp).metadata.annotations['fleetboard.io/dns-name'], undefined);
});

test('exported labels and annotations travel with the published service, keys sorted; empty maps are left out', () => {
  const nginx = service({ metadata: { name: 'nginx-svc', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
  const labelled = decodeObject(ServiceExportKind, { ...rawExport, spec: { exportedLabels: { tier: 'web', team: 'shop' }, exportedAnnotations: {} } });
  const { annotations } = exportedService('cluster1', 'ns', nginx, labelled).metadata;
  assert.equal(annotations['fleetboard.io/exported-labels'], '{"team":"shop","tier":"web"}');
  assert.equal(annotations['fleetboard.io/exported-annotations'], undefined);
});
