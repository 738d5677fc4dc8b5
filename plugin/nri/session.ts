import type { Socket } from 'node:net';
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Mux } from '../mux/mux.js';
import { TtrpcClient } from '../ttrpc/client.js';
import { TtrpcServer } from '../ttrpc/server.js';
import { RpcStatusError } from '../ttrpc/errors.js';
import {
  decodeConfigure,
  decodePodRequest,
  decodeStateChange,
  decodeSynchronize,
  EMPTY,
  encodeConfigureResponse,
  encodeRegister,
  encodeSynchronizeResponse,
  eventMask,
  NriEvent,
  PLUGIN_SERVICE,
  PLUGIN_SERVICE_CONN,
  RUNTIME_SERVICE,
  RUNTIME_SERVICE_CONN,
  type PodSandbox,
} from './api.js';
import { NriError } from './errors.js';
import { podKey } from './pod.js';

/** What the plugin does on each event; `deadline` (ms since epoch) is when the runtime stops waiting. */
export interface NriHandlers {
  /** All pods the runtime knows, once per connection; must return quickly (reconcile in the background). */
  synchronize(pods: PodSandbox[]): Promise<void>;
  runPodSandbox(pod: PodSandbox, deadline: number): Promise<void>;
  stopPodSandbox(pod: PodSandbox, deadline: number): Promise<void>;
  removePodSandbox(pod: PodSandbox, deadline: number): Promise<void>;
}

export interface SessionOptions {
  pluginName: string;
  pluginIndex: string;
  registrationTimeoutMs: number;
  log: Logger;
}

/** Time kept back from the runtime's deadline so our error reaches it before its timer fires. */
const ANSWER_MARGIN_MS = 250;
const DEFAULT_REQUEST_TIMEOUT_MS = 2000;
const SUBSCRIBED = eventMask([NriEvent.RUN_POD_SANDBOX, NriEvent.STOP_POD_SANDBOX, NriEvent.REMOVE_POD_SANDBOX]);

type PodOp = 'runPodSandbox' | 'stopPodSandbox' | 'removePodSandbox';

/** Older runtimes deliver pod events through StateChange; other events are acknowledged and ignored. */
const STATE_CHANGE_OPS = new Map<number, PodOp>([
  [NriEvent.RUN_POD_SANDBOX, 'runPodSandbox'],
  [NriEvent.STOP_POD_SANDBOX, 'stopPodSandbox'],
  [NriEvent.REMOVE_POD_SANDBOX, 'removePodSandbox'],
]);

/**
 * One connection to the runtime: register, answer Configure and Synchronize,
 * then relay pod events (dedicated RPCs or StateChange) to the handlers.
 */
export class NriSession {
  private readonly mux: Mux;
  private readonly client: TtrpcClient;
  private readonly server = new TtrpcServer();
  private requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS;
  private syncPods: PodSandbox[] = [];
  private synced: (() => void) | undefined;
  /** Resolves with the reason once the connection is gone (undefined: closed without error). */
  readonly closed: Promise<Error | undefined>;

  constructor(
    socket: Socket,
    private readonly handlers: NriHandlers,
    private readonly opts: SessionOptions,
  ) {
    this.mux = new Mux(socket);
    this.server.attach(this.mux.open(PLUGIN_SERVICE_CONN, (b) => this.server.receive(b)));
    this.client = new TtrpcClient(this.mux.open(RUNTIME_SERVICE_CONN, (b) => this.client.receive(b)));
    this.closed = new Promise((resolve) => this.mux.onClose(resolve));
    void this.closed.then((err) => this.client.close(err ?? new NriError('CLOSED', 'the runtime closed the NRI connection')));
    this.server.register(PLUGIN_SERVICE, {
      Configure: (b) => Promise.resolve(this.configure(b)),
      Synchronize: (b) => this.synchronize(b),
      Shutdown: () => {
        this.opts.log.info('runtime is shutting down NRI; will reconnect');
        setImmediate(() => this.close());
        return Promise.resolve(EMPTY);
      },
      RunPodSandbox: (b, call) => this.podEvent('runPodSandbox', decodePodRequest(b, 'RunPodSandboxRequest'), call.deadline),
      StopPodSandbox: (b, call) => this.podEvent('stopPodSandbox', decodePodRequest(b, 'StopPodSandboxRequest'), call.deadline),
      RemovePodSandbox: (b, call) => this.podEvent('removePodSandbox', decodePodRequest(b, 'RemovePodSandboxRequest'), call.deadline),
      StateChange: (b, call) => this.stateChange(b, call.deadline),
    });
  }

  /** Registers and waits until the runtime has configured and synchronized us. */
  async start(): Promise<void> {
    this.mux.start();
    const synced = new Promise<void>((resolve) => (this.synced = resolve));
    try {
      await this.client.call(RUNTIME_SERVICE, 'RegisterPlugin', encodeRegister(this.opts.pluginName, this.opts.pluginIndex), this.opts.registrationTimeoutMs);
    } catch (err) {
      this.close();
      throw new NriError('REGISTER', `registering NRI plugin ${this.opts.pluginName} (index ${this.opts.pluginIndex}): ${(err as Error).message}`, { cause: err });
    }
    const outcome = await Promise.race([synced.then(() => 'synced' as const), this.closed]);
    if (outcome !== 'synced') {
      throw new NriError('CLOSED', `the runtime closed the connection before synchronizing${outcome ? `: ${outcome.message}` : ''}`, { cause: outcome });
    }
  }

  close(): void {
    this.mux.close(undefined);
  }

  private configure(b: Buffer): Buffer {
    const req = decodeConfigure(b);
    if (req.requestTimeout > 0) this.requestTimeoutMs = req.requestTimeout;
    this.opts.log.info(
      { runtime: `${req.runtimeName}/${req.runtimeVersion}`, nriVersion: req.nriVersion, requestTimeoutMs: this.requestTimeoutMs },
      'configured by the runtime',
    );
    // fail_request: a pod we could not wire must not start without its interface.
    return encodeConfigureResponse(SUBSCRIBED, true);
  }

  private async synchronize(b: Buffer): Promise<Buffer> {
    const req = decodeSynchronize(b);
    this.opts.log.debug({ pods: req.pods.length, more: req.more }, 'synchronize part');
    // Large syncs arrive split (more = true); answer more = true until the last part.
    this.syncPods.push(...req.pods);
    if (req.more) return encodeSynchronizeResponse(true);
    const pods = this.syncPods;
    this.syncPods = [];
    await this.handlers.synchronize(pods);
    this.synced?.();
    return encodeSynchronizeResponse(false);
  }

  private async stateChange(b: Buffer, deadline: number | undefined): Promise<Buffer> {
    const ev = decodeStateChange(b);
    const op = STATE_CHANGE_OPS.get(ev.event);
    if (op) await this.podEvent(op, ev.pod, deadline);
    return EMPTY;
  }

  /** Runs a pod handler, answering with an error before the runtime's deadline rather than hanging. */
  private async podEvent(op: PodOp, pod: PodSandbox | null, callDeadline: number | undefined): Promise<Buffer> {
    if (!pod) throw new RpcStatusError(status.INVALID_ARGUMENT, `${op} without a pod`);
    const deadline = Math.min(callDeadline ?? Infinity, Date.now() + this.requestTimeoutMs) - ANSWER_MARGIN_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RpcStatusError(status.DEADLINE_EXCEEDED, `fleetboard: ${op} for pod ${podKey(pod)} did not finish in time; it is retried with the pod`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      await Promise.race([this.handlers[op](pod, deadline), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return EMPTY;
  }
}
