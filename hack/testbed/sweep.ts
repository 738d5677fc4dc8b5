import { existsSync, readFileSync } from 'node:fs';
import { rm, rmdir, unlink } from 'node:fs/promises';
import { destroyNetwork } from './network.js';
import { nodesWithCgroups, removeNodeCgroup } from './node/cgroups.js';
import type { TestbedPaths } from './paths.js';

function readLines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes whatever a testbed left: container process groups, real nodes'
 * cgroup trees with all their processes, every testbed namespace and host link, the mount points made on the host, and (unless
 * `keepState`) the state directory. Safe to run twice or with nothing up.
 */
export async function sweep(paths: TestbedPaths, opts: { keepState?: boolean } = {}) {
  let processes = 0;
  for (const pid of readLines(paths.pidFile).map(Number)) {
    if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) continue;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      process.kill(pid, 'SIGKILL');
    }
    processes += 1;
  }
  // Real nodes: every process of a node, containers included, is in its cgroup tree.
  for (const node of await nodesWithCgroups()) {
    await removeNodeCgroup(node);
    processes += 1;
  }
  const net = await destroyNetwork();
  let paths_ = 0;
  // Deepest first; a mount point that is not empty any more belongs to someone else.
  for (const p of readLines(paths.createdPathsFile).reverse()) {
    const removed = await rmdir(p).then(
      () => true,
      () => unlink(p).then(() => true, () => false),
    );
    if (removed) paths_ += 1;
  }
  // /etc/netns holds only what `ip netns` users put there; drop it once it is empty.
  await rmdir('/etc/netns').catch(() => undefined);
  if (!opts.keepState) await rm(paths.stateDir, { recursive: true, force: true });
  return { processes, netns: net.netns, links: net.links, paths: paths_ };
}
