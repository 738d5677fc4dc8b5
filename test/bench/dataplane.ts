import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { down, kubeConfigFor, up } from '../../hack/testbed/testbed.js';
import { podNetnsName } from '../../hack/testbed/plan.js';
import { decodePodNetwork } from '../../controller/ipam/annotations.js';
import { createClientPod, waitForReadyPods } from '../harness/cluster.js';
import { installHub, joinMember } from '../harness/clusterset.js';
import { run } from '../harness/run.js';
import { planTestbed } from '../../hack/testbed/plan.js';
import { buildBareChain } from './bareChain.js';
import { buildTestbedChain } from './testbedChain.js';
import { compare, summarize, type Comparison, type PathSummary } from './compare.js';
import { BenchError, measurePath, type PathMeasurement, type PathOptions } from './measure.js';

/**
 * Data-plane benchmark: `npm run bench:dataplane [-- --seconds S --rounds R]`
 * prints one JSON object: iperf3 TCP throughput and ping RTT from a pod in
 * cluster1 to a pod in cluster2 through the hub (pod → gateway ⇒ hub ⇒
 * gateway → pod: two WireGuard hops), the same over a bare wireguard-go chain
 * of two tunnels in fresh namespaces, and their ratio. Each member has one
 * node, so both pods sit on their cluster's gateway. A third path, the same
 * two bare tunnels laid across the testbed's NAT routers and wan, splits the
 * gap between the simulated internet and the pod network FleetBoard runs on.
 * The paths take turns for R rounds, in rotating order, and are compared by
 * their medians, so a burst from the testbed's control planes cannot favour one.
 */
const HOPS = 2;
const PATHS = ['reference', 'referenceAcrossTestbed', 'fleetboard'] as const;
type PathName = (typeof PATHS)[number];

interface PathReport extends PathSummary {
  hops: number;
  rounds: PathMeasurement[];
}

export interface DataplaneReport {
  /** `wireguard-go --version` of the binary both paths run (found on PATH, as in a cnf pod). */
  wireguardGo: string;
  reference: PathReport & { kind: 'bare-wireguard-go-chain' };
  referenceAcrossTestbed: PathReport & { kind: 'bare-wireguard-go-chain-across-testbed-networks' };
  fleetboard: PathReport & { kind: 'pod-to-pod-through-hub' };
  /** FleetBoard against the bare chain: the target. */
  ratio: Comparison;
  /** FleetBoard against the same tunnels over the same underlay: what the pod network and FleetBoard add. */
  ratioAcrossTestbed: Comparison;
}

interface Options {
  seconds: number;
  rounds: number;
}

function wholeFlag(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new BenchError('BAD_OPTION', `--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return value;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({ args, options: { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' } } });
  return { seconds: wholeFlag('seconds', values.seconds, 1, 3600), rounds: wholeFlag('rounds', values.rounds, 1, 50) };
}

type Ends = Pick<PathOptions, 'clientNetns' | 'serverNetns' | 'serverIp'>;

/** A testbed with a hub and two one-node members, a pod in each; the bare chain beside it on the same machine. */
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
    const chain = await buildBareChain(HOPS, { log });
    const across = await buildTestbedChain(planTestbed({ clusters: 2, nodes: 1 }), { log }).catch(async (err: unknown) => {
      await chain.destroy();
      throw err;
    });
    try {
      const paths: Record<PathName, Ends> = {
        reference: { clientNetns: chain.first, serverNetns: chain.last, serverIp: chain.lastIp },
        referenceAcrossTestbed: { clientNetns: across.first, serverNetns: across.last, serverIp: across.lastIp },
        fleetboard: { clientNetns: client.netns, serverNetns: server.netns, serverIp: server.ip },
      };
      const rounds: Record<PathName, PathMeasurement[]> = { reference: [], referenceAcrossTestbed: [], fleetboard: [] };
      for (let r = 0; r < opts.rounds; r++) {
        // Each path goes first, second and last in turn.
        const order = PATHS.map((_, i) => PATHS[(i + r) % PATHS.length] ?? 'fleetboard');
        for (const which of order) rounds[which].push(await measurePath({ ...paths[which], seconds: opts.seconds }));
      }
      const reference = { kind: 'bare-wireguard-go-chain' as const, hops: HOPS, ...summarize(rounds.reference), rounds: rounds.reference };
      const referenceAcrossTestbed = { kind: 'bare-wireguard-go-chain-across-testbed-networks' as const, hops: HOPS, ...summarize(rounds.referenceAcrossTestbed), rounds: rounds.referenceAcrossTestbed };
      const fleetboard = { kind: 'pod-to-pod-through-hub' as const, hops: HOPS, ...summarize(rounds.fleetboard), rounds: rounds.fleetboard };
      const wireguardGo = (await run('wireguard-go', ['--version'])).stdout.split('\n')[0] ?? '';
      return { wireguardGo, reference, referenceAcrossTestbed, fleetboard, ratio: compare(reference, fleetboard, HOPS), ratioAcrossTestbed: compare(referenceAcrossTestbed, fleetboard, HOPS) };
    } finally {
      await across.destroy().finally(() => chain.destroy());
    }
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
