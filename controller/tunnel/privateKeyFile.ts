import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { generatePrivateKey, isValidKey } from '../wireguard/keys.js';

/**
 * The node's WireGuard private key, kept in a node-local file (mode 0600) so a
 * restart keeps the same public key and peers need no update. It is read
 * here and handed only to the local WireGuard device; it is never logged or
 * published.
 */
export async function loadOrCreatePrivateKey(path: string, log: Logger): Promise<string> {
  let text: string | undefined;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== undefined && isValidKey(text)) return text;
  if (text !== undefined) {
    // Kept aside rather than overwritten, so nothing is lost; peers learn the new public key.
    await rename(path, `${path}.invalid`);
    log.warn({ path, keptAs: `${path}.invalid` }, 'the WireGuard key file does not hold a key; a new key is made');
  }
  const key = generatePrivateKey();
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${key}\n`, { mode: 0o600 });
  await rename(tmp, path);
  log.info({ path }, 'made a new WireGuard key for this node');
  return key;
}
