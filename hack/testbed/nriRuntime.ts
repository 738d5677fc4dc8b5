import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { openSync, closeSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { toolPath, type ToolName } from '../../test/harness/tools.js';
import { HarnessError } from '../../test/harness/errors.js';
import type { NriRelease } from './plan.js';

export interface SandboxInfo {
  id: string;
  name: string;
  uid: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Pod network namespace path; empty for host-network pods. */
  netns: string;
  ips?: string[];
}

type Op = 'RunPodSandbox' | 'StopPodSandbox' | 'RemovePodSandbox';

const DRIVER: Record<NriRelease, ToolName> = { current: 'nri-runtime', 'v0.3': 'nri-runtime-v0.3' };

interface Reply {
  id: number;
  error?: string;
}

/**
 * Drives one node's NRI runtime driver (containerd's NRI adaptation code): plugins
 * connect to `socket`; pod sandbox events go through `deliver()`.
 */
export class NriRuntime {
  private child: ChildProcessByStdio<Writable, Readable, null> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (r: Reply) => void>();
  private ready: Promise<void> | undefined;

  constructor(
    readonly socket: string,
    private readonly logFile: string,
    readonly release: NriRelease = 'current',
  ) {}

  /**
   * Starts the runtime. `restore` lists the sandboxes that outlived a restart: the
   * driver knows them before plugins can connect, so their Synchronize lists them.
   */
  start(restore: readonly SandboxInfo[] = []): Promise<void> {
    const restoreFile = `${this.socket}.restore.json`;
    writeFileSync(restoreFile, JSON.stringify(restore));
    const log = openSync(this.logFile, 'a');
    const child = spawn(toolPath(DRIVER[this.release]), ['--socket', this.socket, '--restore', restoreFile], { stdio: ['pipe', 'pipe', log] }) as ChildProcessByStdio<Writable, Readable, null>;
    closeSync(log);
    child.stdin.on('error', () => undefined); // a crashed runtime: its exit fails what was pending
    this.child = child;
    this.ready = new Promise((resolve, reject) => {
      child.once('exit', (code, signal) => {
        const err = new HarnessError('PROCESS_EXITED', `${DRIVER[this.release]} exited (${signal ?? `code ${code}`}); see ${this.logFile}`);
        reject(err);
        for (const settle of this.pending.values()) settle({ id: 0, error: err.message });
        this.pending.clear();
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        let reply: Reply;
        try {
          reply = JSON.parse(line) as Reply;
        } catch {
          return;
        }
        if (reply.id === 0) {
          resolve();
          return;
        }
        this.pending.get(reply.id)?.(reply);
        this.pending.delete(reply.id);
      });
    });
    return this.ready;
  }

  /** Delivers one pod sandbox event to every connected plugin; rejects with the plugins' error. */
  async deliver(op: Op, pod: SandboxInfo): Promise<void> {
    await this.ready;
    const child = this.child;
    if (!child) throw new Error('nri-runtime is not started');
    if (child.exitCode !== null || child.signalCode !== null) throw new HarnessError('PROCESS_EXITED', `NRI ${op} for ${pod.namespace}/${pod.name}: the NRI runtime is not running`);
    const id = this.nextId++;
    const reply = await new Promise<Reply>((resolve) => {
      this.pending.set(id, resolve);
      child.stdin.write(`${JSON.stringify({ id, op, pod })}\n`);
    });
    if (reply.error) throw new HarnessError('COMMAND_FAILED', `NRI ${op} for ${pod.namespace}/${pod.name}: ${reply.error}`);
  }

  /**
   * A crash and a restart, as when containerd is killed and systemd starts it
   * again. `restore` is read once the old runtime is gone, so a sandbox that
   * finished starting meanwhile is not forgotten.
   */
  async restart(restore: () => readonly SandboxInfo[]): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await this.start(restore());
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
