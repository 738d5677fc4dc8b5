import { setTimeout as delay } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiErrorDetail } from '../kube/apiErrors.js';
import type { EventRecorder } from '../kube/events.js';
import { parseCidr } from '../ipam/cidr.js';
import { clusterSetIpRange } from '../ipam/clusterSetIps.js';
import type { NodeCidrStore } from '../ipam/nodeCidrStore.js';
import { NodeCidrAllocator } from '../nodecidr/allocator.js';
import type { TunnelMesh } from '../tunnel/mesh.js';
import { MEMBER_SERVICE_ACCOUNT } from '../hub/memberAccess.js';
import { CredentialStore, type HubMembership } from './credentialStore.js';
import { ClusterGateway } from './gateway.js';
import { hubKubeConfig, tokenExpiry } from './hubKubeConfig.js';
import { HubJoiner, JoinError, type JoinMaterial } from './join.js';
import { ExportController } from '../mcs/exportController.js';
import { ImportController } from '../mcs/importController.js';
import type { LocalImports } from '../mcs/localImports.js';
import { HubExports } from '../mcs/hubExports.js';
import { withdrawImports } from '../mcs/withdrawImports.js';
import type { ConditionVerdict } from '../mcs/exportValidity.js';

export interface LeaderDutiesOptions {
  namespace: string;
  podName: string;
  nodeName: string;
  /** Set without a hub; with one, the hub allocates the cluster CIDR. */
  clusterCidr: string | undefined;
  nodeCidrPrefix: number;
  join: JoinMaterial | undefined;
  keepaliveSeconds: number;
  /** Where other members reach this cluster's gateway; undefined behind NAT. */
  publicEndpoint: { host: string; port: number } | undefined;
  log: Logger;
}

const JOIN_RETRY_MS = 3000;
/** A refusal needs an admin: asking again every few seconds would only flood the hub and the events. */
const REFUSED_RETRY_MS = 30_000;
const STATUS_INTERVAL_MS = 10_000;

/**
 * What the cluster's leader does besides leading: join the hub (when one is
 * configured), allocate node CIDRs from the cluster CIDR, and act as the
 * cluster's gateway to the hub. Started on gaining the Lease, ended on losing it.
 */
export class LeaderDuties {
  private abort: AbortController | undefined;
  private work: Promise<void> | undefined;
  private allocator: NodeCidrAllocator | undefined;
  private gateway: ClusterGateway | undefined;
  private exports: ExportController | undefined;
  private exportsStarted: Promise<void> = Promise.resolve();
  private imports: ImportController | undefined;
  /** What the clusterset published in the hub, watched with the current token and shared by exporter and importer. */
  private hubExports: HubExports | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private readonly credentials: CredentialStore;

  constructor(
    private readonly kc: KubeConfig,
    private readonly store: NodeCidrStore,
    private readonly events: EventRecorder,
    private readonly mesh: TunnelMesh,
    private readonly localImports: LocalImports,
    private readonly opts: LeaderDutiesOptions,
  ) {
    this.credentials = new CredentialStore(kc.makeApiClient(CoreV1Api), opts.namespace);
  }

  begin(): void {
    const abort = new AbortController();
    this.abort = abort;
    // Independent of the hub: users see at once whether what they export can be exported.
    const exports = new ExportController(this.kc, this.opts.log);
    this.exports = exports;
    this.exportsStarted = exports.start();
    this.exportsStarted.catch((err: unknown) => this.opts.log.error({ err: apiErrorDetail(err) }, 'cannot follow ServiceExports: are the multicluster.x-k8s.io CRDs installed?'));
    this.work = this.run(abort.signal).catch((err: unknown) => {
      if (!abort.signal.aborted) this.opts.log.error({ err: apiErrorDetail(err) }, 'leader duties failed');
    });
  }

  /** Each ServiceExport's conditions as this leader last judged them; none when not leading. */
  exportConditions(): readonly (readonly ConditionVerdict[])[] {
    return this.exports?.conditions() ?? [];
  }

  /** The ServiceImports FleetBoard made here; 0 when not leading or not joined. */
  importedServices(): number {
    return this.imports?.imported() ?? 0;
  }

  /**
   * Stops the leader-only control work at once. The gateway keeps forwarding:
   * losing the Lease may only mean the apiserver is out of reach, and then no
   * other cnf can lead either. handOverGateway ends it once another leader is seen.
   */
  async end(): Promise<void> {
    this.abort?.abort();
    clearTimeout(this.renewTimer);
    await this.work;
    await this.allocator?.stop();
    this.allocator = undefined;
    await this.exports?.stop();
    this.exports = undefined;
    await this.imports?.stop();
    this.imports = undefined;
    await this.hubExports?.stop();
    this.hubExports = undefined;
  }

  /** Stops the gateway kept by end() once the hub routes to another cnf of this cluster, or after `timeoutMs`. */
  async handOverGateway(timeoutMs: number): Promise<void> {
    const gateway = this.gateway;
    this.gateway = undefined;
    await gateway?.handOver(timeoutMs);
  }

  private async run(signal: AbortSignal): Promise<void> {
    const membership = this.opts.join ? await this.joined(this.opts.join, signal) : undefined;
    const clusterCidr = membership?.clusterCidr ?? this.opts.clusterCidr ?? '';
    if (parseCidr(clusterCidr).prefix >= this.opts.nodeCidrPrefix) {
      const message = `node CIDRs (/${this.opts.nodeCidrPrefix}) and ClusterSetIPs cannot both be carved from cluster CIDR ${clusterCidr}: set --node-cidr-prefix to /${parseCidr(clusterCidr).prefix + 1} or longer`;
      this.event('Warning', 'FleetboardNodeCidrPrefix', message);
      throw new Error(message);
    }
    signal.throwIfAborted();
    this.allocator = new NodeCidrAllocator(this.kc, this.kc.makeApiClient(CoreV1Api), this.store, this.events, { clusterCidr, nodePrefix: this.opts.nodeCidrPrefix, log: this.opts.log });
    await this.allocator.start();
    if (membership && this.opts.join) await this.startGateway(this.opts.join, membership, signal);
  }

  private async joined(material: JoinMaterial, signal: AbortSignal): Promise<HubMembership> {
    const joiner = new HubJoiner(this.credentials, material, this.opts.log);
    for (;;) {
      try {
        return await joiner.membership(this.mesh.publicKey, signal);
      } catch (err) {
        signal.throwIfAborted();
        const refused = err instanceof JoinError;
        this.opts.log.error({ err: apiErrorDetail(err), hub: material.hubUrl }, refused ? 'cannot join the hub' : 'joining the hub failed; retrying');
        if (refused) this.event('Warning', 'FleetboardJoinFailed', err.message);
        await delay(refused ? REFUSED_RETRY_MS : JOIN_RETRY_MS, undefined, { signal });
      }
    }
  }

  private async startGateway(material: JoinMaterial, membership: HubMembership, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    // Leading again after a lapse, the gateway end() kept is still forwarding: replacing it would only break sessions.
    if (this.gateway?.membership.token !== membership.token) {
      await this.gateway?.stop();
      const gateway = new ClusterGateway(hubKubeConfig(material.hubUrl, material.caPem, membership.token), this.mesh, {
        membership,
        nodeName: this.opts.nodeName,
        keepaliveSeconds: this.opts.keepaliveSeconds,
        publicEndpoint: this.opts.publicEndpoint,
        statusIntervalMs: STATUS_INTERVAL_MS,
        onRevoked: () => void this.removedFromHub(membership),
        onCutOff: () => void this.withdrawImports(),
        log: this.opts.log,
      });
      this.gateway = gateway;
      await gateway.start();
    }
    this.scheduleRenewal(material, membership, signal);
    await this.publishExports(material, membership);
  }

  /**
   * Once joined (and again after each token renewal): exports go to the hub,
   * and what the clusterset exports is imported here. Nothing without the MCS CRDs.
   */
  private async publishExports(material: JoinMaterial, membership: HubMembership): Promise<void> {
    if (!(await this.exportsStarted.then(() => true, () => false))) return;
    const hubKc = hubKubeConfig(material.hubUrl, material.caPem, membership.token);
    const published = new HubExports(hubKc, this.opts.log);
    try {
      await published.start();
      await this.exports?.publishTo({ kc: hubKc, clusterID: membership.clusterID, namespace: membership.namespace, published });
      await this.imports?.stop();
      await this.hubExports?.stop();
      this.hubExports = published;
      this.imports = new ImportController(this.kc, hubKc, published, this.localImports, {
        fallbackNamespace: this.opts.namespace,
        clusterID: membership.clusterID,
        clusterSetIps: clusterSetIpRange(membership.clusterCidr, this.opts.nodeCidrPrefix),
        onAggregated: (services, exports) => this.exports?.clusterSetChanged(services, exports),
        events: this.events,
        log: this.opts.log,
      });
      await this.imports.start();
    } catch (err) {
      if (this.hubExports !== published) await published.stop();
      this.opts.log.error({ err: apiErrorDetail(err) }, 'cannot exchange services with the hub');
    }
  }

  /** Renews the hub token at half its life, with the token itself (the member may mint tokens only for its own ServiceAccount). */
  private scheduleRenewal(material: JoinMaterial, membership: HubMembership, signal: AbortSignal): void {
    const exp = tokenExpiry(membership.token);
    if (exp === undefined) return;
    const remainingMs = exp * 1000 - Date.now();
    this.renewTimer = setTimeout(() => {
      void (async () => {
        try {
          const hub = hubKubeConfig(material.hubUrl, material.caPem, membership.token).makeApiClient(CoreV1Api);
          const lifetime = Math.max(600, Math.round((2 * remainingMs) / 1000));
          const answer = await hub.createNamespacedServiceAccountToken({ name: MEMBER_SERVICE_ACCOUNT, namespace: membership.namespace, body: { spec: { audiences: [], expirationSeconds: lifetime } } });
          const renewed = { ...membership, token: answer.status?.token ?? '' };
          await this.credentials.saveMembership(renewed);
          await this.startGateway(material, renewed, signal);
          this.opts.log.info('renewed the hub token');
        } catch (err) {
          if (signal.aborted) return;
          this.opts.log.error({ err: apiErrorDetail(err) }, 'cannot renew the hub token; retrying in a minute');
          this.event('Warning', 'FleetboardHubTokenRenewal', `cannot renew the hub token: ${apiErrorDetail(err)}`);
          this.renewTimer = setTimeout(() => this.scheduleRenewal(material, membership, signal), 60_000);
        }
      })();
    }, Math.max(0, remainingMs / 2));
  }

  /**
   * The hub refuses this cluster's credentials before they expire: it was
   * removed (`fleetctl remove`). Renewing the token and watching the hub can
   * only fail from now on; joining again takes a reinstall with a new bootstrap token.
   */
  private async removedFromHub(membership: HubMembership): Promise<void> {
    clearTimeout(this.renewTimer);
    await this.imports?.stop();
    this.imports = undefined;
    await this.hubExports?.stop();
    this.hubExports = undefined;
    const message = `the hub no longer accepts the credentials of cluster "${membership.clusterID}" although they have not expired: it was removed from the hub (fleetctl remove) or its ServiceAccount there was deleted. Its imports are withdrawn once the tunnel to the hub is down too; to join again, uninstall the agent and install it with a new bootstrap token`;
    this.opts.log.error({ cluster: membership.clusterID }, message);
    this.event('Warning', 'FleetboardRemovedFromHub', message);
  }

  /** Out of the clusterset for good: nothing will update the imports again, so they go. */
  private async withdrawImports(): Promise<void> {
    try {
      const withdrawn = await withdrawImports(this.kc, this.localImports);
      this.opts.log.info({ withdrawn }, 'withdrew the imports: the hub no longer has this cluster');
      this.event('Normal', 'FleetboardImportsWithdrawn', `withdrew ${withdrawn} ServiceImport(s): the hub no longer has this cluster and its tunnel to the hub is down`);
    } catch (err) {
      this.opts.log.error({ err: apiErrorDetail(err) }, 'cannot withdraw the imports: delete the ServiceImports and EndpointSlices managed by fleetboard.io by hand');
    }
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.emit({ kind: 'Pod', namespace: this.opts.namespace, name: this.opts.podName }, type, reason, message);
  }
}
