import type { CoreV1Api, V1ObjectReference } from '@kubernetes/client-node';

/** Where a failure to post is reported; a pino Logger fits. */
export interface EventFailureLog {
  warn(fields: Record<string, unknown>, msg: string): void;
}

/** Posts Kubernetes Events for what a user must see or act on; failures to post are logged, never thrown. */
export class EventRecorder {
  constructor(
    private readonly core: CoreV1Api,
    private readonly component: string,
    private readonly instance: string,
    private readonly log: EventFailureLog,
  ) {}

  emit(object: V1ObjectReference, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = new Date();
    const namespace = object.namespace ?? 'default';
    this.core
      .createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${object.name ?? 'object'}.` },
          involvedObject: object,
          type,
          reason,
          message,
          source: { component: this.component, host: this.instance },
          reportingComponent: this.component,
          reportingInstance: this.instance,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      })
      .catch((err: unknown) => this.log.warn({ reason, err: (err as Error).message }, 'cannot post event'));
  }
}
