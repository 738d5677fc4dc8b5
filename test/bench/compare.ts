import { BenchError, type PathMeasurement } from './measure.js';

/** A path over several rounds: the median of each figure, so one round disturbed by the rest of the machine does not decide. */
export interface PathSummary {
  throughputBitsPerSecond: number;
  rttAvgMs: number;
}

export interface Comparison {
  /** FleetBoard's throughput as a fraction of the reference's. */
  throughputRatio: number;
  /** Average RTT FleetBoard adds over the reference, spread over the hops. */
  addedRttMsPerHop: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new BenchError('BAD_OPTION', 'the median of no values is undefined');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Pure. */
export function summarize(rounds: readonly PathMeasurement[]): PathSummary {
  return { throughputBitsPerSecond: median(rounds.map((r) => r.throughputBitsPerSecond)), rttAvgMs: median(rounds.map((r) => r.rtt.avgMs)) };
}

/** How FleetBoard's path compares with the reference over the same number of tunnel hops. Pure. */
export function compare(reference: PathSummary, fleetboard: PathSummary, hops: number): Comparison {
  if (!Number.isInteger(hops) || hops < 1) throw new BenchError('BAD_OPTION', `hops must be a whole number of at least 1, got ${hops}`);
  if (!(reference.throughputBitsPerSecond > 0)) throw new BenchError('BAD_OPTION', `the reference throughput must be above 0 to compare against it, got ${reference.throughputBitsPerSecond}`);
  return {
    throughputRatio: fleetboard.throughputBitsPerSecond / reference.throughputBitsPerSecond,
    addedRttMsPerHop: (fleetboard.rttAvgMs - reference.rttAvgMs) / hops,
  };
}
