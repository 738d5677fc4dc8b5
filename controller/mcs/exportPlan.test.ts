import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeObject } from '../objects/decode.js';
import { ServiceKind } from '../objects/core.js';
import { EndpointSliceKind } from '../objects/discovery.js';
import { ServiceExportKind } from '../objects/mcs.js';
import { planExports, type ExportInputs } from './exportPlan.js';

const exp = (name: string) => decodeObject(ServiceExportKind, { metadata: { name, namespace: 'default', creationTimestamp: '2026-11-01T10:00:00Z' } });
const service = (name: string) => decodeObject(ServiceKind, { metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }] } });
/** A Service's slice as the API sends it; `endpoints: null` once the Deployment is scaled to 0. */
const slice = (service: string, endpoints: unknown) => decodeObject(EndpointSliceKind, { metadata: { name: `${service}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } }, addressType: 'IPv4', endpoints, ports: [{ name: 'http', port: 8080 }] });

const inputs = (extra: Partial<ExportInputs>): ExportInputs => ({
  exports: [],
  services: [],
  slices: [],
  globalAddressOf: (_ns, pod) => (pod === 'web-0' ? '10.112.1.5' : undefined),
  hub: { clusterID: 'cluster1', namespace: 'fleetboard-cluster-cluster1' },
  clusterSetExports: undefined,
  waiting: () => false,
  ...extra,
});

test('a Service scaled to 0 (its slice comes without endpoints) is exported Ready with an empty slice, beside one with endpoints', () => {
  const plan = planExports(
    inputs({
      exports: [exp('web'), exp('idle')],
      services: [service('web'), service('idle')],
      slices: [slice('web', [{ addresses: ['10.244.1.3'], targetRef: { kind: 'Pod', name: 'web-0' } }]), slice('idle', null)],
    }),
  );
  assert.deepEqual(plan.failed, []);
  assert.deepEqual(plan.services.map((s) => s.metadata.name), ['web.default', 'idle.default']);
  assert.deepEqual(plan.slices.map((s) => [s.metadata.name, s.endpoints.length]), [['cluster1-default-web-x', 1], ['cluster1-default-idle-x', 0]]);
  assert.deepEqual(plan.verdicts.get('default/idle')?.map((v) => [v.type, v.status, v.message]), [
    ['Valid', 'True', 'Service default/idle can be exported'],
    ['Ready', 'True', '0 endpoint(s) published to the clusterset'],
  ]);
});

test('an export waiting for its retry is left out of the plan (left as it is); one without a Service publishes nothing; without a hub only Valid is judged', () => {
  const plan = planExports(inputs({ exports: [exp('web'), exp('gone')], services: [service('web')], waiting: (key) => key === 'default/web' }));
  assert.deepEqual([...plan.verdicts.keys()], ['default/gone']);
  assert.deepEqual([plan.services, plan.slices], [[], []]);
  assert.equal(plan.verdicts.get('default/gone')?.[0]?.reason, 'NoService');
  const local = planExports(inputs({ exports: [exp('web')], services: [service('web')], hub: undefined }));
  assert.deepEqual(local.verdicts.get('default/web')?.map((v) => v.type), ['Valid']);
});
