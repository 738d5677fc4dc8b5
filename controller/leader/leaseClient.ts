import {
  Observable,
  V1Lease,
  V1LeaseSpec,
  type ConfigurationOptions,
  type CoordinationV1Api,
  type ObservableMiddleware,
} from '@kubernetes/client-node';
import { hasStatus } from './errors.js';
import { leaseSpecOf, type LeaseRecord } from './leaseDecision.js';

/** The Lease calls leader election makes; a CoordinationV1Api satisfies it. */
export type LeaseApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

/** 'conflict': another candidate wrote the Lease first (optimistic concurrency), so this round is lost. */
export type WriteOutcome = 'written' | 'conflict';

/** Reads and writes one Lease; every call is cancelled when its signal aborts. */
export class LeaseClient {
  constructor(
    private readonly api: LeaseApi,
    readonly namespace: string,
    readonly name: string,
  ) {}

  /** The Lease, or undefined when it does not exist. */
  async read(signal: AbortSignal): Promise<V1Lease | undefined> {
    try {
      return await abortable(this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }, withSignal(signal)), signal);
    } catch (err) {
      if (hasStatus(err, 404)) return undefined;
      throw err;
    }
  }

  async create(record: LeaseRecord, signal: AbortSignal): Promise<WriteOutcome> {
    const body: V1Lease = { metadata: { name: this.name, namespace: this.namespace }, spec: leaseSpecOf(record) };
    return this.write(this.api.createNamespacedLease({ namespace: this.namespace, body }, withSignal(signal)), signal);
  }

  /** Replaces `current` (as read, with its resourceVersion), keeping spec fields we do not own. */
  async replace(current: V1Lease, record: LeaseRecord, signal: AbortSignal): Promise<WriteOutcome> {
    const body = Object.assign(new V1Lease(), current, { spec: Object.assign(new V1LeaseSpec(), current.spec, leaseSpecOf(record)) });
    return this.write(this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body }, withSignal(signal)), signal);
  }

  private async write(request: Promise<V1Lease>, signal: AbortSignal): Promise<WriteOutcome> {
    try {
      await abortable(request, signal);
      return 'written';
    } catch (err) {
      // 409 is both "resourceVersion is stale" on replace and "already exists" on create.
      if (hasStatus(err, 409)) return 'conflict';
      throw err;
    }
  }
}

/** Hands the signal to fetch, so an aborted request also closes its connection. */
function withSignal(signal: AbortSignal): ConfigurationOptions {
  const middleware: ObservableMiddleware = {
    pre: (context) => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (context) => new Observable(Promise.resolve(context)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/**
 * Settles when the request does or when the signal aborts, whichever is first:
 * the election loop must never wait on a request that ignores its signal.
 */
function abortable<T>(request: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason as Error);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    request.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort);
    });
  });
}
