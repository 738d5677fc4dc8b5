import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeCgroup } from './cgroups.js';

/** The kubelet's pod cgroups under its cgroupRoot (cgroupfs driver): Guaranteed pods at the top, the others by QoS class. */
const QOS_DIRS = ['kubepods', 'kubepods/burstable', 'kubepods/besteffort'];

/**
 * A process of a running pod on a real node, found through the pod's cgroup
 * (pod<uid>): one of its containers' processes rather than the sandbox's pause,
 * since only containers get the pod's /etc/resolv.conf. Its /proc/<pid>/ns/net
 * is the pod's network namespace. Undefined while no container of the pod runs.
 */
export function podProcess(node: string, podUid: string): number | undefined {
  const candidates = podCgroups(node, podUid).flatMap(processesOf);
  const isPause = (pid: number) => readIfPresent(`/proc/${pid}/cmdline`).split('\0')[0] === '/pause';
  return candidates.find((pid) => !isPause(pid) && existsSync(`/proc/${pid}/root/etc/resolv.conf`)) ?? candidates[0];
}

/** The processes of one container of a pod (its containerID without the runtime's prefix), e.g. to stop one. */
export function containerProcesses(node: string, podUid: string, containerId: string): number[] {
  return podCgroups(node, podUid)
    .filter((dir) => dir.endsWith(`/${containerId}`))
    .flatMap(processesOf);
}

/** The cgroups of a pod's containers and sandbox. */
function podCgroups(node: string, podUid: string): string[] {
  for (const qos of QOS_DIRS) {
    const pod = join('/sys/fs/cgroup/pids', nodeCgroup(node), qos, `pod${podUid}`);
    if (existsSync(pod)) return readdirSync(pod, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(pod, e.name));
  }
  return [];
}

const processesOf = (cgroup: string): number[] => readIfPresent(join(cgroup, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);

function readIfPresent(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
