import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialsRevoked, tokenExpiry } from './hubKubeConfig.js';

const jwt = (claims: object) => `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.signature`;

test('a token\'s expiry is read from its claims; a token without one, or not a JWT, has none', () => {
  assert.equal(tokenExpiry(jwt({ exp: 1_900_000_000 })), 1_900_000_000);
  assert.equal(tokenExpiry(jwt({ sub: 'x' })), undefined);
  assert.equal(tokenExpiry('not-a-jwt'), undefined);
  assert.equal(tokenExpiry('a.%%%.c'), undefined);
});

test('a refused token counts as revoked only while it has not expired, with a minute for clock skew', () => {
  const now = 1_800_000_000_000;
  assert.equal(credentialsRevoked(jwt({ exp: now / 1000 + 3600 }), now), true, 'an hour left: the hub revoked it');
  assert.equal(credentialsRevoked(jwt({ exp: now / 1000 + 30 }), now), false, 'about to expire: maybe the clocks differ');
  assert.equal(credentialsRevoked(jwt({ exp: now / 1000 - 10 }), now), false, 'expired: renewal is the fix, not removal');
  assert.equal(credentialsRevoked('legacy-token-without-claims', now), true, 'a token that never expires can only have been revoked');
});
