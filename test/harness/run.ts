import { execFile, spawn } from 'node:child_process';
import { HarnessError } from './errors.js';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a short command to completion; a non-zero exit is a COMMAND_FAILED error carrying stderr. */
export function run(file: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', env: { ...process.env, ...opts.env } },
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

/**
 * The command line that runs `file` in a network namespace: a named one (`ip
 * netns exec`), or a pod's on a real node given as /proc/<pid>/ns/net, where
 * the command also sees that pod's /etc/resolv.conf, as `ip netns exec` shows a
 * named one's, so names resolve as in the pod.
 */
export function inNetns(netns: string, file: string, args: string[]): [string, string[]] {
  const pod = /^\/proc\/(\d+)\/ns\/net$/.exec(netns);
  if (!pod) return ['ip', ['netns', 'exec', netns, file, ...args]];
  const resolvConf = `/proc/${pod[1] ?? ''}/root/etc/resolv.conf`;
  // The kernel binds no file of another mount namespace, so a copy goes on a tmpfs that only this
  // command's private mount namespace sees (over /mnt), and is bound over /etc/resolv.conf from there.
  const script = 'if [ -f "$0" ]; then mount -t tmpfs -o size=64k pod-resolv /mnt && cat "$0" > /mnt/resolv.conf && mount --bind /mnt/resolv.conf /etc/resolv.conf; fi; exec "$@"';
  return ['nsenter', [`--net=${netns}`, '--', 'unshare', '--mount', '--', 'sh', '-c', script, resolvConf, file, ...args]];
}

/** Runs a command inside a network namespace (see inNetns). */
export function runIn(netns: string, file: string, args: string[], opts?: { input?: string; timeoutMs?: number }) {
  const [command, argv] = inNetns(netns, file, args);
  return run(command, argv, opts);
}

/** A packet capture running in a network namespace; `stop` returns one line per packet. */
export interface Capture {
  /** Lines captured so far. */
  seen(): string[];
  stop(): Promise<string[]>;
}

/** Starts tcpdump on `iface` in `netns` and resolves once it is capturing. */
export async function captureIn(netns: string, iface: string, filter: string[] = []): Promise<Capture> {
  const [command, argv] = inNetns(netns, 'tcpdump', ['-l', '-n', '-i', iface, ...filter]);
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
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
