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
  const candidates: number[] = [];
  for (const qos of QOS_DIRS) {
    const pod = join('/sys/fs/cgroup/pids', nodeCgroup(node), qos, `pod${podUid}`);
    if (!existsSync(pod)) continue;
    for (const container of readdirSync(pod, { withFileTypes: true }).filter((e) => e.isDirectory())) {
      const procs = readIfPresent(join(pod, container.name, 'cgroup.procs'));
      candidates.push(...procs.split('\n').filter(Boolean).map(Number));
    }
  }
  const isPause = (pid: number) => readIfPresent(`/proc/${pid}/cmdline`).split('\0')[0] === '/pause';
  return candidates.find((pid) => !isPause(pid) && existsSync(`/proc/${pid}/root/etc/resolv.conf`)) ?? candidates[0];
}

function readIfPresent(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
