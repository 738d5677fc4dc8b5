import type { ChildProcess } from 'node:child_process';
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { addNetns, deleteNetnsIfPresent } from './net.js';
import { writeEtcNetns, removeEtcNetns } from './network.js';
import { cniAdd, cniDel } from './cni.js';
import { nginxConfig, resolveImage, type ToolPaths } from './images.js';
import { containerEnv, expandVars, type EnvSources } from './env.js';
import { materializeVolumes, type VolumeDeps } from './volumes.js';
import { startContainerProcess, type ContainerProcess, type Mount } from './container.js';
import { probeCheck } from './probe.js';
import type { NriRuntime, SandboxInfo } from './nriRuntime.js';
import type { ContainerRecord, PodRecord } from './podStatus.js';
import { podNetnsName } from './plan.js';

/** What a pod needs from its node. */
export interface NodeContext extends EnvSources {
  nodeName: string;
  nodeNetns: string;
  nodeIp: string;
  clusterName: string;
  dnsServiceIp: string;
  apiServiceIp: string;
  /** Resolver for dnsPolicy=Default pods: the node's. */
  nodeResolvConf: string;
  cniConfig: Record<string, unknown>;
  runDir: string;
  createdPathsFile: string;
  pidFile: string;
  tools: ToolPaths;
  nri: NriRuntime;
  volumeDeps: VolumeDeps;
  /** Called whenever the pod's status changed. */
  statusChanged(pod: PodRuntime): void;
  event(pod: V1Pod, type: 'Normal' | 'Warning', reason: string, message: string): void;
  log: (message: string) => void;
}

/** Kubernetes keeps at most this much of a termination message. */
const TERMINATION_MESSAGE_LIMIT = 4096;
const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** One pod on a testbed node: sandbox (netns, CNI, NRI), volumes and container processes. */
export class PodRuntime {
  readonly record: PodRecord;
  private readonly procs = new Map<string, ContainerProcess>();
  private stopping = false;
  private netnsCreated = false;
  private nriRan = false;

  constructor(
    public pod: V1Pod,
    private readonly ctx: NodeContext,
  ) {
    this.record = {
      sandboxReady: false,
      sandboxError: undefined,
      hostIp: ctx.nodeIp,
      podIp: undefined,
      startTime: new Date(),
      initDone: (pod.spec?.initContainers ?? []).length === 0,
      containers: (pod.spec?.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image ?? '',
        id: '',
        restartCount: 0,
        ready: false,
        state: { kind: 'waiting', reason: 'ContainerCreating' },
      })),
      finished: undefined,
    };
  }

  get key(): string {
    return `${this.pod.metadata?.namespace ?? ''}/${this.pod.metadata?.name ?? ''}`;
  }

  private get uid(): string {
    return this.pod.metadata?.uid ?? '';
  }

  get hostNetwork(): boolean {
    return this.pod.spec?.hostNetwork === true;
  }

  /** Namespace name of the pod's network (the node's for host-network pods). */
  get netns(): string {
    return this.hostNetwork ? this.ctx.nodeNetns : podNetnsName(this.ctx.clusterName, this.uid);
  }

  get sandboxId(): string {
    return `testbed-${this.uid}`;
  }

  private get dir(): string {
    return join(this.ctx.runDir, 'pods', this.uid);
  }

  /** The sandbox as the NRI runtime knows it; undefined until it was started there. */
  get nriSandbox(): SandboxInfo | undefined {
    return this.record.sandboxReady && this.nriRan ? this.sandboxInfo() : undefined;
  }

  private sandboxInfo(): SandboxInfo {
    const m = this.pod.metadata ?? {};
    return {
      id: this.sandboxId,
      name: m.name ?? '',
      uid: this.uid,
      namespace: m.namespace ?? '',
      labels: m.labels ?? {},
      annotations: m.annotations ?? {},
      netns: this.hostNetwork ? '' : `/run/netns/${this.netns}`,
      ips: this.record.podIp ? [this.record.podIp] : [],
    };
  }

  /** Creates the sandbox and starts the containers; throws with the reason the pod cannot start. */
  async start(): Promise<void> {
    if (this.hostNetwork) {
      this.record.podIp = this.ctx.nodeIp;
    } else {
      await addNetns(this.netns);
      this.netnsCreated = true;
      this.record.podIp = await cniAdd(this.ctx.nodeNetns, this.ctx.cniConfig, this.sandboxId, `/run/netns/${this.netns}`);
      await writeEtcNetns(this.netns, this.etcFiles());
    }
    this.nriRan = true;
    await this.ctx.nri.deliver('RunPodSandbox', this.sandboxInfo());
    this.record.sandboxReady = true;
    this.record.sandboxError = undefined;
    this.ctx.statusChanged(this);

    const volumes = await materializeVolumes(this.pod, this.dir, this.ctx.volumeDeps);
    for (const c of this.pod.spec?.initContainers ?? []) {
      const code = await this.runToCompletion(c, volumes);
      if (code !== 0) throw new Error(`init container ${c.name} exited with code ${code}`);
    }
    this.record.initDone = true;
    for (const c of this.pod.spec?.containers ?? []) await this.startContainer(c, volumes, 0);
  }

  private etcFiles(): Record<string, string> {
    const ns = this.pod.metadata?.namespace ?? 'default';
    const name = this.pod.metadata?.name ?? '';
    const policy = this.pod.spec?.dnsPolicy ?? 'ClusterFirst';
    const resolv =
      policy === 'Default'
        ? this.ctx.nodeResolvConf
        : `nameserver ${this.ctx.dnsServiceIp}\nsearch ${ns}.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`;
    return {
      'resolv.conf': resolv,
      hosts: `127.0.0.1 localhost\n${this.record.podIp ?? ''} ${name}\n`,
    };
  }

  private async containerArgv(c: V1Container, env: Record<string, string>): Promise<string[]> {
    const launch = resolveImage(c, this.ctx.tools);
    if (launch.kind === 'unknown') throw new Error(launch.message);
    if (launch.kind === 'nginx') {
      const dir = join(this.dir, 'nginx', c.name);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'nginx.conf'), nginxConfig(dir, launch.port));
      return ['nginx', '-e', 'stderr', '-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'];
    }
    return launch.argv.map((a) => expandVars(a, env));
  }

  private async spawn(c: V1Container, volumes: Map<string, string>, attempt: number): Promise<ContainerProcess> {
    const base = {
      PATH: BASE_PATH,
      HOME: '/root',
      HOSTNAME: this.pod.metadata?.name ?? '',
      KUBERNETES_SERVICE_HOST: this.ctx.apiServiceIp,
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: `tcp://${this.ctx.apiServiceIp}:443`,
    };
    const env = await containerEnv(this.pod, c, this.ctx, base);
    const argv = await this.containerArgv(c, env);
    const mounts: Mount[] = (c.volumeMounts ?? []).map((m) => {
      const source = volumes.get(m.name);
      if (!source) throw new Error(`container ${c.name} mounts unknown volume ${m.name}`);
      return { source: m.subPath ? join(source, m.subPath) : source, target: m.mountPath, readOnly: m.readOnly === true };
    });
    // As kubelet does: a file at terminationMessagePath whose content becomes the terminated state's message.
    const terminationLog = this.terminationLog(c, attempt);
    await mkdir(dirname(terminationLog), { recursive: true });
    await writeFile(terminationLog, '');
    mounts.push({ source: terminationLog, target: c.terminationMessagePath ?? '/dev/termination-log', readOnly: false });
    const proc = await startContainerProcess({
      netns: this.netns,
      hostname: this.pod.metadata?.name ?? '',
      argv,
      env,
      mounts,
      workingDir: c.workingDir,
      dir: join(this.dir, 'containers', c.name, String(attempt)),
      createdPathsFile: this.ctx.createdPathsFile,
    });
    if (proc.child.pid) await appendFile(this.ctx.pidFile, `${proc.child.pid}\n`);
    return proc;
  }

  private terminationLog(c: V1Container, attempt: number): string {
    return join(this.dir, 'containers', c.name, String(attempt), 'termination-log');
  }

  /** What the container wrote to its termination message file, cut at 4 KiB as kubelet cuts it. */
  private async terminationMessage(c: V1Container, attempt: number): Promise<string | undefined> {
    const text = await readFile(this.terminationLog(c, attempt), 'utf8').catch(() => '');
    return text ? text.slice(0, TERMINATION_MESSAGE_LIMIT) : undefined;
  }

  private runToCompletion(c: V1Container, volumes: Map<string, string>): Promise<number> {
    return this.spawn(c, volumes, 0).then(async (proc) => (await proc.exited).code ?? 1);
  }

  private async startContainer(c: V1Container, volumes: Map<string, string>, attempt: number): Promise<void> {
    const rec = this.record.containers.find((r) => r.name === c.name);
    if (!rec || this.stopping) return;
    let proc: ContainerProcess;
    try {
      proc = await this.spawn(c, volumes, attempt);
    } catch (err) {
      // The caller reports the failure (Event and log): the first start via the node agent, restarts below.
      rec.state = { kind: 'waiting', reason: 'CreateContainerError', message: (err as Error).message };
      this.ctx.statusChanged(this);
      throw err;
    }
    const startedAt = new Date();
    rec.id = `${this.sandboxId}-${c.name}-${attempt}`;
    rec.state = { kind: 'running', startedAt };
    rec.ready = !c.readinessProbe;
    this.procs.set(c.name, proc);
    this.ctx.statusChanged(this);
    if (c.readinessProbe) void this.probeLoop(c, rec, proc);
    void proc.exited.then(async ({ code, signal }) => {
      const message = await this.terminationMessage(c, attempt);
      this.procs.delete(c.name);
      // The container's PID namespace ends with its main process: nothing it started outlives it.
      killGroup(proc.child, 'SIGKILL');
      const finishedAt = new Date();
      const exitCode = code ?? 128 + 9;
      const term = { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt, ...(message ? { message } : {}) };
      rec.ready = false;
      rec.state = { kind: 'terminated', ...term };
      if (this.stopping) return;
      const policy = this.pod.spec?.restartPolicy ?? 'Always';
      const restart = policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
      this.ctx.log(`${this.key} container ${c.name} exited (${signal ?? `code ${exitCode}`})${restart ? ', restarting' : ''}`);
      if (!restart) {
        if (this.record.containers.every((r) => r.state.kind === 'terminated')) {
          this.record.finished = this.record.containers.every((r) => r.state.kind === 'terminated' && r.state.exitCode === 0) ? 'Succeeded' : 'Failed';
        }
        this.ctx.statusChanged(this);
        return;
      }
      rec.lastTermination = term;
      rec.restartCount += 1;
      rec.state = { kind: 'waiting', reason: 'CrashLoopBackOff', message: `back-off restarting container ${c.name}` };
      this.ctx.statusChanged(this);
      const backoffMs = Math.min(30_000, 1000 * 2 ** Math.min(rec.restartCount - 1, 5));
      void delay(backoffMs).then(() => this.restartContainer(c, volumes, attempt + 1));
    });
  }

  /** Like a kubelet, keeps trying a container that fails to start, backing off up to 30 s. */
  private async restartContainer(c: V1Container, volumes: Map<string, string>, attempt: number, failures = 0): Promise<void> {
    try {
      await this.startContainer(c, volumes, attempt);
    } catch (err) {
      const message = (err as Error).message;
      this.ctx.event(this.pod, 'Warning', 'Failed', `restarting container ${c.name}: ${message}`);
      this.ctx.log(`${this.key} container ${c.name} failed to restart: ${message}`);
      await delay(Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)));
      if (!this.stopping) await this.restartContainer(c, volumes, attempt + 1, failures + 1);
    }
  }

  private async probeLoop(c: V1Container, rec: ContainerRecord, proc: ContainerProcess): Promise<void> {
    const probe = c.readinessProbe;
    const podIp = this.record.podIp;
    if (!probe || !podIp) return;
    const check = probeCheck(this.netns, podIp, c, probe);
    if (!check) {
      this.ctx.event(this.pod, 'Warning', 'Unhealthy', `readiness probe of ${c.name} is not supported by the testbed; treating it as passing`);
      rec.ready = true;
      this.ctx.statusChanged(this);
      return;
    }
    await delay((probe.initialDelaySeconds ?? 0) * 1000);
    const period = (probe.periodSeconds ?? 10) * 1000;
    let failures = 0;
    while (this.procs.get(c.name) === proc && !this.stopping) {
      const ok = await check();
      failures = ok ? 0 : failures + 1;
      const ready = ok || (rec.ready && failures < (probe.failureThreshold ?? 3));
      if (ready !== rec.ready && this.procs.get(c.name) === proc) {
        rec.ready = ready;
        this.ctx.statusChanged(this);
      }
      // Until first ready, probe every second so pods do not wait a whole period.
      await delay(rec.ready ? period : Math.min(period, 1000));
    }
  }

  /** Stops the containers (SIGTERM, then SIGKILL after the grace period) and removes the sandbox. */
  async stop(graceSeconds: number): Promise<void> {
    this.stopping = true;
    const exits = [...this.procs.values()].map((p) => {
      killGroup(p.child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(p.child, 'SIGKILL'), graceSeconds * 1000);
      return p.exited.finally(() => clearTimeout(timer));
    });
    await Promise.all(exits);
    await this.removeSandbox();
  }

  /** Undoes whatever part of the sandbox exists; used after a failed start too. */
  async removeSandbox(): Promise<void> {
    const info = this.sandboxInfo();
    const errors: string[] = [];
    const attempt = async (what: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        errors.push(`${what}: ${(err as Error).message}`);
      }
    };
    if (this.nriRan) await attempt('NRI StopPodSandbox', () => this.ctx.nri.deliver('StopPodSandbox', info));
    if (this.netnsCreated) {
      await attempt('CNI DEL', () => cniDel(this.ctx.nodeNetns, this.ctx.cniConfig, this.sandboxId, `/run/netns/${this.netns}`));
    }
    if (this.nriRan) await attempt('NRI RemovePodSandbox', () => this.ctx.nri.deliver('RemovePodSandbox', info));
    if (this.netnsCreated) {
      await attempt('netns delete', () => deleteNetnsIfPresent(this.netns));
      await attempt('etc files', () => removeEtcNetns(this.netns));
    }
    await rm(this.dir, { recursive: true, force: true });
    this.nriRan = false;
    this.netnsCreated = false;
    this.record.sandboxReady = false;
    if (errors.length > 0) this.ctx.log(`${this.key} sandbox cleanup: ${errors.join('; ')}`);
  }
}

/** Containers run in their own process group (nginx has workers); signal the whole group. */
function killGroup(p: ChildProcess, signal: NodeJS.Signals): void {
  if (!p.pid) return;
  try {
    process.kill(-p.pid, signal);
  } catch {
    p.kill(signal);
  }
}
