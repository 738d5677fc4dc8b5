import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { HarnessError } from '../../../test/harness/errors.js';
import type { KeyPairPem } from '../../../test/harness/pki.js';
import { ManagedProcess } from '../../../test/harness/process.js';
import { run } from '../../../test/harness/run.js';
import { containerdDir, repoRoot, toolPath, type ContainerdRelease } from '../../../test/harness/tools.js';
import { waitFor } from '../../../test/harness/wait.js';
import { CNI_BIN_DIR, cniConfig } from '../cni.js';
import type { CniType } from '../plan.js';
import { createNodeCgroup, HIERARCHIES, nodeCgroup, removeNodeCgroup } from './cgroups.js';
import { writeRegistryHostFiles } from './imageRegistry.js';
import { containerdConfig, kubeletConfig } from './nodeConfig.js';

const SCRIPTS = join(repoRoot, 'hack', 'testbed', 'node');
const CNI_CONF_DIR = '/etc/cni/net.d';

export interface RealNodeOptions {
  name: string;
  /** The node's network namespace, already wired to its cluster's network. */
  netns: string;
  ip: string;
  /** Everything of the node on the host's disk: configs, certificates, containerd's and the kubelet's state; removed by stop(). */
  dir: string;
  runtime: ContainerdRelease;
  /** The primary CNI: a reference plugin over the pod CIDR the controller manager gives the node. */
  cni: CniType;
  clusterDns: string;
  /** The node's /etc/resolv.conf. */
  resolvConf: string;
  /** The cluster's CA, the kubelet's kubeconfig (its system:node credentials) and its serving certificate. */
  caPem: string;
  kubeconfig: string;
  serving: KeyPairPem;
  /** The testbed's image registry (host:port), which mirrors docker.io, registry.k8s.io and ghcr.io. */
  registry: string;
  /** Admin access, to wait until the node is Ready. */
  admin: KubeConfig;
}

/**
 * A real Kubernetes node: its own containerd (with NRI) and kubelet in its own
 * network and mount namespaces and cgroup tree, registered with its cluster.
 * Every process of the node lives in that cgroup tree, which is how stop()
 * finds them all, containers included.
 */
export class RealNode {
  private holder: ChildProcess | undefined;
  private containerd: ManagedProcess | undefined;
  private kubelet: ManagedProcess | undefined;
  private cidr: string | undefined;

  constructor(private readonly opts: RealNodeOptions) {}

  get name(): string {
    return this.opts.name;
  }

  /** The node's containerd release as the node reports it (containerd://…). */
  get runtime(): ContainerdRelease {
    return this.opts.runtime;
  }

  async start(): Promise<void> {
    const o = this.opts;
    const pki = join(o.dir, 'pki');
    await mkdir(pki, { recursive: true });
    // Seeded into the node's /etc overlay before it is mounted.
    await mkdir(join(o.dir, 'upper', 'etc', 'cni', 'net.d'), { recursive: true });
    await writeFile(join(o.dir, 'upper', 'etc', 'resolv.conf'), o.resolvConf);
    await writeFile(join(pki, 'ca.crt'), o.caPem);
    await writeFile(join(pki, 'kubelet.crt'), o.serving.certPem);
    await writeFile(join(pki, 'kubelet.key'), o.serving.keyPem, { mode: 0o600 });
    await writeFile(join(o.dir, 'kubelet.kubeconfig'), o.kubeconfig, { mode: 0o600 });
    await writeRegistryHostFiles(join(o.dir, 'certs.d'), o.registry);
    await writeFile(
      join(o.dir, 'containerd.toml'),
      containerdConfig(o.runtime, { runc: toolPath('runc'), cniConfDir: CNI_CONF_DIR, cniBinDir: CNI_BIN_DIR, registryConfigDir: join(o.dir, 'certs.d') }),
    );
    await writeFile(
      join(o.dir, 'kubelet.yaml'),
      kubeletConfig({
        ip: o.ip,
        cgroupRoot: nodeCgroup(o.name),
        clientCaFile: join(pki, 'ca.crt'),
        tlsCertFile: join(pki, 'kubelet.crt'),
        tlsKeyFile: join(pki, 'kubelet.key'),
        clusterDns: o.clusterDns,
      }),
    );
    await createNodeCgroup(o.name);
    this.holder = await this.startHolder();
    await this.startContainerd();
    this.kubelet = this.spawnInNode('kubelet', toolPath('kubelet'), [
      `--config=${join(o.dir, 'kubelet.yaml')}`,
      `--kubeconfig=${join(o.dir, 'kubelet.kubeconfig')}`,
      // Without it each status sync stalls on a DNS lookup of the node's name.
      `--node-ip=${o.ip}`,
      `--hostname-override=${o.name}`,
      '--v=1',
    ]);
    // As a CNI's node agent does: the network config appears once the node has its pod CIDR, and the node turns Ready.
    this.cidr = await this.waitPodCidr();
    await writeFile(this.hostPath(join(CNI_CONF_DIR, '10-testbed.conflist')), JSON.stringify(conflist(cniConfig(o.cni, this.cidr, '/var/lib/cni/networks'))));
    await this.waitReady();
  }

  /** The pod CIDR the controller manager gave the node. */
  get podCidr(): string {
    if (this.cidr === undefined) throw new HarnessError('NOT_STARTED', `node ${this.opts.name} has no pod CIDR yet`);
    return this.cidr;
  }

  /** The PID of the process that holds the node's namespaces: /proc/<pid>/root is the node's filesystem. */
  get pid(): number {
    return this.holderPid();
  }

  /** Kills the node's containerd, as a crash would, and starts it again: running containers stay, as their shims keep them. */
  async restartContainerd(): Promise<void> {
    await this.containerd?.kill();
    await this.startContainerd();
  }

  /** Runs a short command inside the node (its mount and network namespaces); returns its output. */
  async inNode(command: string, args: string[]): Promise<string> {
    return (await run('nsenter', [`--target=${this.holderPid()}`, '--mount', '--net', '--', command, ...args])).stdout;
  }

  /** A path inside the node's mount namespace, as the host reaches it (a symbolic link on the way resolves on the host). */
  hostPath(pathInNode: string): string {
    return `/proc/${this.holderPid()}/root${pathInNode}`;
  }

  /** Kills every process of the node, containers included, and removes its cgroups and files. */
  async stop(): Promise<void> {
    await removeNodeCgroup(this.opts.name);
    this.holder = undefined;
    await rm(this.opts.dir, { recursive: true, force: true });
  }

  private holderPid(): number {
    const pid = this.holder?.pid;
    if (pid === undefined || this.holder?.exitCode !== null) throw new HarnessError('NOT_STARTED', `node ${this.opts.name} is not running`);
    return pid;
  }

  /** namespace.sh in the node's netns: it makes the node's mount namespace and holds it. */
  private async startHolder(): Promise<ChildProcess> {
    const o = this.opts;
    const holder = spawn('ip', ['netns', 'exec', o.netns, 'unshare', '--mount', '--propagation', 'private', join(SCRIPTS, 'namespace.sh'), o.dir, nodeCgroup(o.name), ...HIERARCHIES], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    holder.stdout.on('data', (d: Buffer) => (output += d.toString()));
    holder.stderr.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(
      () => {
        if (holder.exitCode !== null) throw new HarnessError('PROCESS_EXITED', `node ${o.name}: namespace.sh exited (${holder.exitCode}): ${output.trim()}`);
        return Promise.resolve(output.includes('ready\n') ? true : undefined);
      },
      { what: `node ${o.name}'s mount namespace`, timeoutMs: 10_000, intervalMs: 20 },
    );
    return holder;
  }

  private async startContainerd(): Promise<void> {
    const o = this.opts;
    const dir = containerdDir(o.runtime);
    // Its own release's shim comes first on PATH.
    this.containerd = this.spawnInNode('containerd', join(dir, 'containerd'), ['--config', join(o.dir, 'containerd.toml')], { PATH: `${dir}:${process.env.PATH ?? ''}` });
    const containerd = this.containerd;
    await waitFor(
      () => {
        containerd.assertRunning();
        return Promise.resolve(existsSync(this.hostPath('/run/containerd/containerd.sock')) ? true : undefined);
      },
      { what: `node ${o.name}'s containerd socket`, timeoutMs: 30_000, intervalMs: 50 },
    );
  }

  private spawnInNode(name: string, command: string, args: string[], env: Record<string, string> = {}): ManagedProcess {
    const p = new ManagedProcess({
      name: `${this.opts.name}/${name}`,
      command: 'nsenter',
      args: [`--target=${this.holderPid()}`, '--mount', '--net', '--', join(SCRIPTS, 'in-node.sh'), nodeCgroup(this.opts.name), command, ...args],
      env,
      logFile: join(this.opts.dir, `${name}.log`),
    });
    p.start();
    return p;
  }

  private async waitPodCidr(): Promise<string> {
    const core = this.opts.admin.makeApiClient(CoreV1Api);
    return waitFor(
      async () => {
        this.kubelet?.assertRunning();
        return (await core.readNode({ name: this.opts.name }).catch(() => undefined))?.spec?.podCIDR;
      },
      { what: `node ${this.opts.name} registered with a pod CIDR`, timeoutMs: 60_000, intervalMs: 250 },
    );
  }

  private async waitReady(): Promise<void> {
    const core = this.opts.admin.makeApiClient(CoreV1Api);
    await waitFor(
      async () => {
        this.containerd?.assertRunning();
        this.kubelet?.assertRunning();
        const node = await core.readNode({ name: this.opts.name });
        return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
      },
      { what: `node ${this.opts.name} Ready`, timeoutMs: 60_000, intervalMs: 250 },
    );
  }
}

/** A single CNI plugin's config as the conflist containerd reads. */
function conflist(plugin: Record<string, unknown>): Record<string, unknown> {
  const { cniVersion, name, ...rest } = plugin;
  return { cniVersion, name, plugins: [rest] };
}
