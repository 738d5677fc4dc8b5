import type { Logger } from 'pino';
import { execIn, type NetnsTarget } from '../../plugin/netns/exec.js';
import { Debouncer } from '../tunnel/debouncer.js';
import type { LocalImports } from '../mcs/localImports.js';
import { LB_TABLE, renderLbChanges, stickyClients, unservedImports, virtualPorts, type StickyClient, type VirtualPort } from './lbRules.js';
import { writeLbTable } from './tableWriter.js';
import { ProblemLog } from '../problemLog.js';

const canonicalPort = (p: VirtualPort) => JSON.stringify(p);

/** Rewrites the whole table now and then, so one deleted or changed by hand comes back. */
const RESYNC_MS = 60_000;
/** Each run starts an `nft` process: let bursts settle first. */
const SETTLE_MS = 200;

/**
 * ClusterSetIP load balancing on one node: pods send to a VIP through their
 * second interface into this cnf netns, where nftables DNATs each connection
 * to a ready endpoint of the service in any connected cluster. Every cnf pod
 * runs one (pods on every node need it); the leader only allocates the VIPs.
 */
export class ClusterSetLoadBalancer {
  private readonly debouncer: Debouncer;
  /** What the table holds, as far as we know; none makes the next run rewrite it whole. */
  private applied: VirtualPort[] | undefined;
  private resync: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Why imports cannot be served. */
  private readonly unserved: ProblemLog;
  /** Ports nft refused at the last whole write, by their content. */
  private refused = new Set<string>();

  constructor(
    private readonly local: LocalImports,
    private readonly opts: { globalCidr: string; target: NetnsTarget; log: Logger; resyncMs?: number },
  ) {
    this.debouncer = new Debouncer(() => this.reconcile(), opts.log, 'programming ClusterSetIPs', SETTLE_MS);
    this.unserved = new ProblemLog(opts.log);
  }

  start(): void {
    this.unsubscribe = this.local.subscribe(() => this.debouncer.schedule());
    this.debouncer.schedule();
    this.resync = setInterval(() => {
      this.applied = undefined;
      this.debouncer.schedule();
    }, this.opts.resyncMs ?? RESYNC_MS);
  }

  /** The table stays: a restarted controller finds it in place and connections keep flowing meanwhile. */
  async stop(): Promise<void> {
    clearInterval(this.resync);
    this.unsubscribe?.();
    await this.debouncer.stop();
  }

  private async reconcile(): Promise<void> {
    const imports = this.local.imports();
    this.unserved.report(unservedImports(imports, this.opts.globalCidr));
    const all = virtualPorts(imports, this.local.slices(), this.opts.globalCidr);
    // Ports nft refused stay out until they change or the table is next written whole.
    const ports = this.applied ? all.filter((p) => !this.refused.has(canonicalPort(p))) : all;
    if (this.applied) {
      const changes = renderLbChanges(this.applied, ports);
      if (!changes) return;
      try {
        await execIn(this.opts.target, 'nft', ['-f', '-'], changes);
        this.done(ports);
        return;
      } catch (err) {
        // Someone else changed the table (a chain or element is missing or already there): start afresh.
        this.opts.log.warn({ err: (err as Error).message }, 'the ClusterSetIP table was not as left; rewriting it whole');
      }
    }
    this.applied = undefined;
    const clients = ports.some((p) => p.affinitySeconds !== undefined) ? await this.stickyClients() : new Map<string, StickyClient[]>();
    const refused = await writeLbTable(ports, clients, (script, check) => execIn(this.opts.target, 'nft', check ? ['--check', '-f', '-'] : ['-f', '-'], script));
    const before = this.refused;
    this.refused = new Set(refused.map((r) => canonicalPort(r.port)));
    for (const { port, reason } of refused) {
      if (!before.has(canonicalPort(port))) this.opts.log.warn({ service: port.service, port: `${port.port.port}/${port.port.protocol}`, err: reason }, 'nft refused this ClusterSetIP port; it is left out, every other one is served');
    }
    this.done(ports.filter((p) => !this.refused.has(canonicalPort(p))));
  }

  /** The clients sticky backends remember now, so a rewrite keeps them where they are; none when there is no table. */
  private async stickyClients(): Promise<Map<string, StickyClient[]>> {
    try {
      return stickyClients(await execIn(this.opts.target, 'nft', ['-j', 'list', 'sets', 'table', 'ip', LB_TABLE]));
    } catch (err) {
      this.opts.log.info({ err: (err as Error).message }, 'no ClusterSetIP table to carry session affinity from');
      return new Map();
    }
  }

  private done(ports: VirtualPort[]): void {
    this.applied = ports;
    const served = ports.filter((p) => p.backends.length > 0).length;
    this.opts.log.info({ ports: ports.length, served }, 'programmed ClusterSetIPs');
  }
}
