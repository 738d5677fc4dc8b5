import { isIP } from 'node:net';
import { DNS_NAME_ANNOTATION, LABEL_SERVICE_NAME, LABEL_SOURCE_CLUSTER, LABEL_SOURCE_CONNECTED } from '../mcs/api.js';
import type { EndpointSlice } from '../objects/discovery.js';
import type { ServiceImport } from '../objects/mcs.js';
import { addressLabel, canonicalName, inZone, isDnsLabel, isDnsName } from './names.js';
import { reverseName } from './reverse.js';

/**
 * The version of the multicluster DNS specification (KEP-1645) these zones
 * follow, which its `dns-version` TXT record reports (the cluster-local
 * Kubernetes DNS specification is at 1.1.0; the multicluster one at 1.0.0).
 */
export const DNS_SCHEMA_VERSION = '1.0.0';

export interface SrvTarget {
  readonly port: number;
  /** Canonical name, answered in the same index. */
  readonly target: string;
}

/** The records one name holds; a name with none is an empty non-terminal (it exists: NODATA, not NXDOMAIN). */
export interface NameRecords {
  readonly a: readonly string[];
  readonly aaaa: readonly string[];
  readonly srv: readonly SrvTarget[];
  readonly txt: readonly string[];
  /** The one name a reverse-lookup name points to. */
  readonly ptr: readonly string[];
}

/** Everything crossdns answers from: immutable, replaced whole on every change. */
export interface DnsIndex {
  /** Every zone's apex, multicluster, custom and reverse ones, longest first so the innermost zone of a name is found first. */
  readonly zones: readonly string[];
  /** The name of each zone's nameserver (the SOA's mname and the NS at the apex), by zone. */
  readonly nameservers: ReadonlyMap<string, string>;
  /** Every name that exists, by canonical name, apexes and empty non-terminals included. */
  readonly names: ReadonlyMap<string, NameRecords>;
  readonly ttl: number;
  /** SOA serial: changes with the content. */
  readonly serial: number;
}

export interface IndexOptions {
  /** Multicluster zones, canonical: `<svc>.<ns>.svc.<zone>`. */
  zones: readonly string[];
  /** Zones for the names of `fleetboard.io/dns-name`, canonical; none by default. */
  customZones: readonly string[];
  /** in-addr.arpa zones of the global CIDR, for PTR records of ClusterSetIPs and headless endpoints; none by default. */
  reverseZones: readonly string[];
  /** The addresses of every zone's nameserver, `ns.dns.<zone>` (crossdns's own); none leaves the name without addresses. */
  nameserverAddresses: readonly string[];
  ttl: number;
  serial: number;
}

/** The name every zone's NS and SOA give for its nameserver, as CoreDNS names its own. */
export function nameserverName(zone: string): string {
  return `ns.dns.${zone}`;
}

export interface IndexInput {
  imports: readonly ServiceImport[];
  /** Imported EndpointSlices (labelled with the service name), of every namespace. */
  slices: readonly EndpointSlice[];
}

/** Why part of the input was left out; the same text each time, so a caller can log each once. */
export interface IndexProblem {
  service: string;
  message: string;
}

export interface BuiltIndex {
  index: DnsIndex;
  problems: IndexProblem[];
}

interface MutableRecords {
  a: string[];
  aaaa: string[];
  srv: SrvTarget[];
  txt: string[];
  ptr: string[];
}

/** A ready endpoint of a headless service as DNS names it. */
interface ReadyEndpoint {
  cluster: string;
  /** The hostname, or the address as a label. */
  label: string;
  addresses: string[];
}

interface NamedPort {
  name: string;
  protocol: string;
  port: number;
}

/** One service's records, whatever name they are published under. */
interface ServiceContent {
  headless: boolean;
  ips: string[];
  ports: NamedPort[];
  endpoints: ReadyEndpoint[];
}

/** Builds the index from ServiceImports and their imported EndpointSlices. Pure. */
export function buildIndex(input: IndexInput, opts: IndexOptions): BuiltIndex {
  const names = new Map<string, MutableRecords>();
  const problems: IndexProblem[] = [];
  const zones = [...opts.zones, ...opts.customZones, ...opts.reverseZones].sort((x, y) => y.length - x.length);
  const node = (name: string, zone: string): MutableRecords => {
    let records = names.get(name);
    if (!records) {
      records = { a: [], aaaa: [], srv: [], txt: [], ptr: [] };
      names.set(name, records);
      // Every ancestor up to the apex exists too, as an empty non-terminal at least.
      if (name !== zone) node(name.slice(name.indexOf('.') + 1), zone);
    }
    return records;
  };
  for (const zone of opts.zones) {
    node(zone, zone);
    node(`svc.${zone}`, zone);
    node(`dns-version.${zone}`, zone).txt.push(DNS_SCHEMA_VERSION);
  }
  for (const zone of [...opts.customZones, ...opts.reverseZones]) node(zone, zone);
  const customOwners = new Map<string, string>();
  const nameservers = new Map<string, string>();
  for (const zone of [...opts.zones, ...opts.customZones]) {
    const nameserver = node(nameserverName(zone), zone);
    for (const address of opts.nameserverAddresses) (isIP(address) === 4 ? nameserver.a : nameserver.aaaa).push(address);
    customOwners.set(nameserverName(zone), 'the nameserver');
    nameservers.set(zone, nameserverName(zone));
  }
  // A reverse zone holds only PTR records: its nameserver is the one of the first multicluster zone.
  for (const zone of opts.reverseZones) nameservers.set(zone, nameserverName(opts.zones[0] ?? zone));
  /** Reverse-lookup name → the one name it points to: the first service to claim an address keeps it. */
  const pointers = new Map<string, string>();
  const point = (ip: string, target: string) => {
    if (isIP(ip) !== 4) return;
    const reverse = reverseName(ip);
    if (!pointers.has(reverse)) pointers.set(reverse, target);
  };

  const endpoints = readyEndpointsByService(input.slices, problems);
  const sorted = [...input.imports].sort((x, y) => serviceKey(x).localeCompare(serviceKey(y)));
  for (const imp of sorted) {
    const service = serviceKey(imp);
    const namespace = imp.metadata.namespace ?? '';
    const name = imp.metadata.name;
    const content = serviceContent(imp, endpoints.get(service) ?? []);
    if (!content) {
      problems.push({ service, message: `ServiceImport ${service} has no type (no spec?); it gets no DNS names` });
      continue;
    }
    // A Service's name is one DNS label: an import named `<svc>.<ns>` was placed outside its namespace for its own names only.
    if (!name.includes('.')) {
      for (const zone of opts.zones) addService(node, `${name}.${namespace}.svc.${zone}`, zone, content);
      const primary = `${name}.${namespace}.svc.${opts.zones[0] ?? ''}`;
      for (const ip of content.ips) point(ip, primary);
      for (const e of content.endpoints) for (const ip of e.addresses) point(ip, `${e.label}.${e.cluster}.${primary}`);
    }
    for (const { name: customName, zone } of customNames(imp, opts.customZones, problems)) {
      const owner = customOwners.get(customName);
      if (owner) {
        problems.push({ service, message: `dns name ${customName} is already ${owner}'s; ignored here` });
        continue;
      }
      customOwners.set(customName, service);
      addService(node, customName, zone, content);
    }
  }
  for (const [reverse, target] of pointers) {
    const zone = opts.reverseZones.find((z) => inZone(reverse, z));
    if (zone) node(reverse, zone).ptr.push(target);
  }
  for (const records of names.values()) {
    records.a.sort();
    records.aaaa.sort();
  }
  return { index: { zones, nameservers, names, ttl: opts.ttl, serial: opts.serial }, problems };
}

function serviceKey(imp: ServiceImport): string {
  return `${imp.metadata.namespace ?? ''}/${imp.metadata.name}`;
}

/** Ready endpoints of connected clusters, by `<namespace>/<service>`. */
function readyEndpointsByService(slices: readonly EndpointSlice[], problems: IndexProblem[]): Map<string, ReadyEndpoint[]> {
  const byService = new Map<string, ReadyEndpoint[]>();
  for (const slice of slices) {
    const labels = slice.metadata.labels;
    const serviceName = labels[LABEL_SERVICE_NAME];
    // Its cluster's tunnel is down: the addresses are unreachable.
    if (!serviceName || labels[LABEL_SOURCE_CONNECTED] === 'false') continue;
    const service = `${slice.metadata.namespace ?? ''}/${serviceName}`;
    const cluster = (labels[LABEL_SOURCE_CLUSTER] ?? '').toLowerCase();
    if (!isDnsLabel(cluster)) {
      problems.push({ service, message: `EndpointSlice ${slice.metadata.name} has no source cluster that is a DNS label (${LABEL_SOURCE_CLUSTER}="${cluster}"); its endpoints are left out` });
      continue;
    }
    const list = byService.get(service) ?? [];
    byService.set(service, list);
    for (const endpoint of slice.endpoints) {
      if (endpoint.conditions.ready === false) continue;
      const addresses = endpoint.addresses.filter((a) => isIP(a) !== 0);
      const first = addresses[0];
      if (first === undefined) continue;
      const hostname = endpoint.hostname?.toLowerCase();
      list.push({ cluster, label: hostname && isDnsLabel(hostname) ? hostname : addressLabel(first), addresses });
    }
  }
  return byService;
}

/** A service's records; none for an import without a type (a hand-written one without spec), which has no records to give. */
function serviceContent(imp: ServiceImport, endpoints: ReadyEndpoint[]): ServiceContent | undefined {
  if (imp.spec.type === undefined) return undefined;
  const ports: NamedPort[] = [];
  for (const p of imp.spec.ports) {
    // Unnamed ports have no SRV records.
    const name = p.name?.toLowerCase();
    const protocol = (p.protocol ?? 'TCP').toLowerCase();
    const inRange = Number.isInteger(p.port) && p.port >= 1 && p.port <= 65535;
    if (name && isDnsLabel(name) && isDnsLabel(protocol) && inRange) ports.push({ name, protocol, port: p.port });
  }
  const headless = imp.spec.type === 'Headless';
  return { headless, ips: headless ? [] : imp.spec.ips.filter((ip) => isIP(ip) !== 0), ports, endpoints: headless ? endpoints : [] };
}

/**
 * A service's records under `base`: A/AAAA, SRV on the name itself (every
 * named port) and on `_<port>._<proto>.<base>`, and for a headless service
 * `<hostname>.<cluster>.<base>` per ready endpoint. A headless service without
 * ready endpoints has no name at all (NXDOMAIN, as the specification asks).
 */
function addService(node: (name: string, zone: string) => MutableRecords, base: string, zone: string, content: ServiceContent): void {
  if (content.headless && content.endpoints.length === 0) return;
  const service = node(base, zone);
  const addAddress = (records: MutableRecords, ip: string) => {
    const list = isIP(ip) === 4 ? records.a : records.aaaa;
    if (!list.includes(ip)) list.push(ip);
  };
  const addSrv = (records: MutableRecords, target: SrvTarget) => {
    if (!records.srv.some((s) => s.port === target.port && s.target === target.target)) records.srv.push(target);
  };
  for (const ip of content.ips) addAddress(service, ip);
  const targets: string[] = [];
  if (content.headless) {
    for (const e of content.endpoints) {
      const pod = `${e.label}.${e.cluster}.${base}`;
      const records = node(pod, zone);
      for (const ip of e.addresses) {
        addAddress(records, ip);
        addAddress(service, ip);
      }
      if (!targets.includes(pod)) targets.push(pod);
    }
  } else {
    targets.push(base);
  }
  for (const p of content.ports) {
    const srv = node(`_${p.name}._${p.protocol}.${base}`, zone);
    for (const target of targets) {
      addSrv(srv, { port: p.port, target });
      addSrv(service, { port: p.port, target });
    }
  }
}

/** The names of `fleetboard.io/dns-name` that lie inside a custom zone; the others become problems. */
function customNames(imp: ServiceImport, customZones: readonly string[], problems: IndexProblem[]): { name: string; zone: string }[] {
  const annotation = imp.metadata.annotations[DNS_NAME_ANNOTATION];
  if (!annotation) return [];
  const service = serviceKey(imp);
  const found: { name: string; zone: string }[] = [];
  for (const text of annotation.split(',')) {
    const name = canonicalName(text);
    if (!name) continue;
    if (!isDnsName(name)) {
      problems.push({ service, message: `${DNS_NAME_ANNOTATION} "${text.trim()}" is not a domain name; ignored` });
      continue;
    }
    // Strictly below the apex: the apex holds the zone's SOA and NS.
    const zone = customZones.filter((z) => inZone(name, z) && name !== z).sort((x, y) => y.length - x.length)[0];
    if (!zone) {
      const allowed = customZones.length > 0 ? `inside one of the custom zones ${customZones.join(', ')}` : 'inside a custom zone, and none is configured (--custom-zones)';
      problems.push({ service, message: `${DNS_NAME_ANNOTATION} ${name} is not ${allowed}; ignored` });
      continue;
    }
    found.push({ name, zone });
  }
  return found;
}
