import { CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { execIn, type NetnsTarget } from '../../plugin/netns/exec.js';
import type { ResilientWatch } from '../kube/resilientWatch.js';
import { WatchSet } from '../kube/watchSet.js';
import { Debouncer } from '../tunnel/debouncer.js';
import { LABEL_MANAGED_BY, MANAGED_BY, MCS_GROUP, MCS_VERSION, SERVICE_IMPORT_PLURAL, type ServiceImport } from '../mcs/api.js';
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
  private readonly watches: WatchSet;
  private imports: ResilientWatch<ServiceImport> | undefined;
  private slices: ResilientWatch<V1EndpointSlice> | undefined;
  private applied = '';
  private resync: NodeJS.Timeout | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: { globalCidr: string; target: NetnsTarget; log: Logger },
  ) {
    this.debouncer = new Debouncer(() => this.reconcile(), opts.log, 'programming ClusterSetIPs', SETTLE_MS);
    this.watches = new WatchSet(() => this.debouncer.schedule(), opts.log);
  }

  async start(): Promise<void> {
    const custom = this.kc.makeApiClient(CustomObjectsApi);
    const discovery = this.kc.makeApiClient(DiscoveryV1Api);
    const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
    const importApi = { group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_IMPORT_PLURAL };
    this.imports = this.watches.add<ServiceImport>(this.kc, `/apis/${MCS_GROUP}/${MCS_VERSION}/${SERVICE_IMPORT_PLURAL}`, () => custom.listCustomObjectForAllNamespaces(importApi) as Promise<{ items: ServiceImport[] }>);
    this.slices = this.watches.add<V1EndpointSlice>(this.kc, '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces({ labelSelector: managed }), managed);
    await this.imports.start();
    await this.slices.start();
    this.debouncer.schedule();
    this.resync = setInterval(() => {
      this.applied = '';
      this.debouncer.schedule();
    }, RESYNC_MS);
  }

  /** The table stays: a restarted controller finds it in place and connections keep flowing meanwhile. */
  async stop(): Promise<void> {
    clearInterval(this.resync);
    await this.debouncer.stop();
    await this.watches.stop();
  }

  private async reconcile(): Promise<void> {
    const ports = virtualPorts(this.imports?.cached() ?? [], this.slices?.cached() ?? [], this.opts.globalCidr);
    const table = renderLbTable(ports);
    if (table === this.applied) return;
    await execIn(this.opts.target, 'nft', ['-f', '-'], table);
    this.applied = table;
    const served = ports.filter((p) => p.backends.length > 0).length;
    this.opts.log.info({ ports: ports.length, served }, 'programmed ClusterSetIPs');
  }
}
