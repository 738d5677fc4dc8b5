import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import { parseCidr } from '../ipam/cidr.js';
import type { ListenAddress } from '../metrics/server.js';
import { isInterfaceName } from '../wireguard/wireguardGo.js';
import { clusterIdProblem } from '../clusterset/peer.js';
import { LOG_LEVELS, OptionsError, parseListenAddress, seconds } from '../options.js';

export interface HubOptions {
  nodeName: string;
  podName: string;
  namespace: string;
  clusterID: string;
  globalCidr: string;
  clusterCidrPrefix: number;
  /** What members dial: tunnel.endpoint and the NodePort in front of the leader. */
  endpoint: string;
  endpointPort: number;
  tunnelPort: number;
  tunnelInterface: string;
  keyFile: string;
  mtu: number;
  memberTokenSeconds: number;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  metricsAddress: ListenAddress;
  logLevel: string;
}

const port = (flag: string, text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new OptionsError(`--${flag} must be a UDP port from 1 to 65535 (got "${text}")`);
  return n;
};

/** The hub cnf's flags, validated once at start; NODE_NAME, POD_NAME and POD_NAMESPACE come from the downward API. */
export function parseHubOptions(argv: string[], env: NodeJS.ProcessEnv): HubOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'node-name': { type: 'string', default: env.NODE_NAME ?? '' },
      'pod-name': { type: 'string', default: env.POD_NAME ?? '' },
      namespace: { type: 'string', default: env.POD_NAMESPACE ?? '' },
      'cluster-id': { type: 'string', default: 'hub' },
      'global-cidr': { type: 'string', default: '10.112.0.0/12' },
      'cluster-cidr-prefix': { type: 'string', default: '16' },
      'tunnel-endpoint': { type: 'string', default: '' },
      'tunnel-endpoint-port': { type: 'string', default: '31820' },
      'tunnel-port': { type: 'string', default: '51820' },
      'tunnel-interface': { type: 'string', default: 'fleetboard0' },
      'key-file': { type: 'string', default: '/var/lib/fleetboard/wireguard.key' },
      mtu: { type: 'string', default: '0' },
      'member-token-ttl': { type: 'string', default: '168h' },
      'lease-name': { type: 'string', default: 'fleetboard-hub-leader' },
      'lease-duration': { type: 'string', default: '15s' },
      'renew-deadline': { type: 'string', default: '10s' },
      'retry-period': { type: 'string', default: '2s' },
      'metrics-address': { type: 'string', default: ':9464' },
      'log-level': { type: 'string', default: 'info' },
    },
  });
  for (const [flag, name] of [['node-name', 'NODE_NAME'], ['pod-name', 'POD_NAME'], ['namespace', 'POD_NAMESPACE']] as const) {
    if (!values[flag]) throw new OptionsError(`--${flag} (or ${name} from the downward API) is required`);
  }
  const idProblem = clusterIdProblem(values['cluster-id']);
  if (idProblem) throw new OptionsError(`--cluster-id: ${idProblem}`);
  let global;
  try {
    global = parseCidr(values['global-cidr']);
  } catch (err) {
    throw new OptionsError(`--global-cidr: ${(err as Error).message}`, { cause: err });
  }
  const prefix = Number(values['cluster-cidr-prefix']);
  if (!Number.isInteger(prefix) || prefix < global.prefix || prefix > 28) {
    throw new OptionsError(`--cluster-cidr-prefix must be a whole number from /${global.prefix} (the global CIDR) to /28 (got "${values['cluster-cidr-prefix']}")`);
  }
  const endpoint = values['tunnel-endpoint'];
  if (!endpoint || (!isIP(endpoint) && !/^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?$/.test(endpoint))) {
    throw new OptionsError(`--tunnel-endpoint must be the address or DNS name members reach the hub at, e.g. 203.0.113.10 (tunnel.endpoint; got "${endpoint}")`);
  }
  const mtu = Number(values.mtu);
  if (!Number.isInteger(mtu) || (mtu !== 0 && (mtu < 576 || mtu > 9000))) throw new OptionsError(`--mtu must be 0 (automatic) or 576 to 9000 (got "${values.mtu}")`);
  if (!isInterfaceName(values['tunnel-interface'])) throw new OptionsError(`--tunnel-interface must be an interface name of 1 to 15 letters, digits, "_", "." or "-" (got "${values['tunnel-interface']}")`);
  const ttl = values['member-token-ttl'];
  const ttlMatch = /^(\d+)h$/.exec(ttl);
  const memberTokenSeconds = Number(ttlMatch?.[1]) * 3600;
  if (!ttlMatch || memberTokenSeconds < 3600 || memberTokenSeconds > 24 * 3600 * 30) throw new OptionsError(`--member-token-ttl must be whole hours from 1h to 720h, e.g. 168h (got "${ttl}")`);
  if (!LOG_LEVELS.includes(values['log-level'])) throw new OptionsError(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got "${values['log-level']}")`);
  return {
    nodeName: values['node-name'],
    podName: values['pod-name'],
    namespace: values.namespace,
    clusterID: values['cluster-id'],
    globalCidr: values['global-cidr'],
    clusterCidrPrefix: prefix,
    endpoint,
    endpointPort: port('tunnel-endpoint-port', values['tunnel-endpoint-port']),
    tunnelPort: port('tunnel-port', values['tunnel-port']),
    tunnelInterface: values['tunnel-interface'],
    keyFile: values['key-file'],
    mtu,
    memberTokenSeconds,
    leaseName: values['lease-name'],
    leaseDurationMs: seconds('lease-duration', values['lease-duration']),
    renewDeadlineMs: seconds('renew-deadline', values['renew-deadline']),
    retryPeriodMs: seconds('retry-period', values['retry-period']),
    metricsAddress: parseListenAddress('metrics-address', values['metrics-address']),
    logLevel: values['log-level'],
  };
}
