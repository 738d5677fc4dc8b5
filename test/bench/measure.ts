import { execFile, spawn } from 'node:child_process';
import { runIn } from '../harness/run.js';
import { waitFor } from '../harness/wait.js';

/**
 * Data-plane measurements between two existing network namespaces. They know
 * nothing of how the path was built, so the bare WireGuard chain and the
 * pod→pod path through FleetBoard are measured by the same code.
 */

export type BenchErrorCode =
  /** An option out of range, refused before anything runs. */
  | 'BAD_OPTION'
  /** A measuring tool exited with an error or did not finish in time. */
  | 'COMMAND_FAILED'
  /** The iperf3 server did not listen before its deadline. */
  | 'NOT_LISTENING'
  /** A tool's output lacked the numbers we read from it. */
  | 'UNPARSABLE';

export class BenchError extends Error {
  override name = 'BenchError';
  constructor(
    readonly code: BenchErrorCode,
    message: string,
    /** What the tool printed on failure, kept apart for reports. */
    readonly stderr = '',
    options?: ErrorOptions,
  ) {
    super(stderr ? `${message}: ${stderr.trim()}` : message, options);
  }
}

interface Finished {
  stdout: string;
  stderr: string;
  /** Why the command failed (exit code, deadline, or spawn error); undefined when it exited 0. */
  failure: string | undefined;
}

/** Runs a command in a namespace and keeps stdout even when it fails (iperf3 -J reports errors there). */
function finishIn(netns: string, file: string, args: string[], timeoutMs: number): Promise<Finished> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', netns, file, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const failure = !err ? undefined : err.killed ? `killed after ${timeoutMs} ms` : typeof err.code === 'number' ? `exit code ${err.code}` : err.message;
      resolve({ stdout, stderr, failure });
    });
  });
}

function wholeNumber(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new BenchError('BAD_OPTION', `${name} must be a whole number from ${min} to ${max}, got ${value}`);
  return value;
}

export interface Iperf3Options {
  serverNetns: string;
  clientNetns: string;
  /** The server binds to it, so it must be the address under test, not just any local one. */
  serverIp: string;
  seconds: number;
  port?: number;
  listenTimeoutMs?: number;
}

export interface Throughput {
  /** What the receiver counted, so packets lost in the path do not count. */
  bitsPerSecond: number;
  /** TCP retransmits seen by the sender; absent where the platform does not report them. */
  retransmits?: number;
}

/** One TCP test from the client namespace to a one-off iperf3 server, which is killed whatever happens. */
export async function iperf3Throughput(opts: Iperf3Options): Promise<Throughput> {
  const seconds = wholeNumber('iperf3 seconds', opts.seconds, 1, 3600);
  const port = String(wholeNumber('iperf3 port', opts.port ?? 5201, 1, 65535));
  const where = `${opts.serverIp}:${port} in ${opts.serverNetns}`;
  const server = spawn('ip', ['netns', 'exec', opts.serverNetns, 'iperf3', '-s', '-1', '-B', opts.serverIp, '-p', port], { stdio: ['ignore', 'pipe', 'pipe'] });
  let serverOutput = '';
  const collect = (chunk: Buffer) => {
    serverOutput += chunk.toString('utf8');
  };
  server.stdout.on('data', collect);
  server.stderr.on('data', collect);
  // A failed spawn has no pid and may never emit 'exit'.
  const running = () => server.pid !== undefined && server.exitCode === null && server.signalCode === null;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  server.on('error', (err) => {
    serverOutput += err.message;
  });
  try {
    const state = await waitFor(
      async () => {
        if (!running()) return 'exited';
        const { stdout } = await runIn(opts.serverNetns, 'ss', ['-Hltn', 'src', `${opts.serverIp}:${port}`]);
        return stdout.trim() ? 'listening' : undefined;
      },
      { what: `iperf3 server listening on ${where}`, timeoutMs: opts.listenTimeoutMs ?? 10_000, intervalMs: 50 },
    ).catch((err: unknown) => {
      throw new BenchError('NOT_LISTENING', `iperf3 server did not listen on ${where}`, serverOutput, { cause: err });
    });
    if (state === 'exited') throw new BenchError('COMMAND_FAILED', `iperf3 server on ${where} exited before listening`, serverOutput);
    const client = await finishIn(opts.clientNetns, 'iperf3', ['-c', opts.serverIp, '-p', port, '-J', '-t', String(seconds)], seconds * 1000 + 30_000);
    return parseIperf3Report(client, `iperf3 from ${opts.clientNetns} to ${where}`);
  } finally {
    if (running()) {
      server.kill('SIGKILL');
      await exited;
    }
  }
}

function parseIperf3Report(run: Finished, what: string): Throughput {
  let report: unknown;
  try {
    report = JSON.parse(run.stdout);
  } catch (err) {
    if (run.failure) throw new BenchError('COMMAND_FAILED', `${what} failed (${run.failure})`, run.stderr);
    throw new BenchError('UNPARSABLE', `${what} printed no JSON report`, run.stderr, { cause: err });
  }
  const r = (typeof report === 'object' && report !== null ? report : {}) as { error?: unknown; end?: { sum_received?: { bits_per_second?: unknown }; sum_sent?: { retransmits?: unknown } } };
  if (run.failure || typeof r.error === 'string') {
    const said = [typeof r.error === 'string' ? r.error : '', run.stderr].filter(Boolean).join('\n');
    throw new BenchError('COMMAND_FAILED', `${what} failed (${run.failure ?? 'error in its report'})`, said);
  }
  const bitsPerSecond = r.end?.sum_received?.bits_per_second;
  if (typeof bitsPerSecond !== 'number') throw new BenchError('UNPARSABLE', `${what}: the report has no end.sum_received.bits_per_second`, run.stderr);
  const retransmits = r.end?.sum_sent?.retransmits;
  return typeof retransmits === 'number' ? { bitsPerSecond, retransmits } : { bitsPerSecond };
}

export interface PingOptions {
  netns: string;
  target: string;
  /** Defaults to 20 probes. */
  count?: number;
  /** Seconds between probes; defaults to 0.2, short enough to keep a run quick, long enough not to load the path. */
  intervalS?: number;
  /** Source address, for namespaces with more than one. */
  source?: string;
}

export interface RttStats {
  minMs: number;
  avgMs: number;
  maxMs: number;
  mdevMs: number;
  /** Fraction of probes without a reply, 0 to 1. */
  loss: number;
}

export async function pingRtt(opts: PingOptions): Promise<RttStats> {
  const count = wholeNumber('ping count', opts.count ?? 20, 1, 100_000);
  const intervalS = opts.intervalS ?? 0.2;
  if (!(intervalS >= 0.001 && intervalS <= 60)) throw new BenchError('BAD_OPTION', `ping interval must be 0.001 to 60 seconds, got ${intervalS}`);
  const args = ['-n', '-q', '-c', String(count), '-i', String(intervalS), ...(opts.source ? ['-I', opts.source] : []), opts.target];
  const what = `ping from ${opts.netns} to ${opts.target}`;
  const run = await finishIn(opts.netns, 'ping', args, count * intervalS * 1000 + 15_000);
  // ping exits non-zero when no reply came at all; partial loss is reported in the numbers.
  if (run.failure) throw new BenchError('COMMAND_FAILED', `${what} failed (${run.failure})`, [run.stdout, run.stderr].join('\n').trim());
  return parsePingSummary(run.stdout, what);
}

/** Reads the two summary lines of `ping -q`: counts, then `rtt min/avg/max/mdev = a/b/c/d ms`. */
function parsePingSummary(text: string, what: string): RttStats {
  const counts = /(\d+) packets transmitted, (\d+) received/.exec(text);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(text);
  if (!counts || !rtt) throw new BenchError('UNPARSABLE', `${what}: no summary in its output`, text);
  const [transmitted, received] = [Number(counts[1]), Number(counts[2])];
  const [minMs, avgMs, maxMs, mdevMs] = rtt.slice(1, 5).map(Number) as [number, number, number, number];
  return { minMs, avgMs, maxMs, mdevMs, loss: transmitted > 0 ? (transmitted - received) / transmitted : 1 };
}

export interface PathOptions {
  clientNetns: string;
  serverNetns: string;
  serverIp: string;
  seconds: number;
  pingCount?: number;
}

export interface PathMeasurement {
  throughputBitsPerSecond: number;
  retransmits?: number;
  rtt: RttStats;
}

/** RTT of the idle path first, so the throughput test's queues do not inflate it. */
export async function measurePath(opts: PathOptions): Promise<PathMeasurement> {
  const rtt = await pingRtt({ netns: opts.clientNetns, target: opts.serverIp, ...(opts.pingCount === undefined ? {} : { count: opts.pingCount }) });
  const { bitsPerSecond, retransmits } = await iperf3Throughput(opts);
  return retransmits === undefined ? { throughputBitsPerSecond: bitsPerSecond, rtt } : { throughputBitsPerSecond: bitsPerSecond, retransmits, rtt };
}
