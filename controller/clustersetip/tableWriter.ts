import { renderLbTable, type StickyClient, type VirtualPort } from './lbRules.js';

/** Runs an nft script; with `check`, only checks it (nft --check) and changes nothing. */
export type Nft = (script: string, check: boolean) => Promise<unknown>;

/** A port nft would not take, with what nft said. */
export interface RefusedPort {
  port: VirtualPort;
  reason: string;
}

/**
 * Writes the table for `ports` whole. Should nft refuse it, finds the ports
 * it refuses by halves, with checks that change nothing, and writes the
 * table without them: a service nft cannot take never keeps the others from
 * being served. Returns the ports left out. Throws when nft refuses even an
 * empty table: then nft or the kernel is the trouble, not a service.
 */
export async function writeLbTable(ports: readonly VirtualPort[], clients: ReadonlyMap<string, readonly StickyClient[]>, nft: Nft): Promise<RefusedPort[]> {
  try {
    await nft(renderLbTable(ports, clients), false);
    return [];
  } catch (err) {
    const refusal = (subset: readonly VirtualPort[]) => nft(renderLbTable(subset), true).then(() => undefined, (e: unknown) => (e as Error).message);
    if ((await refusal([])) !== undefined) throw err;
    const search = async (subset: readonly VirtualPort[]): Promise<RefusedPort[]> => {
      const reason = await refusal(subset);
      if (reason === undefined) return [];
      const [only] = subset;
      if (subset.length === 1 && only) return [{ port: only, reason }];
      const half = subset.length >> 1;
      return [...(await search(subset.slice(0, half))), ...(await search(subset.slice(half)))];
    };
    const refused = await search(ports);
    // Refused only together (none on its own): no one port is to blame.
    if (refused.length === 0) throw err;
    await nft(renderLbTable(ports.filter((p) => !refused.some((r) => r.port === p)), clients), false);
    return refused;
  }
}
