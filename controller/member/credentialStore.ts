import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import { isNotFound } from '../kube/apiErrors.js';
import { SecretKind, type Secret } from '../objects/core.js';
import { decodeObject } from '../objects/decode.js';

/** What the member keeps in its own cluster about its place in the hub. */
export interface HubMembership {
  clusterID: string;
  /** The member's namespace in the hub. */
  namespace: string;
  clusterCidr: string;
  /** The member's ServiceAccount token in the hub. */
  token: string;
}

/** A join in progress: the session key the hub seals the credentials to. */
export interface JoinSession {
  clusterID: string;
  sessionPublicKey: string;
  sessionSecretKey: string;
}

export const HUB_CREDENTIALS_SECRET = 'fleetboard-hub-credentials';

const text = (s: Secret | undefined, key: string) => {
  const v = s?.data[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
};

/**
 * One Secret in the member's own namespace: the session key while joining,
 * then the hub credentials. Readable only by FleetBoard's ServiceAccount.
 */
export class CredentialStore {
  constructor(
    private readonly core: CoreV1Api,
    private readonly namespace: string,
  ) {}

  private async read(): Promise<Secret | undefined> {
    return this.core.readNamespacedSecret({ name: HUB_CREDENTIALS_SECRET, namespace: this.namespace }).then(
      (s) => decodeObject(SecretKind, s),
      (err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      },
    );
  }

  async membership(): Promise<HubMembership | undefined> {
    const s = await this.read();
    const [clusterID, namespace, clusterCidr, token] = ['clusterID', 'namespace', 'clusterCIDR', 'token'].map((k) => text(s, k));
    return clusterID && namespace && clusterCidr && token ? { clusterID, namespace, clusterCidr, token } : undefined;
  }

  async session(): Promise<JoinSession | undefined> {
    const s = await this.read();
    const [clusterID, sessionPublicKey, sessionSecretKey] = ['clusterID', 'sessionPublicKey', 'sessionSecretKey'].map((k) => text(s, k));
    return clusterID && sessionPublicKey && sessionSecretKey ? { clusterID, sessionPublicKey, sessionSecretKey } : undefined;
  }

  saveSession(session: JoinSession): Promise<void> {
    return this.write({ ...session });
  }

  /** Replaces the session with the credentials, so the session key does not outlive the join. */
  saveMembership(m: HubMembership): Promise<void> {
    return this.write({ clusterID: m.clusterID, namespace: m.namespace, clusterCIDR: m.clusterCidr, token: m.token });
  }

  private async write(data: Record<string, string>): Promise<void> {
    const body: V1Secret = { metadata: { name: HUB_CREDENTIALS_SECRET, namespace: this.namespace }, type: 'Opaque', stringData: data };
    if (await this.read()) await this.core.replaceNamespacedSecret({ name: HUB_CREDENTIALS_SECRET, namespace: this.namespace, body });
    else await this.core.createNamespacedSecret({ namespace: this.namespace, body });
  }
}
