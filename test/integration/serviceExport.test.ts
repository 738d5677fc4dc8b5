import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { ControlPlane } from '../harness/controlPlane.js';
import { startMcsControlPlane } from '../harness/mcsControlPlane.js';
import { waitFor } from '../harness/wait.js';
import { MCS_GROUP } from '../../controller/mcs/api.js';
import type { Condition } from '../../controller/objects/fields.js';
import { ServiceExportKind } from '../../controller/objects/mcs.js';
import { readAs } from '../harness/objects.js';
import { ExportController } from '../../controller/mcs/exportController.js';

const NAMESPACE = 'default';
const log = pino({ level: 'error' }, pino.destination(2));

let base = '';
let plane: ControlPlane | undefined;
let kc: KubeConfig;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let validator: ExportController | undefined;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'fleetboard-mcs-'));
  ({ plane, kc } = await startMcsControlPlane('mcs', join(base, 'cp')));
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  validator = new ExportController(kc, log);
  await validator.start();
});

after(async () => {
  await validator?.stop();
  await plane?.stop();
  await rm(base, { recursive: true, force: true });
});

const exportApi = (version: string) => ({ group: MCS_GROUP, version, plural: 'serviceexports', namespace: NAMESPACE });

async function createExport(name: string, version = 'v1beta1'): Promise<void> {
  await custom.createNamespacedCustomObject({ ...exportApi(version), body: { apiVersion: `${MCS_GROUP}/${version}`, kind: 'ServiceExport', metadata: { name } } });
}

/** Waits until the export's Valid condition has the given reason, and returns it as a user sees it. */
async function validCondition(name: string, reason: string, version = 'v1beta1'): Promise<Condition> {
  return waitFor(
    async () => {
      const exp = readAs(ServiceExportKind, await custom.getNamespacedCustomObject({ ...exportApi(version), name }));
      const valid = exp.status.conditions.find((c) => c.type === 'Valid');
      return valid?.reason === reason ? valid : undefined;
    },
    { what: `ServiceExport ${name}: Valid with reason ${reason}`, timeoutMs: 15_000, intervalMs: 100 },
  );
}

test('exporting a Service that does not exist says so; creating it makes the export valid; deleting it undoes that', async () => {
  await createExport('nginx-svc');
  const missing = await validCondition('nginx-svc', 'NoService');
  assert.equal(missing.status, 'False');
  assert.match(missing.message ?? '', /Service default\/nginx-svc does not exist/);
  await core.createNamespacedService({ namespace: NAMESPACE, body: { metadata: { name: 'nginx-svc' }, spec: { selector: { app: 'nginx' }, ports: [{ port: 80 }] } } });
  const valid = await validCondition('nginx-svc', 'Valid');
  assert.equal(valid.status, 'True');
  assert.equal(valid.observedGeneration, 1);
  await core.deleteNamespacedService({ name: 'nginx-svc', namespace: NAMESPACE });
  await validCondition('nginx-svc', 'NoService');
});

test('an ExternalName Service cannot be exported; the v1alpha1 API shows the same export', async () => {
  await core.createNamespacedService({ namespace: NAMESPACE, body: { metadata: { name: 'external' }, spec: { type: 'ExternalName', externalName: 'example.org' } } });
  await createExport('external', 'v1alpha1');
  const refused = await validCondition('external', 'InvalidServiceType', 'v1alpha1');
  assert.equal(refused.status, 'False');
  assert.match(refused.message ?? '', /ExternalName, which cannot be exported/);
  assert.equal((await validCondition('external', 'InvalidServiceType', 'v1beta1')).lastTransitionTime, refused.lastTransitionTime, 'one object, served in both versions');
});
