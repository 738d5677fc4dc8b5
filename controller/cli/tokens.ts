import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { isNotFound } from '../kube/apiErrors.js';
import { SecretKind } from '../objects/core.js';
import { decodeItems, decodeObject } from '../objects/decode.js';
import { BOOTSTRAP_NAMESPACE, BOOTSTRAP_SECRET_TYPE, bootstrapTokenSecret, joinTokenInfo, newBootstrapToken, tokenId, tokenText, TokenError, type TokenInfo } from './bootstrapToken.js';

/** Join tokens in the hub: what `fleetctl hub token` manages. */
export async function createToken(hub: KubeConfig, ttlMs: number, description: string | undefined): Promise<{ token: string; id: string; expires: Date }> {
  const t = newBootstrapToken(ttlMs);
  const secret = description ? bootstrapTokenSecret(t, description) : bootstrapTokenSecret(t);
  await hub.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: BOOTSTRAP_NAMESPACE, body: secret });
  return { token: tokenText(t), id: t.id, expires: t.expiration };
}

export async function listTokens(hub: KubeConfig, now = new Date()): Promise<TokenInfo[]> {
  const secrets = await hub.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: BOOTSTRAP_NAMESPACE, fieldSelector: `type=${BOOTSTRAP_SECRET_TYPE}` });
  // A Secret that cannot be read is no token fleetctl made.
  return decodeItems(SecretKind, secrets.items, () => undefined)
    .map((s) => joinTokenInfo(s, now))
    .filter((t): t is TokenInfo => t !== undefined)
    .sort((a, b) => (a.expires?.getTime() ?? Infinity) - (b.expires?.getTime() ?? Infinity));
}

/** Deletes the token; clusters that joined with it keep their own credentials. */
export async function revokeToken(hub: KubeConfig, tokenOrId: string): Promise<string> {
  const id = tokenId(tokenOrId);
  const core = hub.makeApiClient(CoreV1Api);
  const name = `bootstrap-token-${id}`;
  const secret = await core.readNamespacedSecret({ name, namespace: BOOTSTRAP_NAMESPACE }).catch((err: unknown) => {
    if (isNotFound(err)) throw new TokenError(`no join token ${id} in the hub (fleetctl hub token list shows them)`);
    throw err;
  });
  if (!joinTokenInfo(decodeObject(SecretKind, secret))) throw new TokenError(`bootstrap token ${id} is not a FleetBoard join token; fleetctl leaves it alone`);
  await core.deleteNamespacedSecret({ name, namespace: BOOTSTRAP_NAMESPACE });
  return id;
}
