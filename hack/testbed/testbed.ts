import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { KeepAliveKubeConfig } from '../../controller/kube/keepAliveKubeConfig.js';
import { HarnessError } from '../../test/harness/errors.js';
import { repoRoot } from '../../test/harness/tools.js';
import type { TestbedStatus } from './daemon.js';
import { testbedPaths, type TestbedPaths } from './paths.js';
import { planTestbed, podNetnsName } from './plan.js';
import { alive, sweep } from './sweep.js';
import { listHostLinks, listNetns } from './net.js';
import { podProcess } from './node/podProcess.js';
import { HOST_LINK_PREFIX, NETNS_PREFIX } from './plan.js';

export class TestbedError extends Error {
  override name = 'TestbedError';
}

function readStatus(paths: TestbedPaths): TestbedStatus | undefined {
  if (!existsSync(paths.statusFile)) return undefined;
  try {
    return JSON.parse(readFileSync(paths.statusFile, 'utf8')) as TestbedStatus;
  } catch {
    return undefined;
  }
}

export interface UpOptions {
  clusters: number;
  nodes: number;
  /** Real nodes (a kubelet and containerd each, FleetBoard from its image) instead of the node agent. */
  realNodes?: boolean;
  /** Receives each progress line as the daemon writes it. */
  onProgress?: (line: string) => void;
  timeoutMs?: number;
}

/** The running testbed's status, or undefined when none is up. */
export function testbedStatus(paths = testbedPaths()): TestbedStatus | undefined {
  const s = readStatus(paths);
  return s && alive(s.pid) ? s : undefined;
}

/**
 * Starts the testbed daemon and waits until it reports ready. On failure or
 * timeout it tears everything down and throws with the daemon's reason.
 */
export async function up(opts: UpOptions, paths = testbedPaths()): Promise<TestbedStatus> {
  if (process.getuid?.() !== 0) throw new HarnessError('NOT_ROOT', 'the testbed needs root (network namespaces, veth, nftables)');
  planTestbed(opts); // validate the counts before anything is made
  const running = testbedStatus(paths);
  if (running) throw new TestbedError(`a testbed is already up (daemon pid ${running.pid}); run "npm run testbed -- down" first`);
  const leftovers = (await listNetns()).filter((n) => n.startsWith(NETNS_PREFIX));
  if (existsSync(paths.stateDir) || leftovers.length > 0) await sweep(paths);
  mkdirSync(paths.stateDir, { recursive: true });
  const log = openSync(paths.daemonLog, 'a');
  const daemon = spawn(process.execPath, [join(repoRoot, 'dist/hack/testbed/daemon.js'), '--clusters', String(opts.clusters), '--nodes', String(opts.nodes), ...(opts.realNodes ? ['--real-nodes'] : [])], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  daemon.unref();
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  let shown = 0;
  for (;;) {
    const lines = existsSync(paths.progressFile) ? readFileSync(paths.progressFile, 'utf8').split('\n').filter(Boolean) : [];
    for (const line of lines.slice(shown)) opts.onProgress?.(line);
    shown = lines.length;
    const s = readStatus(paths);
    if (s?.phase === 'ready') return s;
    const dead = daemon.exitCode !== null || daemon.signalCode !== null;
    if (s?.phase === 'failed' || dead || Date.now() > deadline) {
      const reason = s?.error ?? (dead ? `testbed daemon exited; see ${paths.daemonLog}` : 'timed out waiting for the testbed');
      if (process.env.TESTBED_KEEP_ON_FAILURE) {
        throw new TestbedError(`testbed up failed: ${reason}; left up for inspection (logs in ${paths.stateDir}), remove it with "npm run testbed -- down"`);
      }
      const kept = join(repoRoot, '.cache', 'testbed-failed.log');
      await down(paths, { preserveLogTo: kept });
      throw new TestbedError(`testbed up failed: ${reason} (daemon log kept at ${kept})`);
    }
    await delay(250);
  }
}

export interface DownResult {
  wasUp: boolean;
  processes: number;
  netns: number;
  links: number;
  paths: number;
}

/** Stops the daemon (it removes what it made), then sweeps anything left. */
export async function down(paths = testbedPaths(), opts: { preserveLogTo?: string } = {}): Promise<DownResult> {
  const s = readStatus(paths);
  const wasUp = s !== undefined || existsSync(paths.stateDir);
  // Counted first: the daemon removes most of it itself.
  const before = {
    netns: (await listNetns()).filter((n) => n.startsWith(NETNS_PREFIX)).length,
    links: (await listHostLinks(HOST_LINK_PREFIX)).length,
  };
  if (s && alive(s.pid)) {
    process.kill(s.pid, 'SIGTERM');
    const deadline = Date.now() + 90_000;
    while (alive(s.pid) && Date.now() < deadline) await delay(200);
  }
  if (s) {
    // The daemon leads its own process group: whatever it started and left behind dies with the group.
    try {
      process.kill(-s.pid, 'SIGKILL');
    } catch {
      // group already empty
    }
  }
  if (opts.preserveLogTo && existsSync(paths.daemonLog)) {
    mkdirSync(join(opts.preserveLogTo, '..'), { recursive: true });
    copyFileSync(paths.daemonLog, opts.preserveLogTo);
  }
  const swept = await sweep(paths);
  return { wasUp, ...swept, netns: Math.max(before.netns, swept.netns), links: Math.max(before.links, swept.links) };
}

/** Admin KubeConfig of one testbed cluster. */
export function kubeConfigFor(cluster: string, paths = testbedPaths()): KubeConfig {
  const file = paths.kubeconfig(cluster);
  if (!existsSync(file)) throw new TestbedError(`no kubeconfig for cluster "${cluster}" at ${file}; is the testbed up?`);
  const kc = new KeepAliveKubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** The network namespace a pod's containers run in. */
export async function podNetns(cluster: string, namespace: string, name: string, paths = testbedPaths()): Promise<string> {
  const pod = await kubeConfigFor(cluster, paths).makeApiClient(CoreV1Api).readNamespacedPod({ name, namespace });
  return podNetnsOf(cluster, pod, paths);
}

/**
 * The network namespace of a pod of the running testbed, for runIn: its node's
 * for a host-network pod; on real nodes /proc/<pid>/ns/net of one of its
 * processes; under the node agent its named netns.
 */
export function podNetnsOf(cluster: string, pod: V1Pod, paths = testbedPaths()): string {
  const status = testbedStatus(paths);
  if (!status) throw new TestbedError('the testbed is not up; run "npm run testbed -- up"');
  const what = `pod ${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
  const node = status.plan.clusters.find((c) => c.name === cluster)?.nodes.find((n) => n.name === pod.spec?.nodeName);
  if (pod.spec?.hostNetwork) {
    if (!node) throw new TestbedError(`${what} is on no testbed node`);
    return node.netns;
  }
  if (status.nodePids) {
    const pid = node ? podProcess(node.name, pod.metadata?.uid ?? '') : undefined;
    if (pid === undefined) throw new TestbedError(`${what} has no running container (phase ${pod.status?.phase ?? 'unknown'})`);
    return `/proc/${pid}/ns/net`;
  }
  const netns = podNetnsName(cluster, pod.metadata?.uid ?? '');
  if (!existsSync(`/run/netns/${netns}`)) throw new TestbedError(`${what} has no sandbox yet (phase ${pod.status?.phase ?? 'unknown'})`);
  return netns;
}
