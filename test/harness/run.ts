import { execFile, spawn } from 'node:child_process';
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

/** A packet capture running in a network namespace; `stop` returns one line per packet. */
export interface Capture {
  /** Lines captured so far. */
  seen(): string[];
  stop(): Promise<string[]>;
}

/** Starts tcpdump on `iface` in `netns` and resolves once it is capturing. */
export async function captureIn(netns: string, iface: string, filter: string[] = []): Promise<Capture> {
  const child = spawn('ip', ['netns', 'exec', netns, 'tcpdump', '-l', '-n', '-i', iface, ...filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  // 'close', not 'exit': only then has all of stdout been read.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
      if (/listening on/.test(err)) resolve();
    });
    void exited.then(() => reject(new HarnessError('COMMAND_FAILED', `tcpdump in ${netns} on ${iface} stopped: ${err.trim()}`)));
  });
  return {
    seen: () => [...lines],
    async stop() {
      child.kill('SIGINT');
      await exited;
      if (partial) lines.push(partial);
      return lines;
    },
  };
}
