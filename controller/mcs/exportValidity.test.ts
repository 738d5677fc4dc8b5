import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Service } from '@kubernetes/client-node';
import { ServiceKind, type Service } from '../objects/core.js';
import { decodeObject } from '../objects/decode.js';
import { exportValidity, withCondition } from './exportValidity.js';

const service = (type: string, extra: Partial<V1Service['metadata']> = {}): Service =>
  decodeObject(ServiceKind, { metadata: { name: 'nginx-svc', namespace: 'default', ...extra }, spec: { type } } satisfies V1Service);

test('a ServiceExport is valid only with a Service that has endpoints to export', () => {
  assert.deepEqual(exportValidity('default', 'nginx-svc', service('ClusterIP')), { type: 'Valid', status: 'True', reason: 'Valid', message: 'Service default/nginx-svc can be exported' });
  const missing = exportValidity('default', 'nginx-svc', undefined);
  assert.equal(missing.status, 'False');
  assert.equal(missing.reason, 'NoService');
  assert.match(missing.message, /does not exist: create it/);
  assert.equal(exportValidity('default', 'nginx-svc', service('ClusterIP', { deletionTimestamp: new Date() })).reason, 'NoService', 'a Service being deleted is as good as gone');
  const external = exportValidity('default', 'nginx-svc', service('ExternalName'));
  assert.equal(external.reason, 'InvalidServiceType');
  assert.match(external.message, /ExternalName/);
  assert.equal(exportValidity('default', 'nginx-svc', service('NodePort')).status, 'True');
});

test('conditions: only a change is written, and the transition time moves only with the status', () => {
  const t0 = new Date('2026-11-21T10:00:00Z');
  const t1 = new Date('2026-11-21T11:00:00Z');
  const missing = exportValidity('default', 'nginx-svc', undefined);
  const first = withCondition([{ type: 'Ready', status: 'True', reason: 'Exported', message: '', lastTransitionTime: t0.toISOString() }], missing, 1, t0);
  assert.ok(first);
  assert.deepEqual(first.map((c) => c.type), ['Ready', 'Valid'], 'other conditions are kept');
  assert.equal(withCondition(first, missing, 1, t1), undefined, 'nothing changed');
  const external = withCondition(first, exportValidity('default', 'nginx-svc', service('ExternalName')), 1, t1);
  assert.equal(external?.find((c) => c.type === 'Valid')?.lastTransitionTime, t0.toISOString(), 'still False: same transition time');
  const valid = withCondition(external, exportValidity('default', 'nginx-svc', service('ClusterIP')), 2, t1);
  assert.deepEqual(valid?.find((c) => c.type === 'Valid'), { type: 'Valid', status: 'True', reason: 'Valid', message: 'Service default/nginx-svc can be exported', lastTransitionTime: t1.toISOString(), observedGeneration: 2 });
});
