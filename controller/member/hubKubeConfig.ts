import { KubeConfig } from '@kubernetes/client-node';
import { KeepAliveKubeConfig } from '../kube/keepAliveKubeConfig.js';

/**
 * A client for the hub's apiserver with a bearer token, verifying the hub's
 * certificate against the CA from the join material (never skipping it).
 */
export function hubKubeConfig(hubUrl: string, caPem: string, token: string): KubeConfig {
  const kc = new KeepAliveKubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'hub', server: hubUrl, caData: Buffer.from(caPem).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'member', token }],
    contexts: [{ name: 'hub', cluster: 'hub', user: 'member' }],
    currentContext: 'hub',
  });
  return kc;
}

/** Seconds since the epoch at which a ServiceAccount token (a JWT) expires; undefined when it carries no `exp`. */
export function tokenExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}

/** Clocks of member and hub may differ by this much. */
const CLOCK_SKEW_MS = 60_000;

/**
 * Whether a 401 from the hub means this cluster's credentials were revoked
 * (its ServiceAccount went with its namespace, as `fleetctl remove` does)
 * rather than lapsed: the token is still good for a while by its own expiry. Pure.
 */
export function credentialsRevoked(token: string, nowMs: number): boolean {
  const exp = tokenExpiry(token);
  return exp === undefined || exp * 1000 > nowMs + CLOCK_SKEW_MS;
}
