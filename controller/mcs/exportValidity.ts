import type { Service } from '../objects/core.js';
import type { Condition } from '../objects/fields.js';
import { EXPORT_VALID, REASON_INVALID_SERVICE_TYPE, REASON_NO_SERVICE, REASON_VALID, type McsCondition } from './api.js';

export type ConditionVerdict = Pick<McsCondition, 'type' | 'status' | 'reason' | 'message'>;

/**
 * Whether a ServiceExport can be exported, judged from the Service of the
 * same name and namespace: there must be one, and not of type ExternalName
 * (it has no endpoints to reach through the tunnels). Pure.
 */
export function exportValidity(namespace: string, name: string, service: Service | undefined): ConditionVerdict {
  if (!service || service.metadata.deletionTimestamp) {
    return { type: EXPORT_VALID, status: 'False', reason: REASON_NO_SERVICE, message: `Service ${namespace}/${name} does not exist: create it, or delete this ServiceExport` };
  }
  if (service.spec.type === 'ExternalName') {
    return {
      type: EXPORT_VALID,
      status: 'False',
      reason: REASON_INVALID_SERVICE_TYPE,
      message: `Service ${namespace}/${name} is of type ExternalName, which cannot be exported: export a Service with endpoints instead`,
    };
  }
  return { type: EXPORT_VALID, status: 'True', reason: REASON_VALID, message: `Service ${namespace}/${name} can be exported` };
}

/**
 * The condition list with `verdict` in place of its type, keeping the
 * transition time while the status stays; undefined when nothing changes, so
 * no write is needed. Pure.
 */
export function withCondition(previous: readonly Condition[], verdict: ConditionVerdict, generation: number | undefined, now: Date): Condition[] | undefined {
  const before = previous.find((c) => c.type === verdict.type);
  if (before && before.status === verdict.status && before.reason === verdict.reason && before.message === verdict.message && before.observedGeneration === generation) return undefined;
  const next: McsCondition = {
    ...verdict,
    lastTransitionTime: (before?.status === verdict.status ? before.lastTransitionTime : undefined) ?? now.toISOString(),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  return [...previous.filter((c) => c.type !== verdict.type), next];
}
