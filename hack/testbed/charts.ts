import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { repoRoot, toolPath } from '../../test/harness/tools.js';
import { run } from '../../test/harness/run.js';

export type ChartName = 'fleetboard' | 'fleetboard-agent';

/**
 * What `helm install <chart> --namespace <namespace> --create-namespace` would
 * create, the namespace first: the chart rendered with `helm template` and `values`.
 * The testbed installs FleetBoard this way, so tests run the charts users run.
 */
export async function renderChart(chart: ChartName, namespace: string, values: object): Promise<KubernetesObject[]> {
  const { stdout } = await run(toolPath('helm'), ['template', chart, join(repoRoot, 'charts', chart), '--namespace', namespace, '--include-crds', '--values', '-'], { input: JSON.stringify(values) });
  const rendered = parseAllDocuments(stdout).flatMap((d) => {
    if (d.errors.length > 0) throw new Error(`helm template ${chart} rendered invalid YAML: ${d.errors[0]?.message ?? ''}`);
    const o = d.toJS() as KubernetesObject | null;
    return o ? [o] : [];
  });
  return [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, ...rendered];
}

/** A chart duration value for a number of seconds; none keeps the chart's default. */
export const secondsValue = (n: number | undefined) => (n === undefined ? undefined : `${n}s`);

/** The CustomResourceDefinitions in the chart's crds/ folder, for tests that need only the APIs. */
export async function chartCrds(chart: ChartName): Promise<KubernetesObject[]> {
  const dir = join(repoRoot, 'charts', chart, 'crds');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  return Promise.all(files.map(async (f) => parse(await readFile(join(dir, f), 'utf8')) as KubernetesObject));
}
