import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { HarnessError } from './errors.js';

export interface ProcessSpec {
  /** Short name for messages ("cluster1/kube-apiserver"). */
  name: string;
  command: string;
  args: string[];
  /** Run inside this network namespace (`ip netns exec`); host namespace when absent. */
  netns?: string;
  env?: Record<string, string>;
  cwd?: string;
  /** File that receives stdout and stderr. */
  logFile: string;
}

/**
 * A long-running child process with its output in a log file. It stays in
 * the parent's process group, so whoever owns the group can sweep it.
 */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitedPromise: Promise<void>;
  private markExited!: () => void;

  constructor(readonly spec: ProcessSpec) {
    this.exitedPromise = new Promise((resolve) => (this.markExited = resolve));
  }

  start(): void {
    const { command, args, netns } = this.spec;
    const [file, argv] = netns ? ['ip', ['netns', 'exec', netns, command, ...args]] : [command, args];
    const log = openSync(this.spec.logFile, 'a');
    try {
      this.child = spawn(file, argv, {
        stdio: ['ignore', log, log],
        env: { ...process.env, ...this.spec.env },
        cwd: this.spec.cwd,
      });
    } finally {
      closeSync(log);
    }
    this.child.on('error', () => undefined); // surfaced through 'exit' and the log
    this.child.on('exit', (code, signal) => {
      this.exitInfo = { code, signal };
      this.markExited();
    });
  }

  /** Resolves when the process has exited, for whatever reason. */
  exited(): Promise<void> {
    return this.exitedPromise;
  }

  /** Throws PROCESS_EXITED with the log's tail if the process has died. */
  assertRunning(): void {
    if (!this.exitInfo) return;
    const { code, signal } = this.exitInfo;
    throw new HarnessError(
      'PROCESS_EXITED',
      `${this.spec.name} exited (${signal ?? `code ${code}`}); last log lines from ${this.spec.logFile}:\n${this.logTail()}`,
    );
  }

  logTail(lines = 15): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGKILL, as a crash; resolves once the process is gone. */
  async kill(): Promise<void> {
    if (!this.child || this.exitInfo) return;
    this.child.kill('SIGKILL');
    await this.exitedPromise;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child || this.exitInfo) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      await this.exitedPromise;
    } finally {
      clearTimeout(timer);
    }
  }
}
