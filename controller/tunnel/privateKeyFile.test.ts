import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { isValidKey } from '../wireguard/keys.js';
import { loadOrCreatePrivateKey } from './privateKeyFile.js';

const log = pino({ level: 'silent' });

test('the key is made once, readable only by root, and the same after a restart', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetboard-key-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'state', 'wireguard.key');
  const key = await loadOrCreatePrivateKey(path, log);
  assert.ok(isValidKey(key));
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal(await loadOrCreatePrivateKey(path, log), key);
});

test('a file that holds no key is kept aside and replaced, never silently overwritten', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetboard-key-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'wireguard.key');
  await writeFile(path, 'garbage\n');
  const key = await loadOrCreatePrivateKey(path, log);
  assert.ok(isValidKey(key));
  assert.equal(await readFile(`${path}.invalid`, 'utf8'), 'garbage\n');
});
