import { readFileSync } from 'node:fs';
import fc from 'fast-check';

/**
 * Fuzzing with fast-check: every target runs a fixed budget of generated
 * inputs (FUZZ_RUNS, default below) from a seed that is printed, so any run
 * can be replayed (FUZZ_SEED). Failing cases worth keeping go into
 * fuzzSeeds.json, which every run replays first.
 */
export const DEFAULT_RUNS = 1000;

interface Replay {
  target: string;
  seed: number;
  path: string;
}

const seedsFile = new URL('../../../test/faults/fuzzSeeds.json', import.meta.url);
const replays = (JSON.parse(readFileSync(seedsFile, 'utf8')) as { replay: Replay[] }).replay;

export function fuzzBudget(scale = 1): number {
  const runs = Number(process.env.FUZZ_RUNS ?? DEFAULT_RUNS);
  return Math.max(1, Math.round((Number.isFinite(runs) ? runs : DEFAULT_RUNS) * scale));
}

/** Replays the kept cases of `target`, then runs `numRuns` fresh ones; returns the seed used, for the report. */
export async function fuzz<T>(target: string, property: fc.IProperty<T> | fc.IAsyncProperty<T>, numRuns: number): Promise<number> {
  for (const r of replays.filter((x) => x.target === target)) await fc.assert(property, { seed: r.seed, path: r.path, endOnFailure: true });
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() ^ (Math.random() * 0x7fffffff);
  try {
    await fc.assert(property, { seed, numRuns, endOnFailure: true });
  } catch (err) {
    (err as Error).message += `\nreplay: FUZZ_SEED=${seed}, or keep it in test/faults/fuzzSeeds.json as {"target": "${target}", "seed": ${seed}, "path": "<the path above>"}`;
    throw err;
  }
  return seed;
}

/** A few bytes overwritten and cut points: what a confused or hostile peer does to valid input. */
export interface Mutation {
  flips: [number, number][];
  cuts: number[];
}

export const mutations: fc.Arbitrary<Mutation> = fc.record({
  flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  cuts: fc.array(fc.nat(), { maxLength: 8 }),
});

/** Applies `m` to `original`: the chunks to feed, and whether any byte differs from the original. */
export function applyMutation(original: Buffer, m: Mutation): { chunks: Buffer[]; changed: boolean } {
  const bytes = Buffer.from(original);
  let changed = false;
  for (const [at, value] of m.flips) {
    if (bytes.length === 0) break;
    const i = at % bytes.length;
    changed ||= bytes[i] !== value;
    bytes[i] = value;
  }
  const points = [...new Set(m.cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(last, p));
    last = p;
  }
  return { chunks, changed };
}

/** Random bytes in random chunks. */
export const garbage: fc.Arbitrary<Buffer[]> = fc.array(
  fc.uint8Array({ maxLength: 96 }).map((a) => Buffer.from(a)),
  { maxLength: 24 },
);
