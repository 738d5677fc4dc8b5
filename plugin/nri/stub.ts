import { connect, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { NriSession, type NriHandlers } from './session.js';
import { NriError } from './errors.js';

export interface NriStubOptions {
  socketPath: string;
  pluginName: string;
  /** Two digits, "00"–"99": plugins are called in ascending index order. */
  pluginIndex: string;
  registrationTimeoutMs?: number;
  /** Reconnect backoff: doubles from the first delay up to the maximum. */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  log: Logger;
}

const PLUGIN_NAME = /^[a-z0-9]+$/;
const PLUGIN_INDEX = /^[0-9]{2}$/;

/**
 * Keeps the plugin connected to the runtime's NRI socket: connects (waiting
 * for the socket to appear), runs one session, and reconnects with backoff
 * when the runtime restarts or the connection breaks.
 */
export class NriStub {
  private session: NriSession | undefined;
  private loop: Promise<void> | undefined;
  private readonly stopSignal = new AbortController();
  private connectedOnce: (() => void) | undefined;
  /** Resolves the first time the plugin is registered and synchronized. */
  readonly firstSync: Promise<void>;

  constructor(
    private readonly handlers: NriHandlers,
    private readonly opts: NriStubOptions,
  ) {
    if (!PLUGIN_NAME.test(opts.pluginName)) throw new NriError('CONFIG', `NRI plugin name "${opts.pluginName}" must be lower-case letters and digits`);
    if (!PLUGIN_INDEX.test(opts.pluginIndex)) throw new NriError('CONFIG', `NRI plugin index "${opts.pluginIndex}" must be two digits, 00 to 99`);
    this.firstSync = new Promise((resolve) => (this.connectedOnce = resolve));
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopSignal.abort();
    this.session?.close();
    await this.loop;
  }

  private isStopped(): boolean {
    return this.stopSignal.signal.aborted;
  }

  private async run(): Promise<void> {
    const { log } = this.opts;
    const initial = this.opts.reconnectInitialMs ?? 200;
    const max = this.opts.reconnectMaxMs ?? 5000;
    let backoff = initial;
    let lastProblem = '';
    while (!this.isStopped()) {
      try {
        const socket = await this.dial();
        const session = new NriSession(socket, this.handlers, {
          pluginName: this.opts.pluginName,
          pluginIndex: this.opts.pluginIndex,
          registrationTimeoutMs: this.opts.registrationTimeoutMs ?? 5000,
          log,
        });
        this.session = session;
        await session.start();
        log.info({ socket: this.opts.socketPath }, 'registered with the runtime and synchronized');
        this.connectedOnce?.();
        backoff = initial;
        lastProblem = '';
        const err = await session.closed;
        if (!this.isStopped()) log.warn({ err: err?.message }, 'NRI connection closed; reconnecting');
      } catch (err) {
        const problem = (err as Error).message;
        // A missing socket is normal until the runtime starts: say it once, not every retry.
        if (problem !== lastProblem) log.warn({ socket: this.opts.socketPath, err: problem }, 'cannot connect to NRI; retrying');
        lastProblem = problem;
      } finally {
        this.session?.close();
        this.session = undefined;
      }
      if (this.isStopped()) break;
      await delay(backoff * (0.5 + Math.random() / 2), undefined, { signal: this.stopSignal.signal }).catch(() => undefined);
      backoff = Math.min(max, backoff * 2);
    }
  }

  private dial(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.opts.socketPath);
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }
}
