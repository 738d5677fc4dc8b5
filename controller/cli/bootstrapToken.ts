import { randomInt } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { Secret } from '../objects/core.js';

/**
 * Join tokens are Kubernetes bootstrap tokens (as `kubeadm token create`
 * makes them): a Secret `bootstrap-token-<id>` in kube-system that only
 * authenticates, expires, and puts its bearer in FleetBoard's bootstrapper
 * group, which may do nothing but ask to join.
 */
export const BOOTSTRAP_GROUP = 'system:bootstrappers:fleetboard';
export const BOOTSTRAP_NAMESPACE = 'kube-system';
export const BOOTSTRAP_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
const DESCRIPTION = 'FleetBoard member join';

/** The token format the apiserver accepts: `[a-z0-9]{6}.[a-z0-9]{16}`. */
export const TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface BootstrapToken {
  id: string;
  secret: string;
  expiration: Date;
}

export class TokenError extends Error {
  override name = 'TokenError';
}

const randomText = (n: number) => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

export function newBootstrapToken(validForMs: number, now = new Date()): BootstrapToken {
  return { id: randomText(6), secret: randomText(16), expiration: new Date(now.getTime() + validForMs) };
}

export const tokenText = (t: BootstrapToken): string => `${t.id}.${t.secret}`;

/** The token id of `text` (a full token or just its id), so `revoke` takes either. */
export function tokenId(text: string): string {
  const full = TOKEN_PATTERN.exec(text);
  if (full?.[1]) return full[1];
  if (/^[a-z0-9]{6}$/.test(text)) return text;
  throw new TokenError(`"${text}" is neither a token (abcdef.0123456789abcdef) nor a token id (abcdef)`);
}

/** RFC 3339 without fractions, as bootstrap token Secrets carry it. */
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function bootstrapTokenSecret(t: BootstrapToken, description = DESCRIPTION): V1Secret & { stringData: Record<string, string> } {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${t.id}`, namespace: BOOTSTRAP_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'fleetctl' } },
    type: BOOTSTRAP_SECRET_TYPE,
    stringData: {
      description,
      'token-id': t.id,
      'token-secret': t.secret,
      expiration: rfc3339(t.expiration),
      'usage-bootstrap-authentication': 'true',
      'auth-extra-groups': BOOTSTRAP_GROUP,
    },
  };
}

/** A join token as `fleetctl hub token list` shows it; never the secret half. */
export interface TokenInfo {
  id: string;
  /** Undefined: the token never expires (made by hand without an expiration). */
  expires: Date | undefined;
  expired: boolean;
  description: string;
}

const field = (s: Secret, key: string): string | undefined => {
  const v = s.data[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
};

/** The token a Secret holds when it is one of FleetBoard's join tokens; undefined otherwise. */
export function joinTokenInfo(s: Secret, now = new Date()): TokenInfo | undefined {
  if (s.type !== BOOTSTRAP_SECRET_TYPE) return undefined;
  if (!(field(s, 'auth-extra-groups') ?? '').split(',').includes(BOOTSTRAP_GROUP)) return undefined;
  const id = field(s, 'token-id');
  if (!id) return undefined;
  const expiration = field(s, 'expiration');
  const expires = expiration ? new Date(expiration) : undefined;
  return { id, expires, expired: expires !== undefined && expires.getTime() <= now.getTime(), description: field(s, 'description') ?? '' };
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `24h`, `7d` or a combination such as `1h30m`, in milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const parts = [...text.matchAll(/(\d+)([smhd])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new TokenError(`--${flag} must be a duration such as 30m, 24h or 7d (got "${text}")`);
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS[p[2] ?? 's'] ?? 0), 0);
  if (ms <= 0) throw new TokenError(`--${flag} must be longer than zero (got "${text}")`);
  return ms;
}
