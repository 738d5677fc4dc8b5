import { setTimeout as delay } from 'node:timers/promises';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiErrorDetail, httpCode, isConflict } from '../kube/apiErrors.js';
import { JOIN_REQUEST_KIND, JOIN_REQUEST_PLURAL, type JoinRequestSpec } from '../clusterset/joinRequest.js';
import { decodeObject } from '../objects/decode.js';
import { JoinRequestKind } from '../objects/fleetboard.js';
import { FLEETBOARD_GROUP, FLEETBOARD_VERSION } from '../clusterset/peer.js';
import { newSessionKeyPair, open, SealedBoxError } from '../clusterset/sealedBox.js';
import type { CredentialStore, HubMembership, JoinSession } from './credentialStore.js';
import { hubKubeConfig } from './hubKubeConfig.js';

/** What an admin hands a member to join: the seeds' hub.hubURL, hub.bootstrapToken and the hub CA. */
export interface JoinMaterial {
  hubUrl: string;
  caPem: string;
  bootstrapToken: string;
  clusterID: string;
}

export type JoinErrorCode = 'TOKEN_REFUSED' | 'ID_TAKEN' | 'REFUSED' | 'CREDENTIALS_UNREADABLE';

/** A join the hub will not complete as things stand; the message says what the admin must change. */
export class JoinError extends Error {
  override name = 'JoinError';
  constructor(
    readonly code: JoinErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const api = { group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: JOIN_REQUEST_PLURAL };
const POLL_MS = 500;

/**
 * The member side of joining: asks the hub with the bootstrap token, waits for
 * the answer, opens the sealed credentials and keeps them in the member's own
 * Secret. Resumable: a restart mid-join reuses the saved session key.
 */
export class HubJoiner {
  constructor(
    private readonly store: CredentialStore,
    private readonly material: JoinMaterial,
    private readonly log: Logger,
  ) {}

  /** The membership, joining first if there is none yet. Throws JoinError when the hub refuses. */
  async membership(gatewayPublicKey: string, signal: AbortSignal): Promise<HubMembership> {
    const known = await this.store.membership();
    if (known) {
      if (known.clusterID !== this.material.clusterID) {
        throw new JoinError('REFUSED', `this cluster joined the hub as "${known.clusterID}", not "${this.material.clusterID}"; uninstall FleetBoard (which removes the Secret holding the hub credentials) to join under another ID`);
      }
      return known;
    }
    let session = await this.store.session();
    if (session?.clusterID !== this.material.clusterID) {
      const pair = newSessionKeyPair();
      session = { clusterID: this.material.clusterID, sessionPublicKey: pair.publicKey, sessionSecretKey: pair.secretKey };
      await this.store.saveSession(session);
    }
    const custom = hubKubeConfig(this.material.hubUrl, this.material.caPem, this.material.bootstrapToken).makeApiClient(CustomObjectsApi);
    await this.request(custom, session, gatewayPublicKey);
    this.log.info({ cluster: session.clusterID, hub: this.material.hubUrl }, 'join requested; waiting for the hub');
    for (;;) {
      signal.throwIfAborted();
      const req = decodeObject(JoinRequestKind, await custom.getClusterCustomObject({ ...api, name: session.clusterID }).catch((err: unknown) => this.explain(err)));
      if (req.spec?.sessionKey !== session.sessionPublicKey) throw this.taken();
      const status = req.status;
      if (status.phase === 'Refused') throw new JoinError('REFUSED', `the hub refused to let cluster "${session.clusterID}" join: ${status.message ?? 'no reason given'}`);
      if (status.phase === 'Approved' && status.credentials && status.namespace && status.clusterCIDR) {
        const { ciphertext, nonce, senderKey } = status.credentials;
        let token: string;
        try {
          if (ciphertext === undefined || nonce === undefined || senderKey === undefined) throw new SealedBoxError('the sealed credentials lack their ciphertext, nonce or sender key');
          token = open({ ciphertext, nonce, senderKey }, session.sessionSecretKey);
        } catch (err) {
          if (err instanceof SealedBoxError) throw new JoinError('CREDENTIALS_UNREADABLE', `the hub's answer cannot be opened: ${err.message}`);
          throw err;
        }
        const membership = { clusterID: session.clusterID, namespace: status.namespace, clusterCidr: status.clusterCIDR, token };
        await this.store.saveMembership(membership);
        this.log.info({ cluster: membership.clusterID, clusterCidr: membership.clusterCidr }, 'joined the hub');
        return membership;
      }
      await delay(POLL_MS, undefined, { signal });
    }
  }

  private async request(custom: CustomObjectsApi, session: JoinSession, publicKey: string): Promise<void> {
    const spec: JoinRequestSpec = { clusterID: session.clusterID, publicKey, sessionKey: session.sessionPublicKey };
    const body = { apiVersion: `${FLEETBOARD_GROUP}/${FLEETBOARD_VERSION}`, kind: JOIN_REQUEST_KIND, metadata: { name: session.clusterID }, spec };
    await custom.createClusterCustomObject({ ...api, body }).catch((err: unknown) => {
      // Our own earlier request (a restart mid-join) is fine; whose it is shows in the session key, checked next.
      if (!isConflict(err)) this.explain(err);
    });
  }

  private taken(): JoinError {
    const id = this.material.clusterID;
    return new JoinError('ID_TAKEN', `cluster ID "${id}" is already taken in the hub by another cluster; choose another cluster.clusterID, or remove the old cluster from the hub (delete JoinRequest ${id} and namespace fleetboard-cluster-${id})`);
  }

  /** Turns an API failure into what the admin must fix; anything transient is rethrown as is. */
  private explain(err: unknown): never {
    const code = httpCode(err);
    if (code === 401) throw new JoinError('TOKEN_REFUSED', `the hub at ${this.material.hubUrl} does not accept the bootstrap token (wrong or expired); create a new one in the hub and set hub.bootstrapToken`);
    if (code === 403) throw new JoinError('TOKEN_REFUSED', `the bootstrap token may not ask to join (${apiErrorDetail(err)}); create the token with the hub's fleetboard bootstrap group`);
    throw err;
  }
}
