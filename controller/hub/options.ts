import { parseArgs } from 'node:util';
import { parseCidr } from '../ipam/cidr.js';
import { clusterIdProblem } from '../clusterset/peer.js';
import { cnfPodFlags, isEndpointHost, OptionsError, parseCnfPodFlags, udpPort, type CnfPodOptions } from '../options.js';

export interface HubOptions extends CnfPodOptions {
  clusterID: string;
  clusterCidrPrefix: number;
  /** What members dial: tunnel.endpoint and the NodePort in front of the leader. */
  endpoint: string;
  endpointPort: number;
  memberTokenSeconds: number;
}

/** The hub cnf's flags, validated once at start; NODE_NAME, POD_NAME and POD_NAMESPACE come from the downward API. */
export function parseHubOptions(argv: string[], env: NodeJS.ProcessEnv): HubOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...cnfPodFlags(env, 'fleetboard-hub-leader'),
      'cluster-id': { type: 'string', default: 'hub' },
      'cluster-cidr-prefix': { type: 'string', default: '16' },
      'tunnel-endpoint': { type: 'string', default: '' },
      'tunnel-endpoint-port': { type: 'string', default: '31820' },
      'member-token-ttl': { type: 'string', default: '168h' },
    },
  });
  const shared = parseCnfPodFlags(values);
  const idProblem = clusterIdProblem(values['cluster-id']);
  if (idProblem) throw new OptionsError(`--cluster-id: ${idProblem}`);
  const global = parseCidr(shared.globalCidr);
  const prefix = Number(values['cluster-cidr-prefix']);
  if (!Number.isInteger(prefix) || prefix < global.prefix || prefix > 28) {
    throw new OptionsError(`--cluster-cidr-prefix must be a whole number from /${global.prefix} (the global CIDR) to /28 (got "${values['cluster-cidr-prefix']}")`);
  }
  const endpoint = values['tunnel-endpoint'];
  if (!endpoint || !isEndpointHost(endpoint)) {
    throw new OptionsError(`--tunnel-endpoint must be the address or DNS name members reach the hub at, e.g. 203.0.113.10 (tunnel.endpoint; got "${endpoint}")`);
  }
  const ttl = values['member-token-ttl'];
  const ttlMatch = /^(\d+)h$/.exec(ttl);
  const memberTokenSeconds = Number(ttlMatch?.[1]) * 3600;
  if (!ttlMatch || memberTokenSeconds < 3600 || memberTokenSeconds > 24 * 3600 * 30) throw new OptionsError(`--member-token-ttl must be whole hours from 1h to 720h, e.g. 168h (got "${ttl}")`);
  const endpointPort = udpPort('tunnel-endpoint-port', values['tunnel-endpoint-port']);
  return { ...shared, clusterID: values['cluster-id'], clusterCidrPrefix: prefix, endpoint, endpointPort, memberTokenSeconds };
}
