import { setTimeout as delay } from 'node:timers/promises';

/** One line of `fleetctl verify` / `diagnose`: what was checked, whether it passed, and what to do if not. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

export const pass = (name: string, detail = ''): CheckResult => ({ name, ok: true, detail });
export const fail = (name: string, detail: string): CheckResult => ({ name, ok: false, detail });

export function renderChecks(results: CheckResult[]): string {
  const lines = results.map((r) => `${r.ok ? 'PASS' : 'FAIL'}  ${r.name}${r.detail ? `: ${r.detail}` : ''}`);
  const failed = results.filter((r) => !r.ok).length;
  lines.push('', failed === 0 ? `all ${results.length} checks passed` : `${failed} of ${results.length} checks failed`);
  return `${lines.join('\n')}\n`;
}

/**
 * Calls `probe` until it returns a value or `deadline` (epoch ms) passes;
 * undefined then, since a check records the failure instead of throwing.
 * Errors count as "not yet": the apiserver may be briefly unreachable.
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, deadline: number, intervalMs = 500): Promise<T | undefined> {
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await delay(intervalMs);
  }
}
