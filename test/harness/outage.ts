import { spawn } from 'node:child_process';
import { HarnessError } from './errors.js';
import { iperf3Throughput } from '../bench/measure.js';
import { waitFor } from './wait.js';

/** The longest silence between consecutive replies (seconds), over replies at or after `from`. Pure. */
export function longestGap(replyTimes: readonly number[], from = 0): number {
  let longest = 0;
  const times = replyTimes.filter((t) => t >= from);
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, (times[i] ?? 0) - (times[i - 1] ?? 0));
  return longest;
}

/** Reply times (seconds since the epoch) from `ping -D` output. Pure. */
export function replyTimes(lines: readonly string[]): number[] {
  const times: number[] = [];
  for (const line of lines) {
    const m = /^\[(\d+\.\d+)\] \d+ bytes from /.exec(line);
    if (m) times.push(Number(m[1]));
  }
  return times;
}

/** A ping every `intervalS` from a netns, recording when replies come back, to measure an outage. */
export interface ReachabilityProbe {
  /** Reply times so far, seconds since the epoch. */
  replies(): number[];
  stop(): Promise<number[]>;
}

export function probeReachability(netns: string, target: string, intervalS = 0.1): ReachabilityProbe {
  const child = spawn('ip', ['netns', 'exec', netns, 'ping', '-D', '-n', '-i', String(intervalS), '-W', '1', target], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  // 'close', not 'exit': only then has all of stdout been read.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    replies: () => replyTimes(lines),
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
      const times = replyTimes(lines);
      if (times.length === 0) throw new HarnessError('COMMAND_FAILED', `ping ${target} from ${netns} got no reply at all: ${stderr.trim()}`);
      return times;
    },
  };
}

export interface OutageTarget {
  /** Where the pings and the transfer start: a pod's netns. */
  sourceNetns: string;
  targetNetns: string;
  /** The target pod's global address. */
  targetIp: string;
}

/**
 * Pings `targetIp` every 0.1 s while a TCP transfer runs and `disrupt` happens;
 * returns the longest silence (the outage, in seconds) and the transfer's rate.
 * The transfer must finish: a connection that breaks fails the measurement.
 */
export async function outageDuring(target: OutageTarget, disrupt: () => Promise<void>, transferSeconds = 12): Promise<{ outage: number; bitsPerSecond: number }> {
  const probe = probeReachability(target.sourceNetns, target.targetIp);
  try {
    await waitFor(() => Promise.resolve(probe.replies().length >= 10 ? true : undefined), { what: 'steady replies before the disruption', timeoutMs: 20_000 });
    const transfer = iperf3Throughput({ serverNetns: target.targetNetns, clientNetns: target.sourceNetns, serverIp: target.targetIp, seconds: transferSeconds });
    await waitFor(() => Promise.resolve(probe.replies().length >= 20 ? true : undefined), { what: 'the transfer under way', timeoutMs: 20_000 });
    const at = Date.now() / 1000;
    await disrupt();
    await waitFor(() => Promise.resolve(probe.replies().filter((t) => t > at + 1).length >= 20 ? true : undefined), { what: 'replies flowing again', timeoutMs: 60_000, intervalMs: 200 });
    const { bitsPerSecond } = await transfer;
    return { outage: longestGap(await probe.stop(), at - 1), bitsPerSecond };
  } finally {
    await probe.stop().catch(() => undefined);
  }
}
