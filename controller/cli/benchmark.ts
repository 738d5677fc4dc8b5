import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { decodePodNetwork } from '../ipam/annotations.js';
import { apiErrorDetail, isNotFound } from '../kube/apiErrors.js';
import { benchClientPod, benchServerPod, clientOutcome, type PairResult } from './benchmarkPlan.js';
import { pollUntil } from './checks.js';
import type { MemberInfo } from './memberInfo.js';

export interface BenchmarkOptions {
  seconds: number;
  /** Also measure each member to itself. */
  reference: boolean;
  timeoutMs: number;
  progress: (line: string) => void;
}

/**
 * `fleetctl benchmark`: TCP throughput and round-trip time from a pod in each
 * member to a pod in each other member, one pair at a time so that they do
 * not share the tunnels.
 */
export async function benchmark(members: MemberInfo[], opts: BenchmarkOptions): Promise<PairResult[]> {
  const namespace = `fleetboard-benchmark-${randomBytes(3).toString('hex')}`;
  opts.progress(`creating namespace ${namespace} with a fleetboard-bench server in ${members.map((m) => m.clusterID).join(', ')}`);
  try {
    const servers = new Map<string, string>();
    await Promise.all(
      members.map(async (m) => {
        const core = m.kc.makeApiClient(CoreV1Api);
        await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'app.kubernetes.io/managed-by': 'fleetctl' } } } });
        await core.createNamespacedPod({ namespace, body: benchServerPod(namespace, m.image) });
        const address = await pollUntil(async () => {
          const pod = await core.readNamespacedPod({ name: 'server', namespace });
          const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
          return ready ? decodePodNetwork(pod.metadata?.annotations)?.ipAddress : undefined;
        }, Date.now() + opts.timeoutMs);
        if (address) servers.set(m.clusterID, address);
      }),
    );
    const results: PairResult[] = [];
    for (const from of members) {
      for (const to of members) {
        if (from === to && !opts.reference) continue;
        const target = servers.get(to.clusterID);
        if (!target) {
          results.push({ from: from.clusterID, to: to.clusterID, result: undefined, error: `the server pod in ${to.clusterID} did not become ready with a global address` });
          continue;
        }
        opts.progress(`${from.clusterID} → ${to.clusterID} (${target}) for ${opts.seconds} s`);
        results.push(await measurePair(from, to.clusterID, target, namespace, opts));
      }
    }
    return results;
  } finally {
    opts.progress(`removing namespace ${namespace}`);
    await Promise.all(
      members.map((m) =>
        m.kc
          .makeApiClient(CoreV1Api)
          .deleteNamespace({ name: namespace })
          .catch((err: unknown) => {
            if (!isNotFound(err)) opts.progress(`could not remove namespace ${namespace} in ${m.clusterID}: ${apiErrorDetail(err)}`);
          }),
      ),
    );
  }
}

async function measurePair(from: MemberInfo, to: string, target: string, namespace: string, opts: BenchmarkOptions): Promise<PairResult> {
  const core = from.kc.makeApiClient(CoreV1Api);
  const pod = benchClientPod(namespace, `client-${to}`, from.image, target, opts.seconds);
  await core.createNamespacedPod({ namespace, body: pod });
  const outcome = await pollUntil(async () => clientOutcome(await core.readNamespacedPod({ name: pod.metadata.name, namespace })), Date.now() + opts.timeoutMs);
  if (!outcome) return { from: from.clusterID, to, result: undefined, error: `the client pod did not finish within ${opts.timeoutMs / 1000} s` };
  return 'result' in outcome ? { from: from.clusterID, to, result: outcome.result } : { from: from.clusterID, to, result: undefined, error: outcome.error };
}
