import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { addNetns, deleteNetnsAndProcesses } from './net.js';
import { startContainerProcess } from './container.js';
import { waitFor } from '../../test/harness/wait.js';

const NETNS = 'fbt-container';
let dir = '';

before(async () => {
  await deleteNetnsAndProcesses(NETNS);
  await addNetns(NETNS);
  dir = await mkdtemp(join(tmpdir(), 'fbt-container-'));
});

after(async () => {
  await deleteNetnsAndProcesses(NETNS);
  await rm(dir, { recursive: true, force: true });
});

const spec = (name: string, argv: string[]) => ({
  netns: NETNS,
  hostname: name,
  argv,
  env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  mounts: [],
  workingDir: undefined,
  dir: join(dir, name),
  createdPathsFile: join(dir, 'created-paths'),
});

// A probe pod's curl can end within milliseconds; its exit was once lost when
// it came before the runtime's next await, and the pod read Running forever.
test('a container that exits before anyone awaits it still reports its exit code', async () => {
  const proc = await startContainerProcess(spec('quick', ['sh', '-c', 'exit 3']));
  await waitFor(() => Promise.resolve(proc.child.exitCode !== null ? true : undefined), { what: 'the container process to exit', timeoutMs: 10_000, intervalMs: 10 });
  const giveUp = new AbortController();
  const lost = delay(5_000, undefined, { signal: giveUp.signal }).then(() => assert.fail('the exit was never reported'));
  const exited = await Promise.race([proc.exited, lost]).finally(() => giveUp.abort());
  assert.deepEqual(exited, { code: 3, signal: null });
});

test('a container runs in its pod network namespace with the pod hostname, and its output goes to its log', async () => {
  const proc = await startContainerProcess(spec('named', ['sh', '-c', 'hostname; ip -o link show | cut -d: -f2']));
  assert.deepEqual(await proc.exited, { code: 0, signal: null });
  const [hostname, ...links] = (await readFile(join(dir, 'named', 'log'), 'utf8')).trim().split('\n');
  assert.equal(hostname, 'named');
  assert.deepEqual(links.map((l) => l.trim()), ['lo'], 'only the namespace loopback, none of the host links');
});
