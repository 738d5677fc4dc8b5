import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { repoRoot, toolPath } from '../../test/harness/tools.js';
import { run } from '../../test/harness/run.js';

export type ChartName = 'fleetboard' | 'fleetboard-agent';

/**
 * What `helm install <chart> --namespace <namespace> --create-namespace` would
 * create, the namespace first: the chart rendered with `helm template` and `values`,
 * for tests of the charts' objects.
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

/**
 * Runs helm against the cluster of `kc`, as a user would, with its own
 * kubeconfig file and helm's cache and config in a folder removed afterwards.
 * Values go on stdin: a join token never appears in a command line.
 */
async function helm(kc: KubeConfig, args: string[], values?: object): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'fleetboard-helm-'));
  try {
    const kubeconfig = join(home, 'kubeconfig');
    await writeFile(kubeconfig, kc.exportConfig(), { mode: 0o600 });
    const env = { HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') };
    const withValues = values === undefined ? {} : { input: JSON.stringify(values) };
    return (await run(toolPath('helm'), [...args, ...(values === undefined ? [] : ['--values', '-']), '--kubeconfig', kubeconfig], { env, ...withValues })).stdout;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** `helm install <chart> charts/<chart> --namespace <namespace> --create-namespace` with `values`; returns helm's output, the chart's NOTES included. */
export function helmInstall(kc: KubeConfig, chart: ChartName, namespace: string, values: object): Promise<string> {
  return helm(kc, ['install', chart, join(repoRoot, 'charts', chart), '--namespace', namespace, '--create-namespace'], values);
}

/** `helm upgrade` of the release installed by helmInstall: `values` replace the old ones, or with `reuseValues` change only what they set. */
export function helmUpgrade(kc: KubeConfig, chart: ChartName, namespace: string, values: object, opts: { reuseValues?: boolean } = {}): Promise<string> {
  return helm(kc, ['upgrade', chart, join(repoRoot, 'charts', chart), '--namespace', namespace, ...(opts.reuseValues ? ['--reuse-values'] : [])], values);
}

/** `helm uninstall`, waiting until what the release made is gone. */
export function helmUninstall(kc: KubeConfig, chart: ChartName, namespace: string): Promise<string> {
  return helm(kc, ['uninstall', chart, '--namespace', namespace, '--wait']);
}
