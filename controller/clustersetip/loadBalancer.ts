import type { Logger } from 'pino';
import { execIn, type NetnsTarget } from '../../plugin/netns/exec.js';
import { Debouncer } from '../tunnel/debouncer.js';
import type { LocalImports } from '../mcs/localImports.js';
import { renderLbTable, virtualPorts } from './lbRules.js';

/** Re-applies the table now and then, so one deleted or changed by hand comes back. */
const RESYNC_MS = 60_000;
/** The whole table is rewritten on each change (about 0.3 s for 1000 services): let bursts settle first. */
const SETTLE_MS = 200;

/**
 * ClusterSetIP load balancing on one node: pods send to a VIP through their
 * second interface into this cnf netns, where nftables DNATs each connection
 * to a ready endpoint of the service in any connected cluster. Every cnf pod
 * runs one (pods on every node need it); the leader only allocates the VIPs.
 */
export class ClusterSetLoadBalancer {
  private readonly debouncer: Debouncer;
  private applied = '';
  private resync: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly local: LocalImports,
    private readonly opts: { globalCidr: string; target: NetnsTarget; log: Logger },
  ) {
    this.debouncer = new Debouncer(() => this.reconcile(), opts.log, 'programming ClusterSetIPs', SETTLE_MS);
  }

  start(): void {
    this.unsubscribe = this.local.subscribe(() => this.debouncer.schedule());
    this.debouncer.schedule();
    this.resync = setInterval(() => {
      this.applied = '';
      this.debouncer.schedule();
    }, RESYNC_MS);
  }

  /** The table stays: a restarted controller finds it in place and connections keep flowing meanwhile. */
  async stop(): Promise<void> {
    clearInterval(this.resync);
    this.unsubscribe?.();
    await this.debouncer.stop();
  }

  private async reconcile(): Promise<void> {
    const ports = virtualPorts(this.local.imports(), this.local.slices(), this.opts.globalCidr);
    const table = renderLbTable(ports);
    if (table === this.applied) return;
    await execIn(this.opts.target, 'nft', ['-f', '-'], table);
    this.applied = table;
    const served = ports.filter((p) => p.backends.length > 0).length;
    this.opts.log.info({ ports: ports.length, served }, 'programmed ClusterSetIPs');
  }
}
