import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { buildBareChain, MAX_HOPS } from './bareChain.js';
import { BenchError, measurePath, type PathMeasurement } from './measure.js';

/**
 * Data-plane benchmark: `node dist/test/bench/dataplane.js [--hops N] [--seconds S]`
 * prints one JSON object. Today it measures the reference, a bare wireguard-go
 * chain of N tunnels; the FleetBoard pod→pod path and the ratio of the two
 * join it as `fleetboard` and `ratio`.
 */

export interface ReferenceReport extends PathMeasurement {
  kind: 'bare-wireguard-go-chain';
  hops: number;
}

export interface Comparison {
  /** FleetBoard's throughput as a fraction of the reference's. */
  throughputRatio: number;
  /** Average RTT FleetBoard adds over the reference, spread over the hops. */
  addedRttMsPerHop: number;
}

export interface DataplaneReport {
  reference: ReferenceReport;
  fleetboard?: PathMeasurement;
  ratio?: Comparison;
}

export function compare(reference: PathMeasurement, fleetboard: PathMeasurement, hops: number): Comparison {
  if (!Number.isInteger(hops) || hops < 1) throw new BenchError('BAD_OPTION', `hops must be a whole number of at least 1, got ${hops}`);
  if (!(reference.throughputBitsPerSecond > 0)) throw new BenchError('BAD_OPTION', `the reference throughput must be above 0 to compare against it, got ${reference.throughputBitsPerSecond}`);
  return {
    throughputRatio: fleetboard.throughputBitsPerSecond / reference.throughputBitsPerSecond,
    addedRttMsPerHop: (fleetboard.rtt.avgMs - reference.rtt.avgMs) / hops,
  };
}

interface Options {
  hops: number;
  seconds: number;
}

function wholeFlag(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new BenchError('BAD_OPTION', `--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return value;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({ args, options: { hops: { type: 'string', default: '2' }, seconds: { type: 'string', default: '5' } } });
  return { hops: wholeFlag('hops', values.hops, 1, MAX_HOPS), seconds: wholeFlag('seconds', values.seconds, 1, 3600) };
}

async function measureReference(opts: Options, log: Logger): Promise<ReferenceReport> {
  const chain = await buildBareChain(opts.hops, { log });
  try {
    const measured = await measurePath({ clientNetns: chain.first, serverNetns: chain.last, serverIp: chain.lastIp, seconds: opts.seconds });
    return { kind: 'bare-wireguard-go-chain', hops: opts.hops, ...measured };
  } finally {
    await chain.destroy();
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  // stdout carries only the report, so logs go to stderr.
  const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' }, pino.destination(2));
  const report: DataplaneReport = { reference: await measureReference(opts, log) };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

// Run only as the entry point: the tests import compare() from here.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
