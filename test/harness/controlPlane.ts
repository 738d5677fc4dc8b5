import { mkdir, writeFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { KubeConfig, CoordinationV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { KeepAliveKubeConfig } from '../../controller/kube/keepAliveKubeConfig.js';
import { CertificateAuthority, serviceAccountKeyPair, type KeyPairPem } from './pki.js';
import { renderKubeconfig } from './kubeconfig.js';
import { HarnessError } from './errors.js';
import { ManagedProcess } from './process.js';
import { freePort } from './ports.js';
import { toolPath } from './tools.js';
import { waitFor } from './wait.js';

export interface ControlPlaneOptions {
  /** Cluster name, used in certificates, kubeconfig and messages. */
  name: string;
  /** Directory for certificates, etcd data, kubeconfigs and logs; created, and removed by stop(). */
  dir: string;
  /** Network namespace the processes run in; the host's when absent. */
  netns?: string;
  /** Address kube-apiserver listens on (default 127.0.0.1). */
  bindAddress?: string;
  /** Address published in the `kubernetes` Service; a loopback address publishes none. */
  advertiseAddress?: string;
  /** Address this process (and the kubeconfig it writes) uses to reach the apiserver. */
  clientAddress?: string;
  apiServerPort?: number;
  serviceCidr?: string;
  podCidr?: string;
  /** First address of serviceCidr, the `kubernetes` Service ClusterIP. */
  serviceIp?: string;
  /** Deadline for the whole start (default 120 s). */
  startTimeoutMs?: number;
}

/** The user the apiserver authenticates as to kubelets (exec, logs, port-forward). */
const KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';

interface Resolved extends Required<Omit<ControlPlaneOptions, 'netns'>> {
  netns: string | undefined;
}

/**
 * A real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler) with its own CA, ServiceAccount signing key, RBAC
 * authorization and an admin kubeconfig.
 */
export class ControlPlane {
  readonly kubeconfigPath: string;
  private readonly opts: Resolved;
  private readonly processes: ManagedProcess[] = [];
  private ca: CertificateAuthority | undefined;
  private admin: KeyPairPem | undefined;
  private apiServer: ManagedProcess | undefined;
  private stopping = false;
  private etcd: ManagedProcess | undefined;

  constructor(options: ControlPlaneOptions) {
    const bind = options.bindAddress ?? '127.0.0.1';
    this.opts = {
      netns: options.netns,
      name: options.name,
      dir: options.dir,
      bindAddress: bind,
      advertiseAddress: options.advertiseAddress ?? bind,
      clientAddress: options.clientAddress ?? (bind === '0.0.0.0' ? '127.0.0.1' : bind),
      apiServerPort: options.apiServerPort ?? 0,
      serviceCidr: options.serviceCidr ?? '10.96.0.0/16',
      podCidr: options.podCidr ?? '10.244.0.0/16',
      serviceIp: options.serviceIp ?? '10.96.0.1',
      startTimeoutMs: options.startTimeoutMs ?? 120_000,
    };
    this.kubeconfigPath = join(options.dir, 'admin.kubeconfig');
  }

  get name(): string {
    return this.opts.name;
  }

  /** https://address:port this process reaches the apiserver at. */
  get server(): string {
    return `https://${this.opts.clientAddress}:${this.opts.apiServerPort}`;
  }

  get caPem(): string {
    if (!this.ca) throw new Error(`control plane ${this.name} is not started`);
    return this.ca.certPem;
  }

  /** Issues a client certificate signed by this cluster's CA (for node agents and tests). */
  async issueClientCert(commonName: string, organizations: string[] = []): Promise<KeyPairPem> {
    if (!this.ca) throw new Error(`control plane ${this.name} is not started`);
    return this.ca.issue({ commonName, organizations, usage: 'client' });
  }

  /**
   * The kubelet's serving certificate for a node at `ip`, signed by this cluster's CA, which the
   * apiserver checks when it proxies `kubectl exec`, `logs` and `port-forward` to the node.
   */
  async issueKubeletServingCert(nodeName: string, ip: string): Promise<KeyPairPem> {
    if (!this.ca) throw new Error(`control plane ${this.name} is not started`);
    return this.ca.issue({ commonName: `system:node:${nodeName}`, organizations: ['system:nodes'], usage: 'server', dnsNames: [nodeName], ipAddresses: [ip] });
  }

  /** An admin KubeConfig object for @kubernetes/client-node. */
  kubeConfig(): KubeConfig {
    const kc = new KeepAliveKubeConfig();
    kc.loadFromFile(this.kubeconfigPath);
    return kc;
  }

  async start(): Promise<void> {
    const o = this.opts;
    const pki = join(o.dir, 'pki');
    const logs = join(o.dir, 'logs');
    await mkdir(pki, { recursive: true });
    await mkdir(logs, { recursive: true });
    if (o.apiServerPort === 0) o.apiServerPort = await freePort();
    const etcdClientPort = await freePort();
    const etcdPeerPort = await freePort();

    this.ca = await CertificateAuthority.create(`${o.name}-ca`);
    const serving = await this.ca.issue({
      commonName: 'kube-apiserver',
      usage: 'server',
      dnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost'],
      ipAddresses: unique(['127.0.0.1', o.serviceIp, o.advertiseAddress, o.clientAddress].filter((a) => a !== '0.0.0.0')),
    });
    this.admin = await this.ca.issue({ commonName: 'fleetboard-testbed-admin', organizations: ['system:masters'], usage: 'client' });
    const kcm = await this.ca.issue({ commonName: 'system:kube-controller-manager', usage: 'client' });
    const scheduler = await this.ca.issue({ commonName: 'system:kube-scheduler', usage: 'client' });
    // As kubeadm names it: the identity the apiserver shows kubelets, bound to system:kubelet-api-admin below.
    const kubeletClient = await this.ca.issue({ commonName: KUBELET_CLIENT_USER, usage: 'client' });
    const sa = await serviceAccountKeyPair();
    const files: Record<string, string> = {
      'ca.crt': this.ca.certPem,
      'ca.key': await this.ca.keyPem(),
      'apiserver.crt': serving.certPem,
      'apiserver.key': serving.keyPem,
      'apiserver-kubelet-client.crt': kubeletClient.certPem,
      'apiserver-kubelet-client.key': kubeletClient.keyPem,
      'sa.pub': sa.publicPem,
      'sa.key': sa.privatePem,
    };
    for (const [file, content] of Object.entries(files)) await writeFile(join(pki, file), content, { mode: 0o600 });

    const local = `https://127.0.0.1:${o.apiServerPort}`;
    const inside = o.bindAddress === '0.0.0.0' || o.bindAddress.startsWith('127.') ? local : `https://${o.bindAddress}:${o.apiServerPort}`;
    const kubeconfig = (user: string, creds: KeyPairPem, server: string) =>
      renderKubeconfig({ cluster: o.name, server, caPem: this.caPem, user, credentials: creds });
    await writeFile(this.kubeconfigPath, kubeconfig('admin', this.admin, this.server), { mode: 0o600 });
    await writeFile(join(o.dir, 'controller-manager.kubeconfig'), kubeconfig('kube-controller-manager', kcm, inside), { mode: 0o600 });
    await writeFile(join(o.dir, 'scheduler.kubeconfig'), kubeconfig('kube-scheduler', scheduler, inside), { mode: 0o600 });

    const etcd = this.spawn('etcd', [
      `--name=${o.name}`,
      `--data-dir=${join(o.dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClientPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=${o.name}=http://127.0.0.1:${etcdPeerPort}`,
      '--unsafe-no-fsync', // throwaway test data: durability buys nothing, fsync costs seconds
      '--log-level=warn',
    ]);
    const apiserver = this.spawn('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdClientPort}`,
      `--bind-address=${o.bindAddress}`,
      `--secure-port=${o.apiServerPort}`,
      `--advertise-address=${o.advertiseAddress}`,
      `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
      `--client-ca-file=${join(pki, 'ca.crt')}`,
      `--kubelet-client-certificate=${join(pki, 'apiserver-kubelet-client.crt')}`,
      `--kubelet-client-key=${join(pki, 'apiserver-kubelet-client.key')}`,
      `--kubelet-certificate-authority=${join(pki, 'ca.crt')}`,
      '--kubelet-preferred-address-types=InternalIP',
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      // Members join a hub with a bootstrap token, as kubeadm nodes do.
      '--enable-bootstrap-token-auth=true',
      '--allow-privileged=true',
      `--service-cluster-ip-range=${o.serviceCidr}`,
      `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--cert-dir=${pki}`,
      '--profiling=false',
      '--v=1',
    ]);
    this.apiServer = apiserver;
    this.etcd = etcd;
    await this.waitReady(apiserver, etcd);
    await this.kubeConfig().makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
      body: {
        metadata: { name: KUBELET_CLIENT_USER },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: KUBELET_CLIENT_USER }],
      },
    });
    const controllerManager = this.spawn('kube-controller-manager', [
      `--kubeconfig=${join(o.dir, 'controller-manager.kubeconfig')}`,
      `--authentication-kubeconfig=${join(o.dir, 'controller-manager.kubeconfig')}`,
      `--authorization-kubeconfig=${join(o.dir, 'controller-manager.kubeconfig')}`,
      '--secure-port=0',
      '--use-service-account-credentials=true',
      // tokencleaner removes expired bootstrap tokens.
      '--controllers=*,tokencleaner',
      `--service-account-private-key-file=${join(pki, 'sa.key')}`,
      `--root-ca-file=${join(pki, 'ca.crt')}`,
      `--cluster-signing-cert-file=${join(pki, 'ca.crt')}`,
      `--cluster-signing-key-file=${join(pki, 'ca.key')}`,
      '--allocate-node-cidrs=true',
      `--cluster-cidr=${o.podCidr}`,
      '--node-cidr-mask-size=24',
      `--service-cluster-ip-range=${o.serviceCidr}`,
      `--cert-dir=${pki}`,
      '--profiling=false',
      '--v=1',
    ]);
    const kubeScheduler = this.spawn('kube-scheduler', [
      `--kubeconfig=${join(o.dir, 'scheduler.kubeconfig')}`,
      `--authentication-kubeconfig=${join(o.dir, 'scheduler.kubeconfig')}`,
      `--authorization-kubeconfig=${join(o.dir, 'scheduler.kubeconfig')}`,
      '--secure-port=0',
      '--profiling=false',
      '--v=1',
    ]);
    this.restartOnExit(controllerManager);
    this.restartOnExit(kubeScheduler);
    await this.waitLeader('kube-controller-manager', controllerManager);
    await this.waitLeader('kube-scheduler', kubeScheduler);
  }

  /**
   * As the kubelet restarts a static pod: the controller manager and the
   * scheduler exit when they lose their leader Lease (an apiserver outage
   * longer than their renew deadline does that), and come back a second later.
   */
  private restartOnExit(p: ManagedProcess): void {
    void p.exited().then(() => {
      if (this.stopping) return;
      setTimeout(() => {
        if (this.stopping || !this.processes.includes(p)) return;
        this.restartOnExit(this.respawn(p));
      }, 1000);
    });
  }

  /** Stops every process (newest first) and removes the state directory. */
  async stop(options: { keepDir?: boolean } = {}): Promise<void> {
    this.stopping = true;
    for (const p of this.processes.reverse()) await p.stop();
    this.processes.length = 0;
    if (!options.keepDir) await rm(this.opts.dir, { recursive: true, force: true });
  }

  /** Stops the kube-apiserver (SIGTERM, as an upgrade or a crash loop would), leaving etcd and the rest running. */
  async stopApiServer(): Promise<void> {
    if (!this.apiServer) throw new HarnessError('NOT_STARTED', `${this.name}: the control plane was never started`);
    await this.apiServer.stop();
  }

  /** Starts the kube-apiserver again with the same flags and data; resolves once it is ready. */
  async startApiServer(): Promise<void> {
    const old = this.apiServer;
    if (!old || !this.etcd) throw new HarnessError('NOT_STARTED', `${this.name}: the control plane was never started`);
    await old.stop();
    this.apiServer = this.respawn(old);
    await this.waitReady(this.apiServer, this.etcd);
  }

  /** Starts `old`'s command again in its place among the control plane's processes. */
  private respawn(old: ManagedProcess): ManagedProcess {
    const fresh = new ManagedProcess(old.spec);
    fresh.start();
    this.processes.splice(this.processes.indexOf(old), 1, fresh);
    return fresh;
  }

  /** Fails if any control-plane process has died. */
  assertRunning(): void {
    for (const p of this.processes) p.assertRunning();
  }

  private spawn(tool: Parameters<typeof toolPath>[0], args: string[]): ManagedProcess {
    const spec = {
      name: `${this.name}/${tool}`,
      command: toolPath(tool),
      args,
      logFile: join(this.opts.dir, 'logs', `${tool}.log`),
      ...(this.opts.netns ? { netns: this.opts.netns } : {}),
    };
    const p = new ManagedProcess(spec);
    p.start();
    this.processes.push(p);
    return p;
  }

  private async waitReady(apiserver: ManagedProcess, etcd: ManagedProcess): Promise<void> {
    if (!this.admin) throw new Error('admin credentials missing');
    const creds = { ca: this.caPem, cert: this.admin.certPem, key: this.admin.keyPem };
    await waitFor(
      async () => {
        etcd.assertRunning();
        apiserver.assertRunning();
        const status = await httpsStatus(`${this.server}/readyz`, creds);
        return status === 200 ? true : undefined;
      },
      { what: `${this.name} kube-apiserver /readyz`, timeoutMs: this.opts.startTimeoutMs, intervalMs: 300 },
    );
  }

  private async waitLeader(lease: string, proc: ManagedProcess): Promise<void> {
    const api = this.kubeConfig().makeApiClient(CoordinationV1Api);
    await waitFor(
      async () => {
        proc.assertRunning();
        const l = await api.readNamespacedLease({ name: lease, namespace: 'kube-system' });
        return l.spec?.holderIdentity ? true : undefined;
      },
      { what: `${this.name} ${lease} to hold its leader lease`, timeoutMs: this.opts.startTimeoutMs, intervalMs: 300 },
    );
  }
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** Status code of an HTTPS GET verified against `ca`, authenticated with a client certificate. */
export function httpsStatus(url: string, creds: { ca: string; cert: string; key: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...creds, method: 'GET', timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
