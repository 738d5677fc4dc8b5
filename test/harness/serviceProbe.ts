import { runIn } from './run.js';

/** One round of asking for a service from a pod: by name (DNS, then HTTP) and by its ClusterSetIP. */
export interface ServiceProbeRound {
  at: number;
  /** Empty when every check passed; else what failed. */
  failures: string[];
}

export interface ServiceProbe {
  /** Rounds finished so far. */
  rounds(): number;
  stop(): Promise<ServiceProbeRound[]>;
}

/**
 * Asks for `name` from `netns` over and over, as a user's client would,
 * until stopped: the name must resolve to `vip` and both the name and the
 * VIP must serve the nginx page. Each round waits for the last, so a slow
 * answer shows as a failure, not as a pile-up.
 */
export function probeService(netns: string, name: string, vip: string, pauseMs = 200): ServiceProbe {
  const rounds: ServiceProbeRound[] = [];
  const state = { stopped: false };
  const check = async (what: string, cmd: string, args: string[], ok: (stdout: string) => boolean): Promise<string | undefined> => {
    try {
      const { stdout } = await runIn(netns, cmd, args);
      return ok(stdout) ? undefined : `${what}: got ${JSON.stringify(stdout.trim().slice(0, 80))}`;
    } catch (err) {
      return `${what}: ${(err as Error).message.split('\n')[0] ?? ''}`;
    }
  };
  const loop = (async () => {
    while (!state.stopped) {
      const at = Date.now();
      const failures = (
        await Promise.all([
          check('dig', 'dig', ['+short', '+time=2', '+tries=2', name], (out) => out.trim() === vip),
          check(`curl ${name}`, 'curl', ['-sS', '--max-time', '5', `http://${name}/`], (out) => out.includes('<title>Welcome to nginx!</title>')),
          check(`curl ${vip}`, 'curl', ['-sS', '--max-time', '5', `http://${vip}/`], (out) => out.includes('<title>Welcome to nginx!</title>')),
        ])
      ).filter((f): f is string => f !== undefined);
      rounds.push({ at, failures });
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  })();
  return {
    rounds: () => rounds.length,
    async stop() {
      state.stopped = true;
      await loop;
      return rounds;
    },
  };
}
