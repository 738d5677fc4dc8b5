import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { NetnsError } from './errors.js';

/**
 * Where a command runs: our own network namespace (the cnf netns) or, through
 * nsenter, one given by path (iproute2's -n and `ip netns exec` only take
 * names under /run/netns; runtimes may put namespaces anywhere).
 */
export interface NetnsTarget {
  /** Path of the network namespace; undefined = ours. */
  netns?: string | undefined;
}

const TIMEOUT_MS = 5000;

/** The command line that runs `file args` in the target's namespace. */
export function netnsArgv(target: NetnsTarget, file: string, args: string[]): [string, string[]] {
  return target.netns ? ['nsenter', [`--net=${target.netns}`, '--', file, ...args]] : [file, args];
}

/** Runs a short command to completion and resolves with its stdout; `input` (secrets included) goes to its stdin. */
export function execIn(target: NetnsTarget, file: string, args: string[], input?: string): Promise<string> {
  const [cmd, full] = netnsArgv(target, file, args);
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
      reject(new NetnsError('COMMAND_FAILED', `${file} ${args.join(' ')}${target.netns ? ` in ${target.netns}` : ''}: ${detail}`, { cause: err }));
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}
