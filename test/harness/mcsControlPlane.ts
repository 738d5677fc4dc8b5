import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { applyAll } from '../../hack/testbed/apply.js';
import { chartCrds } from '../../hack/testbed/charts.js';
import { MCS_GROUP } from '../../controller/mcs/api.js';
import { ControlPlane } from './controlPlane.js';
import { waitFor } from './wait.js';

/** A real control plane in `dir` with the MCS CRDs installed and both kinds served (CRDs take a moment). */
export async function startMcsControlPlane(name: string, dir: string): Promise<{ plane: ControlPlane; kc: KubeConfig }> {
  const plane = new ControlPlane({ name, dir });
  await plane.start();
  const kc = plane.kubeConfig();
  await applyAll(kc, await chartCrds('fleetboard-agent'));
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (const plural of ['serviceexports', 'serviceimports']) {
    await waitFor(() => custom.listNamespacedCustomObject({ group: MCS_GROUP, version: 'v1beta1', plural, namespace: 'default' }).then(() => true, () => undefined), { what: `the ${plural} API to be served`, timeoutMs: 30_000 });
  }
  return { plane, kc };
}
