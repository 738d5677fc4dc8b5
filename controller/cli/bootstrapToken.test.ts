import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Secret } from '@kubernetes/client-node';
import { SecretKind, type Secret } from '../objects/core.js';
import { decodeObject } from '../objects/decode.js';
import { bootstrapTokenSecret, joinTokenInfo, newBootstrapToken, parseDuration, TOKEN_PATTERN, tokenId, tokenText } from './bootstrapToken.js';

/** The Secret as the apiserver returns it: stringData folded into base64 data. */
function stored(s: ReturnType<typeof bootstrapTokenSecret>): Secret {
  const data = Object.fromEntries(Object.entries(s.stringData).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  return decodeObject(SecretKind, { apiVersion: 'v1', kind: 'Secret', metadata: s.metadata ?? {}, type: s.type ?? '', data } satisfies V1Secret);
}

test('a new token has the format the apiserver accepts and expires when asked', () => {
  const now = new Date('2026-11-22T10:00:00Z');
  const t = newBootstrapToken(3_600_000, now);
  assert.match(tokenText(t), TOKEN_PATTERN);
  assert.equal(t.expiration.toISOString(), '2026-11-22T11:00:00.000Z');
  assert.notEqual(tokenText(newBootstrapToken(1, now)), tokenText(newBootstrapToken(1, now)));
});

test('the Secret only authenticates, into FleetBoard\'s group, and reads back as a join token without its secret', () => {
  const t = newBootstrapToken(60_000, new Date('2026-11-22T10:00:00.123Z'));
  const s = bootstrapTokenSecret(t);
  assert.equal(s.metadata?.name, `bootstrap-token-${t.id}`);
  assert.equal(s.metadata.namespace, 'kube-system');
  assert.equal(s.stringData.expiration, '2026-11-22T10:01:00Z');
  assert.equal(s.stringData['usage-bootstrap-authentication'], 'true');
  assert.equal(s.stringData['usage-bootstrap-signing'], undefined);
  const info = joinTokenInfo(stored(s), new Date('2026-11-22T10:00:30Z'));
  assert.deepEqual(info, { id: t.id, expires: new Date('2026-11-22T10:01:00Z'), expired: false, description: 'FleetBoard member join' });
  assert.equal(joinTokenInfo(stored(s), new Date('2026-11-22T10:02:00Z'))?.expired, true);
  assert.doesNotMatch(JSON.stringify(info), new RegExp(t.secret));
});

test('bootstrap tokens of other users (kubeadm node joins) are not join tokens', () => {
  const s = stored(bootstrapTokenSecret(newBootstrapToken(60_000)));
  s.data['auth-extra-groups'] = Buffer.from('system:bootstrappers:kubeadm:default-node-token').toString('base64');
  assert.equal(joinTokenInfo(s), undefined);
});

test('revoke takes a token or its id and refuses anything else', () => {
  assert.equal(tokenId('abcdef.0123456789abcdef'), 'abcdef');
  assert.equal(tokenId('abcdef'), 'abcdef');
  assert.throws(() => tokenId('ABCDEF'), /neither a token/);
  assert.throws(() => tokenId('abcdef.short'), /neither a token/);
});

test('durations: units, combinations, and clear errors', () => {
  assert.equal(parseDuration('ttl', '90s'), 90_000);
  assert.equal(parseDuration('ttl', '1h30m'), 5_400_000);
  assert.equal(parseDuration('ttl', '7d'), 604_800_000);
  assert.throws(() => parseDuration('ttl', '24'), /--ttl must be a duration such as 30m/);
  assert.throws(() => parseDuration('timeout', '5x'), /--timeout must be a duration/);
  assert.throws(() => parseDuration('ttl', '0s'), /longer than zero/);
});
