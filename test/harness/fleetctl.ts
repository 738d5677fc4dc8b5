import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled fleetctl, run as users run it. */
export const FLEETCTL = fileURLToPath(new URL('../../controller/cli/main.js', import.meta.url));

export interface FleetctlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs fleetctl to completion; a non-zero exit is a result, not an error, since tests assert on it. */
export function fleetctl(args: string[], timeoutMs = 300_000): Promise<FleetctlResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [FLEETCTL, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
