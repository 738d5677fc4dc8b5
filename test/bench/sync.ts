import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { ResilientWatch, type RawList } from '../../controller/kube/resilientWatch.js';
import { EndpointSliceKind, type EndpointSlice } from '../../controller/objects/discovery.js';
import { ServiceImportKind, type ServiceImport } from '../../controller/objects/mcs.js';
import { readItems } from '../harness/objects.js';
import { down, kubeConfigFor, up } from '../../hack/testbed/testbed.js';
import { podNetnsName } from '../../hack/testbed/plan.js';
import { MCS_GROUP, MCS_VERSION } from '../../controller/mcs/api.js';
import { createClientPod, createPauseDeployment, waitForReadyPods } from '../harness/cluster.js';
import { installHub, joinMember } from '../harness/clusterset.js';
import { cnfPods } from '../harness/fleetboard.js';
import { run, runIn } from '../harness/run.js';
import { waitFor } from '../harness/wait.js';
import { BenchError } from './measure.js';
import { API_WRITE_CONCURRENCY, eachLimited } from '../../controller/kube/eachLimited.js';

/**
 * Control-plane benchmark: `npm run bench:sync [-- --services N --scale M --endpoints E]`
 * prints one JSON object. On a hub and two one-node members:
 * - latency: N services are exported from cluster1 one after another; each
 *   is timed from its ServiceExport's creation until its name resolves in
 *   cluster2 (dig from a pod there, through cluster DNS and crossdns);
 * - scale: M services, each backed by the same E pods, are exported at once;
 *   timed until both members import all of them with E endpoints each, while
 *   the leader controllers' resident memory is sampled.
 * Targets (issue 5): latency p50 ≤ 1 s and p99 ≤ 2 s; scale ≤ 30 s and ≤ 200 MB per controller.
 */
const TARGETS = { p50Seconds: 1, p99Seconds: 2, convergeSeconds: 30, rssMB: 200 };

interface Options {
  services: number;
  scale: number;
  endpoints: number;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({ args, options: { services: { type: 'string', default: '50' }, scale: { type: 'string', default: '1000' }, endpoints: { type: 'string', default: '10' } } });
  const whole = (name: string, text: string, max: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new BenchError('BAD_OPTION', `--${name} must be a whole number from 1 to ${max} (got "${text}")`);
    return n;
  };
  return { services: whole('services', values.services, 500), scale: whole('scale', values.scale, 3000), endpoints: whole('endpoints', values.endpoints, 50) };
}

/** The value at fraction `q` of the sorted samples (nearest rank). */
export function percentile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

const exportApi = { group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceexports', namespace: 'default' };
const importApi = { group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceimports', namespace: 'default' };
const IMPORTED = 'endpointslice.kubernetes.io/managed-by=fleetboard.io';

async function createServices(kc: KubeConfig, names: readonly string[], app: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await eachLimited(names, API_WRITE_CONCURRENCY, (name) => core.createNamespacedService({ namespace: 'default', body: { metadata: { name }, spec: { selector: { app }, ports: [{ name: 'http', port: 80 }] } } }));
}

async function exportService(kc: KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ ...exportApi, body: { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceExport', metadata: { name } } });
}

/** Services with `prefix` whose local EndpointSlices hold `endpoints` ready addresses, per the listing. */
async function servicesWithEndpoints(kc: KubeConfig, selector: string, endpoints: number): Promise<number> {
  const slices = readItems(EndpointSliceKind, await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: 'default', labelSelector: selector }));
  const perService = new Map<string, number>();
  for (const s of slices) {
    const name = s.metadata.labels['multicluster.kubernetes.io/service-name'] ?? s.metadata.labels['kubernetes.io/service-name'] ?? '';
    perService.set(name, (perService.get(name) ?? 0) + s.endpoints.filter((e) => e.conditions.ready !== false).length);
  }
  return [...perService.values()].filter((n) => n === endpoints).length;
}

/**
 * Follows one member's ServiceImports and imported EndpointSlices with
 * watches, so that checking for convergence costs the apiservers nothing
 * beyond the events (listing thousands of slices every second would compete
 * with the controllers being measured).
 */
class ImportsSeen {
  private readonly imports: ResilientWatch<ServiceImport>;
  private readonly slices: ResilientWatch<EndpointSlice>;

  constructor(kc: KubeConfig) {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const ignore = { upsert: () => undefined, remove: () => undefined };
    const log = (m: string) => console.error(m);
    this.imports = new ResilientWatch(kc, `/apis/${MCS_GROUP}/${MCS_VERSION}/namespaces/default/serviceimports`, ServiceImportKind, () => custom.listNamespacedCustomObject(importApi) as ReturnType<RawList>, ignore, log);
    this.slices = new ResilientWatch(kc, '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', EndpointSliceKind, () => discovery.listNamespacedEndpointSlice({ namespace: 'default', labelSelector: IMPORTED }), ignore, log, { label: IMPORTED });
  }

  async start(): Promise<void> {
    await this.imports.start();
    await this.slices.start();
  }

  /** Services of `prefix` imported with a ClusterSetIP and all their endpoints. */
  count(prefix: string, endpoints: number): number {
    const withIp = new Set(this.imports.cached().filter((i) => i.metadata.name.startsWith(prefix) && i.spec.ips.length > 0).map((i) => i.metadata.name));
    const perService = new Map<string, number>();
    for (const s of this.slices.cached()) {
      const name = s.metadata.labels['multicluster.kubernetes.io/service-name'] ?? '';
      if (withIp.has(name)) perService.set(name, (perService.get(name) ?? 0) + s.endpoints.length);
    }
    return [...perService.values()].filter((n) => n === endpoints).length;
  }

  async stop(): Promise<void> {
    await this.imports.stop();
    await this.slices.stop();
  }
}

/** The controller process of the cluster's leader cnf pod, if there is one. */
async function leaderControllerPid(cluster: string, kc: KubeConfig): Promise<string | undefined> {
  const leader = (await cnfPods(kc)).find((p) => p.metadata?.labels?.['fleetboard.io/leader'] === 'true');
  if (!leader) return undefined;
  const { stdout } = await run('ip', ['netns', 'pids', podNetnsName(cluster, leader.metadata?.uid ?? '')]);
  for (const pid of stdout.split('\n').filter(Boolean)) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('dist/controller/main.js')) return pid;
  }
  return undefined;
}

/**
 * Resident memory (MB) of each cluster's leader controller. The process is
 * looked up once (again only if it went), so that sampling every 250 ms
 * does not list pods in the apiservers being measured.
 */
class LeaderRss {
  private readonly pids = new Map<string, string>();

  async sample(cluster: string, kc: KubeConfig): Promise<number> {
    for (let attempt = 0; attempt < 2; attempt++) {
      let pid = this.pids.get(cluster);
      if (!pid) {
        pid = await leaderControllerPid(cluster, kc);
        if (!pid) return NaN;
        this.pids.set(cluster, pid);
      }
      const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
      if (status) return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
      this.pids.delete(cluster);
    }
    return NaN;
  }
}

async function measure(opts: Options) {
  await up({ clusters: 2, nodes: 1 });
  try {
    const hub = kubeConfigFor('hub');
    const token = await installHub(hub, { nodes: 1 });
    const kc = { cluster1: kubeConfigFor('cluster1'), cluster2: kubeConfigFor('cluster2') };
    for (const [c, k] of Object.entries(kc)) await joinMember(k, hub, c, token, 1);
    await createPauseDeployment(kc.cluster1, 'backend', opts.endpoints);
    await waitForReadyPods(kc.cluster1, 'default', 'app=backend', opts.endpoints, 180_000);
    await createClientPod(kc.cluster2, 'dig');
    const [client] = await waitForReadyPods(kc.cluster2, 'default', 'app=dig', 1);
    const clientNetns = podNetnsName('cluster2', (client as V1Pod).metadata?.uid ?? '');

    // Latency: one export at a time, each from creation to an A record in the other cluster.
    const latencyNames = Array.from({ length: opts.services }, (_, i) => `lat-${i}`);
    await createServices(kc.cluster1, latencyNames, 'backend');
    await waitFor(async () => ((await servicesWithEndpoints(kc.cluster1, 'kubernetes.io/service-name', opts.endpoints)) >= opts.services ? true : undefined), { what: 'the latency services\' endpoints', timeoutMs: 120_000, intervalMs: 500 });
    const latencies: number[] = [];
    for (const name of latencyNames) {
      const started = performance.now();
      await exportService(kc.cluster1, name);
      await waitFor(async () => ((await runIn(clientNetns, 'dig', ['+short', '+tries=1', '+time=1', `${name}.default.svc.clusterset.local`])).stdout.trim() ? true : undefined), { what: `${name} to resolve in cluster2`, timeoutMs: 30_000, intervalMs: 20 });
      latencies.push((performance.now() - started) / 1000);
    }

    // Scale: every export at once; converged when both members import all with every endpoint.
    const scaleNames = Array.from({ length: opts.scale }, (_, i) => `scale-${i}`);
    await createServices(kc.cluster1, scaleNames, 'backend');
    await waitFor(async () => ((await servicesWithEndpoints(kc.cluster1, 'kubernetes.io/service-name', opts.endpoints)) >= opts.services + opts.scale ? true : undefined), { what: 'the scale services\' endpoints', timeoutMs: 600_000, intervalMs: 1000 });
    const rss = { cluster1: 0, cluster2: 0 };
    const leaderRss = new LeaderRss();
    const sample = async () => {
      for (const c of ['cluster1', 'cluster2'] as const) rss[c] = Math.max(rss[c], await leaderRss.sample(c, kc[c]));
    };
    const seen = [new ImportsSeen(kc.cluster1), new ImportsSeen(kc.cluster2)];
    for (const w of seen) await w.start();
    const started = performance.now();
    let createdSeconds = 0;
    const creating = eachLimited(scaleNames, API_WRITE_CONCURRENCY, (name) => exportService(kc.cluster1, name)).then(() => (createdSeconds = (performance.now() - started) / 1000));
    try {
      await waitFor(
        async () => {
          await sample();
          return seen.every((w) => w.count('scale-', opts.endpoints) === opts.scale) ? true : undefined;
        },
        { what: `${opts.scale} services imported in both members`, timeoutMs: 600_000, intervalMs: 250 },
      );
    } finally {
      for (const w of seen) await w.stop();
    }
    await creating;
    const convergeSeconds = (performance.now() - started) / 1000;
    await sample();
    const round = (n: number) => Math.round(n * 1000) / 1000;
    const latency = { services: opts.services, p50Seconds: round(percentile(latencies, 0.5)), p99Seconds: round(percentile(latencies, 0.99)), maxSeconds: round(Math.max(...latencies)) };
    const scale = { services: opts.scale, endpointsPerService: opts.endpoints, exportsCreatedSeconds: round(createdSeconds), convergeSeconds: round(convergeSeconds), leaderControllerRssMB: { cluster1: round(rss.cluster1), cluster2: round(rss.cluster2) } };
    const pass = {
      latencyP50: latency.p50Seconds <= TARGETS.p50Seconds,
      latencyP99: latency.p99Seconds <= TARGETS.p99Seconds,
      converge: scale.convergeSeconds <= TARGETS.convergeSeconds,
      rss: Math.max(rss.cluster1, rss.cluster2) <= TARGETS.rssMB,
    };
    return { latency, scale, targets: TARGETS, pass };
  } finally {
    await down();
  }
}

async function main(): Promise<void> {
  const report = await measure(parseOptions(process.argv.slice(2)));
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
