import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { LOG_LEVELS, OptionsError, parseListenAddress } from '../options.js';
import type { ListenAddress } from '../metrics/server.js';
import { canonicalName, inZone, isDnsName } from './names.js';
import { reverseZones } from './reverse.js';

export interface CrossDnsOptions {
  /** Multicluster zones: `<svc>.<ns>.svc.<zone>`. */
  zones: string[];
  /** Zones for the names services ask for with `fleetboard.io/dns-name`. */
  customZones: string[];
  /** in-addr.arpa zones answered with PTR records, from --reverse-cidrs (the global CIDR). */
  reverseZones: string[];
  listen: ListenAddress;
  /** Seconds, for answers and (as the SOA minimum) for negative answers. */
  ttl: number;
  /** Where the API is: in-cluster (ServiceAccount) or a kubeconfig file. */
  kubeconfig: { inCluster: true } | { inCluster: false; file: string };
  nodeName: string;
  logLevel: string;
  /** Open TCP connections at most; more are closed at once, so idle clients cannot exhaust the server. */
  maxTcpConnections: number;
  /** Where clients reach crossdns (its Service's ClusterIP): the addresses of `ns.dns.<zone>`, the zones' NS. */
  nameserverAddresses: string[];
  /** /metrics, /healthz and /readyz. */
  metricsAddress: ListenAddress;
}

const MAX_TTL = 3600;

/** crossdns's flags, validated once at start; NODE_NAME comes from the downward API, KUBECONFIG outside a cluster. */
export function parseCrossDnsOptions(argv: string[], env: NodeJS.ProcessEnv): CrossDnsOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      zones: { type: 'string', default: 'clusterset.local,hyperos.local' },
      'custom-zones': { type: 'string', default: '' },
      'reverse-cidrs': { type: 'string', default: '' },
      listen: { type: 'string', default: '0.0.0.0:53' },
      ttl: { type: 'string', default: '5' },
      'log-level': { type: 'string', default: 'info' },
      'max-tcp-connections': { type: 'string', default: '1000' },
      'nameserver-addresses': { type: 'string', default: '' },
      'metrics-address': { type: 'string', default: ':9464' },
    },
  });
  const zones = zoneList('zones', values.zones);
  if (zones.length === 0) throw new OptionsError('--zones needs at least one zone, e.g. clusterset.local');
  const customZones = zoneList('custom-zones', values['custom-zones']);
  for (const custom of customZones) {
    const clash = zones.find((z) => inZone(custom, z) || inZone(z, custom));
    if (clash) throw new OptionsError(`--custom-zones ${custom} overlaps the multicluster zone ${clash}; a custom zone must lie outside every --zones zone`);
  }
  const reverse = new Set<string>();
  for (const cidr of values['reverse-cidrs'].split(',').map((c) => c.trim()).filter(Boolean)) {
    try {
      for (const zone of reverseZones(cidr)) reverse.add(zone);
    } catch (err) {
      throw new OptionsError(`--reverse-cidrs: ${(err as Error).message}`);
    }
  }
  const listen = parseListenAddress('listen', values.listen);
  const metricsAddress = parseListenAddress('metrics-address', values['metrics-address']);
  const ttl = Number(values.ttl.replace(/s$/, ''));
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) throw new OptionsError(`--ttl must be whole seconds from 0 to ${MAX_TTL}, e.g. 5 (got "${values.ttl}")`);
  const maxTcpConnections = Number(values['max-tcp-connections']);
  if (!Number.isInteger(maxTcpConnections) || maxTcpConnections < 1) throw new OptionsError(`--max-tcp-connections must be a whole number of at least 1, e.g. 1000 (got "${values['max-tcp-connections']}")`);
  const nameserverAddresses = values['nameserver-addresses'].split(',').map((a) => a.trim()).filter(Boolean);
  const notIp = nameserverAddresses.find((a) => isIP(a) === 0);
  if (notIp !== undefined) throw new OptionsError(`--nameserver-addresses takes IP addresses, e.g. 10.96.0.11 (got "${notIp}")`);
  if (!LOG_LEVELS.includes(values['log-level'])) throw new OptionsError(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got "${values['log-level']}")`);
  let kubeconfig: CrossDnsOptions['kubeconfig'];
  if (env.KUBERNETES_SERVICE_HOST) kubeconfig = { inCluster: true };
  else if (env.KUBECONFIG) kubeconfig = { inCluster: false, file: env.KUBECONFIG };
  else throw new OptionsError('no Kubernetes API: run in a pod (KUBERNETES_SERVICE_HOST) or set KUBECONFIG to a kubeconfig file');
  return { zones, customZones, reverseZones: [...reverse], listen: { host: listen.host || '0.0.0.0', port: listen.port }, ttl, kubeconfig, nodeName: env.NODE_NAME ?? '', logLevel: values['log-level'], maxTcpConnections, nameserverAddresses, metricsAddress };
}

/** A comma-separated list of distinct domain names, canonical. */
function zoneList(flag: string, text: string): string[] {
  const zones: string[] = [];
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const zone = canonicalName(part);
    if (!isDnsName(zone)) throw new OptionsError(`--${flag}: "${part.trim()}" is not a domain name such as clusterset.local`);
    const nested = zones.find((z) => inZone(zone, z) || inZone(z, zone));
    if (nested) throw new OptionsError(`--${flag}: ${zone} and ${nested} overlap; list each zone once, none inside another`);
    zones.push(zone);
  }
  return zones;
}
