import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { WireGuardError } from './errors.js';
import { generatePrivateKey, hexToKey, isValidKey, keyBytes, keyToHex, publicKeyOf } from './keys.js';

const wg = (args: string[], input?: string) => execFileSync('wg', args, { input, encoding: 'utf8' }).trim();

test('generated keys are clamped as wg genkey clamps them, and wg pubkey derives the same public key', () => {
  for (let i = 0; i < 20; i++) {
    const priv = generatePrivateKey();
    const bytes = keyBytes(priv);
    assert.equal((bytes[0] ?? 0) & 7, 0, 'low three bits of the first byte cleared');
    assert.equal((bytes[31] ?? 0) & 0xc0, 0x40, 'top bit cleared, second bit set');
    assert.equal(publicKeyOf(priv), wg(['pubkey'], priv));
  }
});

test('public keys of keys made by wg genkey match wg pubkey', () => {
  const priv = wg(['genkey']);
  assert.equal(publicKeyOf(priv), wg(['pubkey'], priv));
});

test('hex round trip, as UAPI writes keys', () => {
  const priv = generatePrivateKey();
  assert.match(keyToHex(priv), /^[0-9a-f]{64}$/);
  assert.equal(hexToKey(keyToHex(priv)), priv);
});

test('keys that are not 32 bytes of base64 are refused with what to fix', () => {
  for (const bad of ['', 'abc', 'A'.repeat(44), `${'A'.repeat(42)}B=`, Buffer.alloc(31).toString('base64'), Buffer.alloc(33).toString('base64')]) {
    assert.equal(isValidKey(bad), false, bad);
    assert.throws(() => publicKeyOf(bad), (e: unknown) => e instanceof WireGuardError && e.code === 'BAD_KEY' && /44 characters/.test(e.message));
  }
  assert.throws(() => hexToKey('zz'), (e: unknown) => e instanceof WireGuardError && e.code === 'BAD_KEY');
  assert.equal(isValidKey(Buffer.alloc(32, 7).toString('base64')), true);
});
