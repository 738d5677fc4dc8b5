import { BenchError, type PathMeasurement } from './measure.js';

export interface Comparison {
  /** FleetBoard's throughput as a fraction of the reference's. */
  throughputRatio: number;
  /** Average RTT FleetBoard adds over the reference, spread over the hops. */
  addedRttMsPerHop: number;
}

/** How FleetBoard's path compares with the reference over the same number of tunnel hops. Pure. */
export function compare(reference: PathMeasurement, fleetboard: PathMeasurement, hops: number): Comparison {
  if (!Number.isInteger(hops) || hops < 1) throw new BenchError('BAD_OPTION', `hops must be a whole number of at least 1, got ${hops}`);
  if (!(reference.throughputBitsPerSecond > 0)) throw new BenchError('BAD_OPTION', `the reference throughput must be above 0 to compare against it, got ${reference.throughputBitsPerSecond}`);
  return {
    throughputRatio: fleetboard.throughputBitsPerSecond / reference.throughputBitsPerSecond,
    addedRttMsPerHop: (fleetboard.rtt.avgMs - reference.rtt.avgMs) / hops,
  };
}
