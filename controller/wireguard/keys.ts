import nacl from 'tweetnacl';
import { WireGuardError } from './errors.js';

/** WireGuard keys are 32-byte X25519 keys, written as standard base64 (44 characters). */
export const KEY_BYTES = 32;
const BASE64_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** A private key clamped as `wg genkey` does, so every implementation derives the same public key. */
export function generatePrivateKey(): string {
  const key = nacl.randomBytes(KEY_BYTES);
  key[0] = (key[0] ?? 0) & 248;
  key[31] = ((key[31] ?? 0) & 127) | 64;
  return Buffer.from(key).toString('base64');
}

export function publicKeyOf(privateKey: string): string {
  return Buffer.from(nacl.scalarMult.base(keyBytes(privateKey, 'private key'))).toString('base64');
}

/** The 32 bytes of a base64 key, or a WireGuardError naming what was wrong with it. */
export function keyBytes(key: string, what = 'key'): Uint8Array {
  if (!BASE64_KEY.test(key)) throw new WireGuardError('BAD_KEY', `${what} must be 32 bytes in base64 (44 characters ending in "="), as "wg genkey" prints`);
  return new Uint8Array(Buffer.from(key, 'base64'));
}

export function isValidKey(key: string): boolean {
  return BASE64_KEY.test(key);
}

/** UAPI writes keys in lowercase hex. */
export function keyToHex(key: string): string {
  return Buffer.from(keyBytes(key)).toString('hex');
}

export function hexToKey(hex: string): string {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new WireGuardError('BAD_KEY', `expected a key as 64 lowercase hex digits, got ${JSON.stringify(hex.slice(0, 80))}`);
  return Buffer.from(hex, 'hex').toString('base64');
}
