import { LeaderElectionError } from './errors.js';

export interface LeaderTimings {
  /** How long followers wait, after they last saw the Lease change, before taking it over. */
  leaseDurationMs: number;
  /** How long the leader keeps acting without a successful renewal before it steps down. */
  renewDeadlineMs: number;
  /** Pause between two acquire or renew attempts. */
  retryPeriodMs: number;
}

export interface LeaderElectionConfig extends LeaderTimings {
  namespace: string;
  leaseName: string;
  /** Unique per candidate (the pod name); two candidates with one identity would both lead. */
  identity: string;
}

/** client-go's defaults, which kube-controller-manager and kube-scheduler also use. */
export const DEFAULT_LEADER_TIMINGS: Readonly<LeaderTimings> = Object.freeze({
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
});

/** Throws INVALID_CONFIG naming every problem at once, so one fix round is enough. */
export function validateLeaderElectionConfig(config: LeaderElectionConfig): void {
  const problems: string[] = [];
  for (const key of ['namespace', 'leaseName', 'identity'] as const) {
    if (typeof config[key] !== 'string' || config[key] === '') problems.push(`${key} must be a non-empty string`);
  }
  for (const key of ['leaseDurationMs', 'renewDeadlineMs', 'retryPeriodMs'] as const) {
    const value = config[key];
    if (!Number.isFinite(value) || value <= 0) problems.push(`${key} must be a positive number of milliseconds (got ${String(value)})`);
  }
  if (problems.length === 0) {
    // The leader must give up before followers may take over, and must get more than one try in between.
    if (config.renewDeadlineMs >= config.leaseDurationMs) {
      problems.push(`renewDeadlineMs (${config.renewDeadlineMs}) must be less than leaseDurationMs (${config.leaseDurationMs})`);
    }
    if (config.retryPeriodMs >= config.renewDeadlineMs) {
      problems.push(`retryPeriodMs (${config.retryPeriodMs}) must be less than renewDeadlineMs (${config.renewDeadlineMs})`);
    }
  }
  if (problems.length > 0) {
    throw new LeaderElectionError('INVALID_CONFIG', `invalid leader election config: ${problems.join('; ')}`);
  }
}

/**
 * A Lease stores whole seconds. Rounding up keeps followers waiting at least as
 * long as configured, so the leader (which gives up after renewDeadline) is
 * always gone before they take over.
 */
export function leaseDurationSeconds(leaseDurationMs: number): number {
  return Math.ceil(leaseDurationMs / 1000);
}
