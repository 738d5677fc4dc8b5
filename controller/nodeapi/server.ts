import { rm } from 'node:fs/promises';
import { Server, ServerCredentials, status, type StatusObject, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  podNetworkService,
  unixTarget,
  type AllocateRequest,
  type PodNetworkConfig,
  type PodRef,
  type ReleaseRequest,
  type ReleaseResponse,
} from '../../proto/nodeApi.js';

/** What the node API serves; errors carry a gRPC status via `grpcCode` (else INTERNAL). */
export interface PodNetworkHandlers {
  allocate(pod: PodRef): Promise<PodNetworkConfig>;
  release(pod: PodRef, reason: string): Promise<boolean>;
}

/** Whether the plugin got its pod's address. */
export type AllocationResult = 'ok' | 'error';

/** Told of every address request: seconds from the request to the answer, which the pod's start waits for. */
export type AllocationObserver = (seconds: number, result: AllocationResult) => void;

/** The controller's gRPC server on a unix socket shared with the plugin. */
export class NodeApiServer {
  private readonly server = new Server();

  constructor(
    private readonly socketPath: string,
    handlers: PodNetworkHandlers,
    observeAllocation: AllocationObserver,
    private readonly log: Logger,
  ) {
    this.server.addService(podNetworkService, {
      Allocate: (call: ServerUnaryCall<AllocateRequest, PodNetworkConfig>, done: sendUnaryData<PodNetworkConfig>) => {
        const started = performance.now();
        const answered = (result: AllocationResult) => observeAllocation((performance.now() - started) / 1000, result);
        const pod = checkPod(call.request.pod, done);
        if (!pod) {
          answered('error');
          return;
        }
        handlers.allocate(pod).then(
          (cfg) => {
            done(null, cfg);
            answered('ok');
          },
          (err: unknown) => {
            done(toServiceError(err));
            answered('error');
          },
        );
      },
      Release: (call: ServerUnaryCall<ReleaseRequest, ReleaseResponse>, done: sendUnaryData<ReleaseResponse>) => {
        const pod = checkPod(call.request.pod, done);
        if (pod) handlers.release(pod, call.request.reason).then((released) => done(null, { released }), (err: unknown) => done(toServiceError(err)));
      },
    });
  }

  async start(): Promise<void> {
    // A socket file left by a previous process would make bind fail.
    await rm(this.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.bindAsync(unixTarget(this.socketPath), ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
    });
    this.log.info({ socket: this.socketPath }, 'node API listening');
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => this.server.forceShutdown(), 3000);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await rm(this.socketPath, { force: true });
  }
}

function checkPod<T>(pod: PodRef | null, done: sendUnaryData<T>): PodRef | undefined {
  if (pod?.uid && pod.namespace && pod.name) return pod;
  done({ code: status.INVALID_ARGUMENT, details: 'request needs pod namespace, name and uid' });
  return undefined;
}

function toServiceError(err: unknown): Partial<StatusObject> {
  const e = err as Error & { grpcCode?: status };
  return { code: e.grpcCode ?? status.INTERNAL, details: e.message };
}
