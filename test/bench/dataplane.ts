import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { down, kubeConfigFor, up } from '../../hack/testbed/testbed.js';
import { podNetnsName } from '../../hack/testbed/plan.js';
import { decodePodNetwork } from '../../controller/ipam/annotations.js';
import { createClientPod, waitForReadyPods } from '../harness/cluster.js';
import { installHub, joinMember } from '../harness/clusterset.js';
import { buildBareChain } from './bareChain.js';
import { compare, type Comparison } from './compare.js';
import { BenchError, measurePath, type PathMeasurement } from './measure.js';

/**
 * Data-plane benchmark: `npm run bench:dataplane [-- --seconds S]` prints one
 * JSON object: iperf3 TCP throughput and ping RTT from a pod in cluster1 to a
 * pod in cluster2 through the hub (pod → gateway ⇒ hub ⇒ gateway → pod: two
 * WireGuard hops), the same measured over a bare wireguard-go chain of two
 * tunnels in fresh namespaces, and their ratio. Each member has one node, so
 * both pods sit on their cluster's gateway.
 */
const HOPS = 2;

export interface DataplaneReport {
  reference: ReferenceReport;
  fleetboard: PathMeasurement & { kind: 'pod-to-pod-through-hub'; hops: number };
  ratio: Comparison;
}

export interface ReferenceReport extends PathMeasurement {
  kind: 'bare-wireguard-go-chain';
  hops: number;
}

interface Options {
  seconds: number;
}

function wholeFlag(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new BenchError('BAD_OPTION', `--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return value;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({ args, options: { seconds: { type: 'string', default: '5' } } });
  return { seconds: wholeFlag('seconds', values.seconds, 1, 3600) };
}

async function measureReference(opts: Options, log: Logger): Promise<ReferenceReport> {
  const chain = await buildBareChain(HOPS, { log });
  try {
    const measured = await measurePath({ clientNetns: chain.first, serverNetns: chain.last, serverIp: chain.lastIp, seconds: opts.seconds });
    return { kind: 'bare-wireguard-go-chain', hops: HOPS, ...measured };
  } finally {
    await chain.destroy();
  }
}

/**
 * A testbed with a hub and two one-node members, a pod in each. The reference
 * is measured while the testbed idles too, so both paths share the machine
 * with the same control planes; then cluster1 → cluster2.
 */
async function measureBoth(opts: Options, log: Logger): Promise<DataplaneReport> {
  await up({ clusters: 2, nodes: 1 });
  try {
    const hub = kubeConfigFor('hub');
    const token = await installHub(hub, { nodes: 1 });
    const ends: { netns: string; ip: string }[] = [];
    for (const c of ['cluster1', 'cluster2']) {
      const kc = kubeConfigFor(c);
      await joinMember(kc, hub, c, token, 1);
      await createClientPod(kc, 'bench');
      const [pod] = await waitForReadyPods(kc, 'default', 'app=bench', 1);
      ends.push({ netns: podNetnsName(c, pod?.metadata?.uid ?? ''), ip: decodePodNetwork(pod?.metadata?.annotations)?.ipAddress ?? '' });
    }
    const [client, server] = ends as [{ netns: string; ip: string }, { netns: string; ip: string }];
    const reference = await measureReference(opts, log);
    const measured = await measurePath({ clientNetns: client.netns, serverNetns: server.netns, serverIp: server.ip, seconds: opts.seconds });
    const fleetboard = { kind: 'pod-to-pod-through-hub' as const, hops: HOPS, ...measured };
    return { reference, fleetboard, ratio: compare(reference, fleetboard, HOPS) };
  } finally {
    await down();
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  // stdout carries only the report, so logs go to stderr.
  const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' }, pino.destination(2));
  const report = await measureBoth(opts, log);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
