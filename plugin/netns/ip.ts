import { execIn, type NetnsTarget } from './exec.js';
import { NetnsError } from './errors.js';

/** iproute2 in a network namespace (see NetnsTarget). */
const exec = (target: NetnsTarget, args: string[], input?: string) => execIn(target, 'ip', args, input);

/** Runs iproute2 commands (one per line, no leading "ip") in one process; stops at the first failure. */
export async function ipBatch(target: NetnsTarget, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  await exec(target, ['-batch', '-'], `${lines.join('\n')}\n`);
}

/** `ip -j <args>` parsed; an absent device yields []. */
export async function ipJson<T>(target: NetnsTarget, args: string[]): Promise<T[]> {
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

/** Runs one "add" command, treating "already exists" as success (idempotent creates); true when it created. */
export async function ipAddIfAbsent(target: NetnsTarget, args: string[]): Promise<boolean> {
  try {
    await exec(target, args);
    return true;
  } catch (err) {
    if (err instanceof NetnsError && err.code === 'COMMAND_FAILED' && /File exists/.test(err.message)) return false;
    throw err;
  }
}

/** Runs one command, treating "already gone" as success (idempotent deletes). */
export async function ipDeleteIfPresent(target: NetnsTarget, args: string[]): Promise<void> {
  try {
    await exec(target, args);
  } catch (err) {
    if (err instanceof NetnsError && (err.code === 'NETNS_GONE' || /does not exist|Cannot find device|No such process/.test(err.message))) return;
    throw err;
  }
}
