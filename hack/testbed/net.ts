import { existsSync } from 'node:fs';
import { run } from '../../test/harness/run.js';
import { waitFor } from '../../test/harness/wait.js';

/** Thin wrappers over iproute2 and nft, one kernel operation each. */

const ipIn = (netns: string | undefined, args: string[]) => run('ip', netns ? ['-n', netns, ...args] : args);

export async function addNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'add', name]);
  await ipIn(name, ['link', 'set', 'lo', 'up']);
}

export async function deleteNetnsIfPresent(name: string): Promise<void> {
  if (existsSync(`/run/netns/${name}`)) await run('ip', ['netns', 'delete', name]);
}

/**
 * Deletes a namespace with the processes still running in it (a killed run's
 * wireguard-go or iperf3): they would keep it, and their links and sockets,
 * alive after `ip netns delete`.
 */
export async function deleteNetnsAndProcesses(name: string): Promise<void> {
  if (!existsSync(`/run/netns/${name}`)) return;
  const pidsIn = async () => (await run('ip', ['netns', 'pids', name])).stdout.split('\n').filter(Boolean).map(Number);
  for (const pid of await pidsIn()) killIfAlive(pid);
  await waitFor(async () => ((await pidsIn()).length === 0 ? true : undefined), { what: `the processes left in ${name} to exit`, timeoutMs: 10_000, intervalMs: 50 });
  await run('ip', ['netns', 'delete', name]);
}

function killIfAlive(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    // Exited since it was listed: what we wanted.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export async function listNetns(): Promise<string[]> {
  const { stdout } = await run('ip', ['-j', 'netns', 'list']);
  const parsed = JSON.parse(stdout.trim() || '[]') as { name: string }[];
  return parsed.map((n) => n.name);
}

/** A veth pair with each end moved into its namespace (undefined: the host's). */
export async function addVeth(
  a: { netns: string | undefined; name: string },
  b: { netns: string | undefined; name: string },
  mtu = 1500,
): Promise<void> {
  const tmpA = `fbt${process.pid % 10000}a${Math.floor(Math.random() * 1e4)}`;
  const tmpB = `fbt${process.pid % 10000}b${Math.floor(Math.random() * 1e4)}`;
  await run('ip', ['link', 'add', tmpA, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', tmpB, 'mtu', String(mtu)]);
  for (const [tmp, end] of [
    [tmpA, a],
    [tmpB, b],
  ] as const) {
    if (end.netns) await run('ip', ['link', 'set', tmp, 'netns', end.netns]);
    await ipIn(end.netns, ['link', 'set', tmp, 'name', end.name]);
    await ipIn(end.netns, ['link', 'set', end.name, 'up']);
  }
}

export async function addBridge(netns: string, name: string): Promise<void> {
  await ipIn(netns, ['link', 'add', name, 'type', 'bridge']);
  await ipIn(netns, ['link', 'set', name, 'up']);
}

export async function setMaster(netns: string, link: string, bridge: string): Promise<void> {
  await ipIn(netns, ['link', 'set', link, 'master', bridge]);
}

export async function addAddress(netns: string | undefined, link: string, cidr: string): Promise<void> {
  await ipIn(netns, ['addr', 'add', cidr, 'dev', link]);
}

export async function addRoute(netns: string, dst: string, via: string): Promise<void> {
  await ipIn(netns, ['route', 'replace', dst, 'via', via]);
}

export async function deleteRouteIfPresent(netns: string, dst: string): Promise<void> {
  await ipIn(netns, ['route', 'del', dst]).catch(() => undefined);
}

export async function deleteLinkIfPresent(netns: string | undefined, name: string): Promise<void> {
  const present = await ipIn(netns, ['link', 'show', name]).then(
    () => true,
    () => false,
  );
  if (present) await ipIn(netns, ['link', 'delete', name]);
}

/** Host links whose names start with `prefix`. */
export async function listHostLinks(prefix: string): Promise<string[]> {
  const { stdout } = await run('ip', ['-j', 'link', 'show']);
  const links = JSON.parse(stdout) as { ifname: string }[];
  return links.map((l) => l.ifname.split('@')[0] ?? '').filter((n) => n.startsWith(prefix));
}

export async function sysctl(netns: string, key: string, value: string): Promise<void> {
  await run('ip', ['netns', 'exec', netns, 'sysctl', '-q', '-w', `${key}=${value}`]);
}

/** Loads an nft ruleset (one table, replaced whole) into a namespace. */
export async function nftApply(netns: string, ruleset: string): Promise<void> {
  await run('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], { input: ruleset });
}
