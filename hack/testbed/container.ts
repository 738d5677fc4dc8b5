import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdir, realpath, stat, writeFile } from 'node:fs/promises';
import { closeSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface ContainerProcessSpec {
  /** Network namespace the process runs in (the pod's, or the node's for host-network pods). */
  netns: string;
  hostname: string;
  argv: string[];
  env: Record<string, string>;
  mounts: Mount[];
  workingDir: string | undefined;
  /** Where the launch script and the log go. */
  dir: string;
  /** File recording mount points this run created on the host, removed by `testbed down`. */
  createdPathsFile: string;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Creates missing mount points, recording each directory made so teardown can remove it. */
async function ensureMountPoint(target: string, createdPathsFile: string, isFile: boolean): Promise<void> {
  const missing: string[] = [];
  let dir = isFile ? dirname(target) : target;
  for (;;) {
    const exists = await stat(dir).then(
      () => true,
      () => false,
    );
    if (exists) break;
    missing.unshift(dir);
    dir = dirname(dir);
  }
  for (const d of missing) {
    // Another container may be creating the same mount point right now: only the creator records it.
    const made = await mkdir(d).then(
      () => true,
      (err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw err;
      },
    );
    if (made) await appendFile(createdPathsFile, `${d}\n`);
  }
  if (isFile) {
    const made = await writeFile(target, '', { flag: 'wx' }).then(
      () => true,
      () => false,
    );
    if (made) await appendFile(createdPathsFile, `${target}\n`);
  }
}

/**
 * Writes the launch script: bind mounts in the private mount namespace that
 * `ip netns exec` creates, the pod's hostname in its own UTS namespace, then exec.
 */
function launchScript(spec: ContainerProcessSpec, mounts: Mount[]): string {
  const lines = ['set -e'];
  for (const m of mounts) {
    // rbind, as runtimes do for hostPath: /run/netns holds one nsfs mount per pod.
    lines.push(`mount --rbind ${quote(m.source)} ${quote(m.target)}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${quote(m.target)}`);
  }
  lines.push(`hostname ${quote(spec.hostname)}`);
  if (spec.workingDir) lines.push(`cd ${quote(spec.workingDir)}`);
  lines.push(`exec ${spec.argv.map(quote).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

export interface ContainerProcess {
  child: ChildProcess;
  /**
   * Settles when the process exits. Listened for at spawn: a container that
   * ends within milliseconds (curl to a near address) may exit before the
   * caller's next await returns, and 'exit' is not emitted twice.
   */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts one container as a process; its output goes to `<dir>/log`. */
export async function startContainerProcess(spec: ContainerProcessSpec): Promise<ContainerProcess> {
  await mkdir(spec.dir, { recursive: true });
  const mounts: Mount[] = [];
  for (const m of spec.mounts) {
    const isFile = (await stat(m.source)).isFile();
    await ensureMountPoint(m.target, spec.createdPathsFile, isFile);
    // A host path mounted at itself (/var/run/netns is /run/netns) needs no mount, and
    // leaving it alone keeps the host's mount propagation (pods created later appear).
    if (!m.readOnly && (await realpath(m.source)) === (await realpath(m.target))) continue;
    mounts.push(m);
  }
  const script = join(spec.dir, 'launch.sh');
  await writeFile(script, launchScript(spec, mounts));
  const log = openSync(join(spec.dir, 'log'), 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', spec.netns, 'unshare', '--uts', '--', 'sh', script], {
      env: spec.env,
      stdio: ['ignore', log, log],
      detached: true, // own process group, so stop reaches the container's children too
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    return { child, exited };
  } finally {
    closeSync(log);
  }
}
