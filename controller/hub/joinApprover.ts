import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi, type KubeConfig } from '@kubernetes/client-node';
import { mergePatch } from '../kube/mergePatch.js';
import type { Logger } from 'pino';
import { apiErrorDetail, isConflict, isNotFound } from '../kube/apiErrors.js';
import type { EventRecorder } from '../kube/events.js';
import { ObjectRetries } from '../kube/objectRetries.js';
import { ResilientWatch, type RawList } from '../kube/resilientWatch.js';
import { decodeItems, decodeObject } from '../objects/decode.js';
import { NamespaceKind, type Namespace } from '../objects/core.js';
import { JoinRequestKind, type JoinRequest } from '../objects/fleetboard.js';
import { firstFreeSubnet, formatCidr, parseCidr, type Cidr } from '../ipam/cidr.js';
import { checkJoinRequest, JOIN_REQUEST_KIND, JOIN_REQUEST_PLURAL, type JoinRequestSpec, type JoinRequestStatus } from '../clusterset/joinRequest.js';
import { CLUSTER_CIDR_ANNOTATION, FLEETBOARD_GROUP, FLEETBOARD_VERSION, memberNamespace, PEER_KIND, PEER_PLURAL, type PeerBody } from '../clusterset/peer.js';
import { seal } from '../clusterset/sealedBox.js';
import { JOIN_UID_ANNOTATION, MEMBER_LABEL, MEMBER_SERVICE_ACCOUNT, memberAccessObjects } from './memberAccess.js';

/** How handling one JoinRequest ended; `failed` (the hub's own trouble) is retried. */
export const JOIN_RESULTS = ['approved', 'refused', 'failed'] as const;
export type JoinResult = (typeof JOIN_RESULTS)[number];

export interface JoinApproverOptions {
  globalCidr: string;
  clusterCidrPrefix: number;
  /** Lifetime of the token handed to a member; the member renews it itself before it runs out. */
  memberTokenSeconds: number;
  /** Told each time a request was handled, for metrics. */
  onHandled: (result: JoinResult) => void;
  log: Logger;
}

const api = { group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION };

/** A request the hub will not approve, with the reason the member is shown. */
class Refusal extends Error {
  override name = 'Refusal';
}

/** Cluster CIDRs already given to members, read from their namespaces (which members cannot write). */
export function recordedClusterCidrs(namespaces: readonly Namespace[]): Map<string, Cidr> {
  const taken = new Map<string, Cidr>();
  for (const ns of namespaces) {
    const text = ns.metadata.annotations[CLUSTER_CIDR_ANNOTATION];
    if (!text) continue;
    try {
      taken.set(ns.metadata.name, parseCidr(text));
    } catch {
      // An unreadable record cannot be matched to a range; the router reports it where it is used.
    }
  }
  return taken;
}

/**
 * The hub side of joining: approves JoinRequests made with a bootstrap token,
 * one at a time so two requests never get the same cluster CIDR.
 */
export class JoinApprover {
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly objects: KubernetesObjectApi;
  private watch: ResilientWatch<JoinRequest> | undefined;
  private readonly queue = new Set<string>();
  /** Requests the hub failed to handle (its own trouble), each retried on its own with backoff. */
  private readonly retries = new ObjectRetries();
  private draining: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly events: EventRecorder,
    private readonly opts: JoinApproverOptions,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.objects = KubernetesObjectApi.makeApiClient(kc);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.watch = new ResilientWatch(
      this.kc,
      `/apis/${FLEETBOARD_GROUP}/${FLEETBOARD_VERSION}/${JOIN_REQUEST_PLURAL}`,
      JoinRequestKind,
      () => this.custom.listClusterCustomObject({ ...api, plural: JOIN_REQUEST_PLURAL }) as ReturnType<RawList>,
      { upsert: (r) => this.enqueue(r), remove: (r) => this.retries.succeeded(r.metadata.name) },
      (m) => this.opts.log.warn(m),
    );
    await this.watch.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.watch?.stop();
    await this.draining;
  }

  private enqueue(req: JoinRequest): void {
    if (req.status.phase || this.stopped) return;
    this.queue.add(req.metadata.name);
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    for (const name of this.queue) {
      this.queue.delete(name);
      if (this.stopped) return;
      const req = this.watch?.cached().find((r) => r.metadata.name === name);
      if (!req || req.status.phase) continue;
      await this.handle(req);
    }
  }

  private async handle(req: JoinRequest): Promise<void> {
    const name = req.metadata.name;
    const ref = { kind: JOIN_REQUEST_KIND, apiVersion: `${FLEETBOARD_GROUP}/${FLEETBOARD_VERSION}`, name, uid: req.metadata.uid ?? '' };
    try {
      const checked = checkJoinRequest(req);
      if (typeof checked === 'string') throw new Refusal(checked);
      const status = await this.approve(req, checked);
      await this.setStatus(name, status);
      this.retries.succeeded(name);
      this.opts.onHandled('approved');
      this.opts.log.info({ cluster: checked.clusterID, clusterCidr: status.clusterCIDR }, 'cluster joined');
      this.events.emit(ref, 'Normal', 'ClusterJoined', `cluster ${checked.clusterID} joined with cluster CIDR ${status.clusterCIDR ?? ''} in namespace ${status.namespace ?? ''}`);
    } catch (err) {
      if (err instanceof Refusal) {
        this.retries.succeeded(name);
        this.opts.onHandled('refused');
        this.opts.log.warn({ request: name, reason: err.message }, 'join refused');
        this.events.emit(ref, 'Warning', 'JoinRefused', err.message);
        await this.setStatus(name, { phase: 'Refused', message: err.message }).catch((e: unknown) => this.opts.log.error({ request: name, err: apiErrorDetail(e) }, 'cannot record the refusal'));
        return;
      }
      // Anything else is the hub's own trouble (API unavailable): this request is tried again after a backoff.
      this.opts.onHandled('failed');
      const wait = this.retries.failed(name, apiErrorDetail(err));
      this.opts.log.error({ request: name, err: apiErrorDetail(err), retryInMs: wait }, 'approving a join failed; retrying it');
      setTimeout(() => this.enqueue(req), wait).unref();
    }
  }

  private async approve(req: JoinRequest, spec: JoinRequestSpec): Promise<JoinRequestStatus> {
    const namespace = memberNamespace(spec.clusterID);
    const uid = req.metadata.uid ?? '';
    const existing = await this.core.readNamespace({ name: namespace }).then(
      (ns) => decodeObject(NamespaceKind, ns),
      (err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      },
    );
    const owner = existing?.metadata.annotations[JOIN_UID_ANNOTATION];
    if (existing && owner !== uid) {
      throw new Refusal(`cluster ID "${spec.clusterID}" is already taken: namespace ${namespace} belongs to an earlier join; remove that cluster from the hub first or choose another cluster ID`);
    }
    const recorded = existing?.metadata.annotations[CLUSTER_CIDR_ANNOTATION];
    // A retried approval finds the namespace it made the first time.
    const member = existing && recorded ? { cidr: recorded, namespaceUid: existing.metadata.uid ?? '' } : await this.allocateCidr(spec.clusterID, namespace, uid);
    const clusterCidr = member.cidr;
    for (const obj of memberAccessObjects(spec.clusterID, namespace, member.namespaceUid)) {
      await this.objects.create(obj).catch((err: unknown) => {
        if (!isConflict(err)) throw err;
      });
    }
    const peer: PeerBody = {
      apiVersion: `${FLEETBOARD_GROUP}/${FLEETBOARD_VERSION}`,
      kind: PEER_KIND,
      metadata: { name: spec.clusterID, namespace },
      spec: { clusterID: spec.clusterID, clusterCIDR: [clusterCidr], publicKey: spec.publicKey, isHub: false, isPublic: false },
    };
    await this.custom.createNamespacedCustomObject({ ...api, namespace, plural: PEER_PLURAL, body: peer }).catch((err: unknown) => {
      if (!isConflict(err)) throw err;
    });
    const token = await this.core.createNamespacedServiceAccountToken({
      name: MEMBER_SERVICE_ACCOUNT,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: this.opts.memberTokenSeconds } },
    });
    return {
      phase: 'Approved',
      message: `joined: namespace ${namespace}, cluster CIDR ${clusterCidr}`,
      namespace,
      clusterCIDR: clusterCidr,
      credentials: seal(token.status?.token ?? '', spec.sessionKey),
    };
  }

  /**
   * Creates the member's namespace holding its newly allocated cluster CIDR. A
   * removed member's namespace still counts while it terminates, so its CIDR
   * is given out again only once its Peer and everything else in it are gone.
   */
  private async allocateCidr(clusterID: string, namespace: string, uid: string): Promise<{ cidr: string; namespaceUid: string }> {
    const listed = await this.core.listNamespace({ labelSelector: MEMBER_LABEL });
    // A member namespace that cannot be read cannot show which CIDR it holds: refuse rather than risk handing it out twice.
    const namespaces = decodeItems(NamespaceKind, listed.items, (err) => {
      throw err;
    });
    const global = parseCidr(this.opts.globalCidr);
    const free = firstFreeSubnet(global, this.opts.clusterCidrPrefix, [...recordedClusterCidrs(namespaces).values()]);
    if (!free) throw new Refusal(`the global CIDR ${this.opts.globalCidr} has no free /${this.opts.clusterCidrPrefix} left for cluster ${clusterID}; remove a cluster or widen tunnel.cidr`);
    const cidr = formatCidr(free);
    const created = await this.core.createNamespace({
      body: { metadata: { name: namespace, labels: { [MEMBER_LABEL]: clusterID }, annotations: { [CLUSTER_CIDR_ANNOTATION]: cidr, [JOIN_UID_ANNOTATION]: uid } } },
    });
    return { cidr, namespaceUid: created.metadata?.uid ?? '' };
  }

  private async setStatus(name: string, status: JoinRequestStatus): Promise<void> {
    await this.custom.patchClusterCustomObjectStatus({ ...api, plural: JOIN_REQUEST_PLURAL, name, body: { status } }, mergePatch);
  }
}
