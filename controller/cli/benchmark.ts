import { CoreV1Api } from '@kubernetes/client-node';
import { decodeObject } from '../objects/decode.js';
import { PodKind } from '../objects/core.js';
import { benchClientPod, benchServerPod, clientOutcome, type PairResult } from './benchmarkPlan.js';
import { pollUntil } from './checks.js';
import type { MemberInfo } from './memberInfo.js';
import { createRunNamespace, readyPodAddress, removeRunNamespace, runNamespaceName } from './runNamespace.js';

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
  const namespace = runNamespaceName('benchmark');
  opts.progress(`creating namespace ${namespace} with a fleetboard-bench server in ${members.map((m) => m.clusterID).join(', ')}`);
  try {
    const servers = new Map<string, string>();
    await Promise.all(
      members.map(async (m) => {
        await createRunNamespace(m, namespace);
        await m.kc.makeApiClient(CoreV1Api).createNamespacedPod({ namespace, body: benchServerPod(namespace, m.image) });
        const address = await readyPodAddress(m, namespace, 'server', Date.now() + opts.timeoutMs);
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
    await removeRunNamespace(members, namespace, opts.progress);
  }
}

async function measurePair(from: MemberInfo, to: string, target: string, namespace: string, opts: BenchmarkOptions): Promise<PairResult> {
  const core = from.kc.makeApiClient(CoreV1Api);
  const pod = benchClientPod(namespace, `client-${to}`, from.image, target, opts.seconds);
  await core.createNamespacedPod({ namespace, body: pod });
  const outcome = await pollUntil(async () => clientOutcome(decodeObject(PodKind, await core.readNamespacedPod({ name: pod.metadata.name, namespace }))), Date.now() + opts.timeoutMs);
  if (!outcome) return { from: from.clusterID, to, result: undefined, error: `the client pod did not finish within ${opts.timeoutMs / 1000} s` };
  return 'result' in outcome ? { from: from.clusterID, to, result: outcome.result } : { from: from.clusterID, to, result: undefined, error: outcome.error };
}
