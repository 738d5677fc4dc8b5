import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** How long a looked-up address is used before the name is looked up again (a load balancer's address may move). */
export const RESOLVE_TTL_MS = 60_000;

type Lookup = (name: string) => Promise<string>;

const lookupIPv4: Lookup = async (name) => (await lookup(name, { family: 4 })).address;

/**
 * The addresses of the DNS names other clusters publish as endpoints. A name
 * is looked up again once its address is older than `ttlMs`; when that fails,
 * the last address is kept, since the tunnel may well still work.
 */
export class EndpointResolver {
  private readonly cache = new Map<string, { address: string; at: number }>();

  constructor(
    private readonly resolveName: Lookup = lookupIPv4,
    private readonly ttlMs = RESOLVE_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Refreshes the names given; returns those that have no address at all. */
  async refresh(endpoints: Iterable<string>): Promise<string[]> {
    const failed: string[] = [];
    for (const endpoint of new Set(endpoints)) {
      if (isIP(endpoint)) continue;
      const cached = this.cache.get(endpoint);
      if (cached && this.now() - cached.at < this.ttlMs) continue;
      try {
        this.cache.set(endpoint, { address: await this.resolveName(endpoint), at: this.now() });
      } catch {
        if (!cached) failed.push(endpoint);
      }
    }
    return failed;
  }

  address(endpoint: string): string | undefined {
    return isIP(endpoint) ? endpoint : this.cache.get(endpoint)?.address;
  }
}
