import type { V1ObjectMeta, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import type { Pod } from '../objects/core.js';
import { DEFAULT_PORT, type BenchResult } from '../benchagent/protocol.js';
import { bytes, table } from './table.js';

/**
 * What `fleetctl benchmark` runs, decided without I/O: a fleetboard-bench
 * server in every member, and one client pod per ordered pair (and per member
 * to itself, the reference without a cluster-to-cluster tunnel).
 */
type PlannedPod = V1Pod & { metadata: V1ObjectMeta & { name: string }; spec: V1PodSpec };

const LABELS = { 'app.kubernetes.io/name': 'fleetboard-benchmark' };
const RESULT_FILE = '/dev/termination-log';

export function benchServerPod(namespace: string, image: string): PlannedPod {
  return {
    metadata: { name: 'server', namespace, labels: { ...LABELS, 'app.kubernetes.io/component': 'server' } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'bench', image, command: ['fleetboard-bench', 'server', '--port', String(DEFAULT_PORT)], ports: [{ containerPort: DEFAULT_PORT }], readinessProbe: { tcpSocket: { port: DEFAULT_PORT }, periodSeconds: 1 } }],
    },
  };
}

export function benchClientPod(namespace: string, name: string, image: string, target: string, seconds: number): PlannedPod {
  return {
    metadata: { name, namespace, labels: { ...LABELS, 'app.kubernetes.io/component': 'client' } },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'bench',
          image,
          command: ['fleetboard-bench', 'client', '--target', target, '--port', String(DEFAULT_PORT), '--seconds', String(seconds), '--result-file', RESULT_FILE],
          terminationMessagePath: RESULT_FILE,
        },
      ],
    },
  };
}

export interface PairResult {
  from: string;
  to: string;
  result: BenchResult | undefined;
  /** Why there is no result. */
  error?: string;
}

/** The client's result from its pod, once it ended; an error text when it failed or wrote no result. */
export function clientOutcome(pod: Pod): { result: BenchResult } | { error: string } | undefined {
  const phase = pod.status.phase;
  if (phase !== 'Succeeded' && phase !== 'Failed') return undefined;
  const terminated = pod.status.containerStatuses[0]?.state?.terminated;
  if (phase === 'Failed') return { error: `the client failed (exit ${terminated?.exitCode ?? '?'}): ${terminated?.message ?? pod.status.message ?? 'no message'}` };
  try {
    const result = JSON.parse(terminated?.message ?? '') as BenchResult;
    if (typeof result.bitsPerSecond !== 'number') throw new Error('no bitsPerSecond');
    return { result };
  } catch {
    return { error: 'the client wrote no result to its termination message' };
  }
}

const rate = (bps: number) => (bps >= 1e9 ? `${(bps / 1e9).toFixed(2)} Gbit/s` : `${(bps / 1e6).toFixed(0)} Mbit/s`);

export function renderBenchmark(results: PairResult[]): string {
  const rows = results.map((r) =>
    r.result
      ? [r.from, r.to === r.from ? `${r.to} (same cluster)` : r.to, rate(r.result.bitsPerSecond), `${r.result.rttMs.p50} ms`, `${r.result.rttMs.p99} ms`, bytes(Math.round((r.result.bitsPerSecond / 8) * r.result.seconds))]
      : [r.from, r.to, 'failed', '-', '-', r.error ?? ''],
  );
  return `${table(['FROM', 'TO', 'THROUGHPUT', 'RTT P50', 'RTT P99', 'SENT'], rows)}\n\nTCP from a pod in FROM to a pod's global address in TO; RTT: 64-byte round trips. The same-cluster row is the reference without the hub.\n`;
}
