import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HarnessError } from '../../../test/harness/errors.js';
import { waitFor } from '../../../test/harness/wait.js';

const CGROUP_FS = '/sys/fs/cgroup';
/** The cgroup v1 hierarchies a node's tree is made in; namespace.sh joins the same ones. */
export const HIERARCHIES = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd'];

/** Every testbed node's cgroup tree lives under this one, in each hierarchy. */
const TESTBED_CGROUP = '/fleetboard-testbed';

/** The cgroup a node's processes run in, and the kubelet's cgroupRoot for its pods. */
export function nodeCgroup(node: string): string {
  return `${TESTBED_CGROUP}/${node}`;
}

/**
 * Makes a node's cgroup in every hierarchy. The host has cgroup v1 (the
 * kubelet runs with failCgroupV1: false); a cpuset starts with no CPUs, so it
 * takes its parent's.
 */
export async function createNodeCgroup(node: string): Promise<void> {
  if (existsSync(join(CGROUP_FS, 'cgroup.controllers'))) {
    throw new HarnessError('COMMAND_FAILED', 'the testbed\'s nodes need a cgroup v1 host (this one mounts cgroup v2 at /sys/fs/cgroup)');
  }
  for (const h of HIERARCHIES) await mkdir(join(CGROUP_FS, h, nodeCgroup(node)), { recursive: true });
  for (const path of [TESTBED_CGROUP, nodeCgroup(node)]) {
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const dir = join(CGROUP_FS, 'cpuset', path);
      // cgroupfs files are written with one write(2), which copyFile does not promise.
      if ((await readFile(join(dir, file), 'utf8')).trim() === '') await writeFile(join(dir, file), await readFile(join(dir, '..', file), 'utf8'));
    }
  }
}

/** Process ids in a cgroup and all its descendants, in one hierarchy. */
async function processesIn(dir: string): Promise<number[]> {
  if (!existsSync(dir)) return [];
  const pids = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) pids.push(...(await processesIn(join(dir, entry.name))));
  }
  return pids;
}

/** How many processes a node's cgroup tree still holds. */
export async function nodeProcesses(node: string): Promise<number[]> {
  return processesIn(join(CGROUP_FS, 'pids', nodeCgroup(node)));
}

async function waitForFreezerState(dir: string, state: string): Promise<void> {
  await waitFor(async () => ((await readFile(join(dir, 'freezer.state'), 'utf8')).trim() === state ? true : undefined), {
    what: `${dir} to become ${state}`,
    timeoutMs: 10_000,
    intervalMs: 20,
  });
}

/**
 * Kills every process of a node (containerd, its shims, the kubelet, every
 * container) and removes its cgroups. The tree is frozen first, so nothing
 * forks or restarts a container while the kill goes on.
 */
export async function removeNodeCgroup(node: string): Promise<void> {
  const freezer = join(CGROUP_FS, 'freezer', nodeCgroup(node));
  if (existsSync(freezer)) {
    await writeFile(join(freezer, 'freezer.state'), 'FROZEN');
    await waitForFreezerState(freezer, 'FROZEN');
    for (const pid of await processesIn(freezer)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await writeFile(join(freezer, 'freezer.state'), 'THAWED');
    await waitFor(async () => ((await processesIn(freezer)).length === 0 ? true : undefined), {
      what: `every process of node ${node} to end after SIGKILL`,
      timeoutMs: 10_000,
      intervalMs: 20,
    });
  }
  for (const h of HIERARCHIES) await removeTree(join(CGROUP_FS, h, nodeCgroup(node)));
  for (const h of HIERARCHIES) {
    const top = join(CGROUP_FS, h, TESTBED_CGROUP);
    // Another node may still use it.
    if (existsSync(top) && (await readdir(top, { withFileTypes: true })).every((e) => !e.isDirectory())) await rmdir(top).catch(() => undefined);
  }
}

/** The nodes that have a cgroup tree, running or left by a testbed that crashed. */
export async function nodesWithCgroups(): Promise<string[]> {
  const top = join(CGROUP_FS, 'freezer', TESTBED_CGROUP);
  if (!existsSync(top)) return [];
  return (await readdir(top, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
}

async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await removeTree(join(dir, entry.name));
  }
  // A cgroup whose last process has just exited can stay busy for a moment.
  await waitFor(
    async () => {
      try {
        await rmdir(dir);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EBUSY') return undefined;
        throw err;
      }
    },
    { what: `cgroup ${dir} to be removed`, timeoutMs: 5000, intervalMs: 20 },
  );
}
