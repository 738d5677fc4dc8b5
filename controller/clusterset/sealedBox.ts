import nacl from 'tweetnacl';
import { keyBytes } from '../wireguard/keys.js';

/**
 * Credentials the hub hands to one joining member, readable only by the holder
 * of the session key the member put in its join request: NaCl box
 * (X25519 + XSalsa20-Poly1305) from a one-time hub key. Anyone who can read
 * the request sees only ciphertext.
 */
export interface SealedBox {
  /** base64 */
  ciphertext: string;
  nonce: string;
  /** The hub's one-time public key. */
  senderKey: string;
}

export interface SessionKeyPair {
  publicKey: string;
  secretKey: string;
}

export class SealedBoxError extends Error {
  override name = 'SealedBoxError';
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

export function newSessionKeyPair(): SessionKeyPair {
  const pair = nacl.box.keyPair();
  return { publicKey: b64(pair.publicKey), secretKey: b64(pair.secretKey) };
}

export function seal(plaintext: string, recipientKey: string): SealedBox {
  const sender = nacl.box.keyPair();
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  const ciphertext = nacl.box(new TextEncoder().encode(plaintext), nonce, keyBytes(recipientKey, 'session key'), sender.secretKey);
  return { ciphertext: b64(ciphertext), nonce: b64(nonce), senderKey: b64(sender.publicKey) };
}

/** The plaintext, or a SealedBoxError when the box was not sealed to this key or was altered. */
export function open(box: SealedBox, secretKey: string): string {
  const nonce = Buffer.from(box.nonce, 'base64');
  if (nonce.length !== nacl.box.nonceLength) throw new SealedBoxError(`the nonce must be ${nacl.box.nonceLength} bytes`);
  const plain = nacl.box.open(new Uint8Array(Buffer.from(box.ciphertext, 'base64')), new Uint8Array(nonce), keyBytes(box.senderKey, 'sender key'), keyBytes(secretKey, 'session secret key'));
  if (!plain) throw new SealedBoxError('the credentials were not sealed to this cluster\'s session key, or were altered');
  return new TextDecoder().decode(plain);
}
