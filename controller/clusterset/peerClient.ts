import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { mergePatch } from '../kube/mergePatch.js';
import type { Logger } from 'pino';
import { ResilientWatch, type RawList } from '../kube/resilientWatch.js';
import type { Condition } from '../objects/fields.js';
import { PeerKind, type Peer } from '../objects/fleetboard.js';
import { FLEETBOARD_GROUP, FLEETBOARD_VERSION, PEER_PLURAL, type PeerBody, type PeerCondition, type PeerSpec, type PeerStatus } from './peer.js';
import { isConflict } from '../kube/apiErrors.js';

const api = { group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: PEER_PLURAL };

/** Peer objects in the hub, through whichever credentials the caller holds. */
export class PeerClient {
  private readonly custom: CustomObjectsApi;

  constructor(private readonly kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  /** Follows every Peer of the clusterset. */
  watchAll(onChange: () => void, log: Logger): ResilientWatch<Peer> {
    return new ResilientWatch(
      this.kc,
      `/apis/${FLEETBOARD_GROUP}/${FLEETBOARD_VERSION}/${PEER_PLURAL}`,
      PeerKind,
      () => this.custom.listCustomObjectForAllNamespaces(api) as ReturnType<RawList>,
      { upsert: onChange, remove: onChange },
      (m) => log.warn(m),
    );
  }

  /** A merge patch: a field set to null is removed. */
  async patchSpec(namespace: string, name: string, spec: { [K in keyof PeerSpec]?: PeerSpec[K] | null }): Promise<void> {
    await this.custom.patchNamespacedCustomObject({ ...api, namespace, name, body: { spec } }, mergePatch);
  }

  async patchStatus(namespace: string, name: string, status: PeerStatus): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus({ ...api, namespace, name, body: { status } }, mergePatch);
  }

  /** Creates the Peer, or sets its spec when it exists. */
  async apply(namespace: string, name: string, spec: PeerSpec): Promise<void> {
    const body: PeerBody = { apiVersion: `${FLEETBOARD_GROUP}/${FLEETBOARD_VERSION}`, kind: 'Peer', metadata: { name, namespace }, spec };
    await this.custom.createNamespacedCustomObject({ ...api, namespace, body }).catch(async (err: unknown) => {
      if (!isConflict(err)) throw err;
      await this.patchSpec(namespace, name, spec);
    });
  }
}

/** A condition with its transition time kept while its status stays the same. */
export function condition(previous: readonly Condition[], type: string, ok: boolean, reason: string, message: string, now = new Date()): PeerCondition {
  const status = ok ? 'True' : 'False';
  const before = previous.find((c) => c.type === type);
  return { type, status, reason, message, lastTransitionTime: (before?.status === status ? before.lastTransitionTime : undefined) ?? now.toISOString() };
}

/** The list with `next` in place of the condition of its type: a merge patch replaces a list whole, so every write carries all of them. */
export function setCondition(previous: readonly Condition[], next: PeerCondition): Condition[] {
  return [...previous.filter((c) => c.type !== next.type), next];
}
