/**
 * The wire protocol between `fleetboard-bench client` and `server`, over TCP.
 * The client's first byte picks the test: LATENCY, then fixed-size pings the
 * server echoes; THROUGHPUT, then data until the client ends its side, after
 * which the server answers the byte count it received (8 bytes, big endian).
 */
export const LATENCY = 0x4c; // 'L'
export const THROUGHPUT = 0x54; // 'T'
export const PING_SIZE = 64;
export const DEFAULT_PORT = 5201;

/** What the client reports; it fits a pod's termination message (4 KiB). */
export interface BenchResult {
  target: string;
  /** Bits per second the server received over the whole transfer. */
  bitsPerSecond: number;
  seconds: number;
  rttMs: { min: number; p50: number; p99: number };
  pings: number;
}

/** The q-quantile of sorted values (nearest rank). Pure. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}
