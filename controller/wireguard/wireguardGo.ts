import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { netnsArgv } from '../../plugin/netns/exec.js';
import { ipDeleteIfPresent } from '../../plugin/netns/ip.js';
import type { DeviceConfig, DeviceStatus, WireGuardDevice } from './device.js';
import { WireGuardError } from './errors.js';
import { planSet } from './uapi.js';
import { UapiClient, uapiSocketPath } from './uapiClient.js';
import { checkInterfaceName } from './validate.js';

export interface WireGuardGoOptions {
  /** Network namespace path to create the interface in; undefined = ours (the cnf netns). */
  netns?: string | undefined;
  binary?: string;
  /** wireguard-go always uses /var/run/wireguard; tests point elsewhere only to read. */
  socketDir?: string;
  startTimeoutMs?: number;
  log: Logger;
}

/**
 * A WireGuard interface run by wireguard-go and configured over its UAPI
 * socket. A device left running by an earlier controller is adopted, so a
 * controller restart keeps tunnels and sessions up; if wireguard-go dies,
 * the owner hears of it (onDied) and its next apply starts it again with the
 * whole configuration.
 */
export class WireGuardGoDevice implements WireGuardDevice {
  private child: ChildProcess | undefined;
  private readonly uapi: UapiClient;
  private closed = false;
  private created = 0;
  private readonly diedListeners: (() => void)[] = [];

  get generation(): number {
    return this.created;
  }

  constructor(
    readonly name: string,
    private readonly opts: WireGuardGoOptions,
  ) {
    checkInterfaceName(name);
    this.uapi = new UapiClient(uapiSocketPath(name, opts.socketDir));
  }

  async apply(config: DeviceConfig): Promise<void> {
    const plan = planSet(await this.ensureRunning(), config);
    if (plan) await this.uapi.set(plan);
  }

  async status(): Promise<DeviceStatus> {
    return this.uapi.get();
  }

  onDied(listener: () => void): void {
    this.diedListeners.push(listener);
  }

  /** Removes the interface; wireguard-go exits with it and removes its socket. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      return;
    }
    // Adopted from an earlier controller: no child to signal, but wireguard-go stops when its interface goes.
    await ipDeleteIfPresent({ netns: this.opts.netns }, ['link', 'del', this.name]);
  }

  /** The device's state, or undefined when nothing answers on its socket (any other failure is thrown). */
  async running(): Promise<DeviceStatus | undefined> {
    try {
      return await this.uapi.get();
    } catch (err) {
      if (err instanceof WireGuardError && err.code === 'UNAVAILABLE') return undefined;
      throw err;
    }
  }

  /** Starts wireguard-go unless a device already answers; resolves with the device's state. */
  private async ensureRunning(): Promise<DeviceStatus> {
    if (this.closed) throw new WireGuardError('UNAVAILABLE', `${this.name} is closed`);
    const adopted = await this.running();
    if (adopted) return adopted;
    // Nothing answers: a stale socket would make wireguard-go refuse to start.
    await rm(this.uapi.socketPath, { force: true });
    this.opts.log.info({ iface: this.name }, 'starting wireguard-go');
    this.created += 1;
    const [cmd, args] = netnsArgv(this.opts, this.opts.binary ?? 'wireguard-go', ['-f', this.name]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'error' } });
    this.child = child;
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString('utf8'));
      if (output.length > 20) output.shift();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('exit', (code, signal) => {
      if (this.closed) return;
      this.opts.log.error({ iface: this.name, code, signal, output: output.join('').slice(-2000) }, 'wireguard-go exited; starting it again');
      for (const listener of this.diedListeners) listener();
    });
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 10_000);
    for (;;) {
      const started = await this.running();
      if (started) return started;
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new WireGuardError('UNAVAILABLE', `wireguard-go for ${this.name} exited at start: ${output.join('').trim().slice(-500) || `code ${child.exitCode}`}`);
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new WireGuardError('UNAVAILABLE', `wireguard-go for ${this.name} did not open ${this.uapi.socketPath} in time`);
      }
      await delay(50);
    }
  }
}
