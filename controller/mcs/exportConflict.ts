import { EXPORT_CONFLICT, REASON_NO_CONFLICTS } from './api.js';
import type { AggregatedService } from './aggregate.js';
import type { ConditionVerdict } from './exportValidity.js';

/**
 * The `Conflict` condition of every export that makes up `service`: raised on
 * all of them (as the MCS API recommends), the older export's value winning,
 * with every kind of conflict in the reason, comma-separated. Pure.
 */
export function conflictVerdict(service: AggregatedService): ConditionVerdict {
  if (service.conflicts.length === 0) {
    return { type: EXPORT_CONFLICT, status: 'False', reason: REASON_NO_CONFLICTS, message: `${service.clusters.length} cluster(s) export ${service.namespace}/${service.name} alike` };
  }
  const reasons = [...new Set(service.conflicts.map((c) => c.reason))].sort();
  const details = service.conflicts.map((c) => c.message).join('; ');
  return { type: EXPORT_CONFLICT, status: 'True', reason: reasons.join(','), message: `${details}; the oldest export's value is used` };
}
