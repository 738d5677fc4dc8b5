import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { NetnsError } from './errors.js';

/**
 * iproute2 run in our own network namespace (the cnf netns) or, through
 * nsenter, in a pod's namespace given by path (iproute2's -n only takes names
 * under /run/netns; runtimes may put namespaces anywhere).
 */
export interface IpTarget {
  /** Path of the network namespace; undefined = ours. */
  netns?: string | undefined;
}

const TIMEOUT_MS = 5000;

function argv(target: IpTarget, args: string[]): [string, string[]] {
  return target.netns ? ['nsenter', [`--net=${target.netns}`, '--', 'ip', ...args]] : ['ip', args];
}

function exec(target: IpTarget, args: string[], input?: string): Promise<string> {
  const [cmd, full] = argv(target, args);
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, full, { timeout: TIMEOUT_MS, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (!err) {
        resolve(stdout);
        return;
      }
      if (target.netns && !existsSync(target.netns)) {
        reject(new NetnsError('NETNS_GONE', `network namespace ${target.netns} no longer exists`, { cause: err }));
        return;
      }
      const detail = stderr.trim() || err.message;
      reject(new NetnsError('COMMAND_FAILED', `ip ${args.join(' ')}${target.netns ? ` in ${target.netns}` : ''}: ${detail}`, { cause: err }));
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Runs iproute2 commands (one per line, no leading "ip") in one process; stops at the first failure. */
export async function ipBatch(target: IpTarget, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  await exec(target, ['-batch', '-'], `${lines.join('\n')}\n`);
}

/** `ip -j <args>` parsed; an absent device yields []. */
export async function ipJson<T>(target: IpTarget, args: string[]): Promise<T[]> {
  let out: string;
  try {
    out = await exec(target, ['-j', ...args]);
  } catch (err) {
    if (err instanceof NetnsError && err.code === 'COMMAND_FAILED' && /does not exist|Cannot find device/.test(err.message)) return [];
    throw err;
  }
  if (out.trim() === '') return [];
  try {
    return JSON.parse(out) as T[];
  } catch (err) {
    throw new NetnsError('BAD_OUTPUT', `ip -j ${args.join(' ')} printed something other than JSON`, { cause: err });
  }
}

/** Runs one command, treating "already gone" as success (idempotent deletes). */
export async function ipDeleteIfPresent(target: IpTarget, args: string[]): Promise<void> {
  try {
    await exec(target, args);
  } catch (err) {
    if (err instanceof NetnsError && (err.code === 'NETNS_GONE' || /does not exist|Cannot find device|No such process/.test(err.message))) return;
    throw err;
  }
}
