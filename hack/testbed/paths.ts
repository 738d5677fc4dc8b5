import { join } from 'node:path';
import { repoRoot } from '../../test/harness/tools.js';

/** Where a testbed keeps its state; `down` removes all of it. */
export function testbedPaths(stateDir = join(repoRoot, '.testbed')) {
  return {
    stateDir,
    runDir: join(stateDir, 'run'),
    statusFile: join(stateDir, 'status.json'),
    progressFile: join(stateDir, 'progress.log'),
    daemonLog: join(stateDir, 'daemon.log'),
    /** Process ids of every container (each its own process group). */
    pidFile: join(stateDir, 'run', 'pids'),
    /** Mount points created on the host for containers. */
    createdPathsFile: join(stateDir, 'run', 'created-paths'),
    /** The daemon's control socket: faults tests stop and start parts of the running testbed through it. */
    controlSocket: join(stateDir, 'control.sock'),
    kubeconfig: (cluster: string) => join(stateDir, `${cluster}.kubeconfig`),
  };
}

export type TestbedPaths = ReturnType<typeof testbedPaths>;
