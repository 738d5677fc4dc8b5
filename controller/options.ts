import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { containsCidr, parseCidr } from './ipam/cidr.js';
import type { ListenAddress } from './metrics/server.js';
import { isInterfaceName } from './wireguard/validate.js';
import { WIREGUARD_BACKENDS, type WireGuardBackend } from './wireguard/backend.js';
import { clusterIdProblem } from './clusterset/peer.js';

/** What every cnf pod is told, member or hub. */
export interface CnfPodOptions {
  nodeName: string;
  podName: string;
  namespace: string;
  globalCidr: string;
  /** 0: underlay MTU - 80, detected at start. */
  mtu: number;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** /metrics, /healthz and /readyz. */
  metricsAddress: ListenAddress;
  /** The cnf pod's WireGuard interface and UDP port. */
  tunnelInterface: string;
  tunnelPort: number;
  /** Which WireGuard runs the tunnel interface; `auto` prefers the kernel's. */
  wireguardBackend: WireGuardBackend;
  /** Node-local file holding this node's WireGuard private key. */
  keyFile: string;
  logLevel: string;
}

export interface ControllerOptions extends CnfPodOptions {
  socket: string;
  /** Without a hub: the range node CIDRs come from. With one, the hub allocates it. */
  clusterCidr: string | undefined;
  /** How to join the hub; undefined for a cluster on its own. */
  hub: { url: string; caFile: string; clusterID: string; bootstrapToken: string } | undefined;
  /** Seconds between keepalives from the gateway to the hub, which hold the NAT mapping open. */
  keepaliveSeconds: number;
  /** Where other members reach this cluster's gateway (tunnel.endpoint/tunnel.port); undefined behind NAT. */
  publicEndpoint: { host: string; port: number } | undefined;
  nodeCidrPrefix: number;
}

export class OptionsError extends Error {
  override name = 'OptionsError';
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** The clusterset's global CIDR unless configured (the charts' tunnel.cidr). */
export const DEFAULT_GLOBAL_CIDR = '10.112.0.0/12';

export function seconds(flag: string, text: string): number {
  const v = Number(text.replace(/s$/, ''));
  if (!Number.isFinite(v) || v <= 0) throw new OptionsError(`--${flag} must be a positive number of seconds such as 15s (got "${text}")`);
  return Math.round(v * 1000);
}

export function udpPort(flag: string, text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new OptionsError(`--${flag} must be a UDP port from 1 to 65535 (got "${text}")`);
  return port;
}

/** An IP address or DNS name that other clusters dial (tunnel.endpoint). */
export function isEndpointHost(text: string): boolean {
  return isIP(text) !== 0 || /^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?$/.test(text);
}

/** `host:port`, `:port` or `[v6]:port`. */
export function parseListenAddress(flag: string, text: string): ListenAddress {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]*):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new OptionsError(`--${flag} must be host:port or :port, e.g. :9464 (got "${text}")`);
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port };
}

/** The parseArgs spec of the flags every cnf pod takes; NODE_NAME, POD_NAME and POD_NAMESPACE come from the downward API. */
export function cnfPodFlags(env: NodeJS.ProcessEnv, leaseName: string) {
  const text = (value: string) => ({ type: 'string' as const, default: value });
  return {
    'node-name': text(env.NODE_NAME ?? ''),
    'pod-name': text(env.POD_NAME ?? ''),
    namespace: text(env.POD_NAMESPACE ?? ''),
    'global-cidr': text(DEFAULT_GLOBAL_CIDR),
    mtu: text('0'),
    'lease-name': text(leaseName),
    'lease-duration': text('15s'),
    'renew-deadline': text('10s'),
    'retry-period': text('2s'),
    'metrics-address': text(':9464'),
    'tunnel-interface': text('fleetboard0'),
    'tunnel-port': text('51820'),
    'wireguard-backend': text('auto'),
    'key-file': text('/var/lib/fleetboard/wireguard.key'),
    'log-level': text('info'),
  };
}

/** Validates the flags of `cnfPodFlags`. */
export function parseCnfPodFlags(values: Record<keyof ReturnType<typeof cnfPodFlags>, string>): CnfPodOptions {
  for (const [flag, env] of [['node-name', 'NODE_NAME'], ['pod-name', 'POD_NAME'], ['namespace', 'POD_NAMESPACE']] as const) {
    if (!values[flag]) throw new OptionsError(`--${flag} (or ${env} from the downward API) is required`);
  }
  try {
    parseCidr(values['global-cidr']);
  } catch (err) {
    throw new OptionsError(`--global-cidr: ${(err as Error).message}`, { cause: err });
  }
  const mtu = Number(values.mtu);
  if (!Number.isInteger(mtu) || (mtu !== 0 && (mtu < 576 || mtu > 9000))) throw new OptionsError(`--mtu must be 0 (automatic) or 576 to 9000 (got "${values.mtu}")`);
  const tunnelPort = udpPort('tunnel-port', values['tunnel-port']);
  if (!isInterfaceName(values['tunnel-interface'])) {
    throw new OptionsError(`--tunnel-interface must be an interface name of 1 to 15 letters, digits, "_", "." or "-" (got "${values['tunnel-interface']}")`);
  }
  const wireguardBackend = WIREGUARD_BACKENDS.find((b) => b === values['wireguard-backend']);
  if (!wireguardBackend) throw new OptionsError(`--wireguard-backend must be one of ${WIREGUARD_BACKENDS.join(', ')} (got "${values['wireguard-backend']}")`);
  if (!LOG_LEVELS.includes(values['log-level'])) throw new OptionsError(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got "${values['log-level']}")`);
  return {
    nodeName: values['node-name'],
    podName: values['pod-name'],
    namespace: values.namespace,
    globalCidr: values['global-cidr'],
    mtu,
    leaseName: values['lease-name'],
    leaseDurationMs: seconds('lease-duration', values['lease-duration']),
    renewDeadlineMs: seconds('renew-deadline', values['renew-deadline']),
    retryPeriodMs: seconds('retry-period', values['retry-period']),
    metricsAddress: parseListenAddress('metrics-address', values['metrics-address']),
    tunnelInterface: values['tunnel-interface'],
    tunnelPort,
    wireguardBackend,
    keyFile: values['key-file'],
    logLevel: values['log-level'],
  };
}

/** Parses and validates the controller's flags once, at start; NODE_NAME, POD_NAME and POD_NAMESPACE come from the downward API. */
export function parseControllerOptions(argv: string[], env: NodeJS.ProcessEnv): ControllerOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...cnfPodFlags(env, 'fleetboard-cnf-leader'),
      socket: { type: 'string', default: '/var/run/fleetboard/node.sock' },
      'cluster-cidr': { type: 'string', default: '' },
      'hub-url': { type: 'string', default: '' },
      'hub-ca-file': { type: 'string', default: '/etc/fleetboard/hub/ca.crt' },
      'cluster-id': { type: 'string', default: '' },
      keepalive: { type: 'string', default: '25s' },
      'tunnel-endpoint': { type: 'string', default: '' },
      'tunnel-endpoint-port': { type: 'string', default: '31820' },
      'node-cidr-prefix': { type: 'string', default: '24' },
    },
  });
  const shared = parseCnfPodFlags(values);
  const hubUrl = values['hub-url'];
  if (!hubUrl && !values['cluster-cidr']) {
    throw new OptionsError('set --hub-url (with --cluster-id) to join a hub, which allocates the cluster CIDR, or --cluster-cidr for a cluster on its own, e.g. 10.112.0.0/16');
  }
  if (hubUrl && values['cluster-cidr']) throw new OptionsError('--cluster-cidr and --hub-url exclude each other: the hub allocates the cluster CIDR of a member');
  const global = parseCidr(shared.globalCidr);
  let cluster;
  try {
    cluster = values['cluster-cidr'] ? parseCidr(values['cluster-cidr']) : undefined;
  } catch (err) {
    throw new OptionsError(`--cluster-cidr: ${(err as Error).message}`, { cause: err });
  }
  if (cluster && !containsCidr(global, cluster)) {
    throw new OptionsError(`--cluster-cidr ${values['cluster-cidr']} must lie inside --global-cidr ${values['global-cidr']}`);
  }
  let hub: ControllerOptions['hub'];
  if (hubUrl) {
    if (!/^https:\/\/[^/]+/.test(hubUrl)) throw new OptionsError(`--hub-url must be the hub apiserver's https:// URL, e.g. https://203.0.113.10:6443 (got "${hubUrl}")`);
    const idProblem = clusterIdProblem(values['cluster-id']);
    if (idProblem) throw new OptionsError(`--cluster-id: ${idProblem}`);
    const bootstrapToken = env.FLEETBOARD_BOOTSTRAP_TOKEN ?? '';
    if (!/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(bootstrapToken)) {
      throw new OptionsError('FLEETBOARD_BOOTSTRAP_TOKEN must hold the hub\'s bootstrap token, six and sixteen lower-case letters or digits joined by "." (hub.bootstrapToken)');
    }
    hub = { url: hubUrl, caFile: values['hub-ca-file'], clusterID: values['cluster-id'], bootstrapToken };
  }
  const endpoint = values['tunnel-endpoint'];
  if (endpoint && !hub) throw new OptionsError('--tunnel-endpoint needs --hub-url: it is where other members of the clusterset reach this one');
  if (endpoint && !isEndpointHost(endpoint)) {
    throw new OptionsError(`--tunnel-endpoint must be the address or DNS name other clusters reach this one at, e.g. 203.0.113.20 (tunnel.endpoint; got "${endpoint}")`);
  }
  const endpointPort = udpPort('tunnel-endpoint-port', values['tunnel-endpoint-port']);
  const prefix = Number(values['node-cidr-prefix']);
  // At least one prefix bit more than the range, which also holds the ClusterSetIPs.
  const widest = (cluster ?? global).prefix + 1;
  if (!Number.isInteger(prefix) || prefix < widest || prefix > 30) {
    throw new OptionsError(`--node-cidr-prefix must be a whole number from /${widest} (longer than the ${cluster ? 'cluster' : 'global'} CIDR, whose top also holds the ClusterSetIPs) to /30 (got "${values['node-cidr-prefix']}")`);
  }
  return {
    ...shared,
    socket: values.socket,
    clusterCidr: values['cluster-cidr'] || undefined,
    hub,
    keepaliveSeconds: Math.max(1, Math.round(seconds('keepalive', values.keepalive) / 1000)),
    publicEndpoint: endpoint ? { host: endpoint, port: endpointPort } : undefined,
    nodeCidrPrefix: prefix,
  };
}
