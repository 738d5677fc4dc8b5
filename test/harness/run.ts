import { execFile } from 'node:child_process';
import { HarnessError } from './errors.js';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a short command to completion; a non-zero exit is a COMMAND_FAILED error carrying stderr. */
export function run(file: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          const detail = stderr.trim() || err.message;
          reject(new HarnessError('COMMAND_FAILED', `${file} ${args.join(' ')}: ${detail}`, { cause: err }));
          return;
        }
        resolve({ stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command inside a network namespace. */
export function runIn(netns: string, file: string, args: string[], opts?: { input?: string; timeoutMs?: number }) {
  return run('ip', ['netns', 'exec', netns, file, ...args], opts);
}
