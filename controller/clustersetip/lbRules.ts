import { isIP } from 'node:net';
import { addressToInt, contains, parseCidr, type Cidr } from '../ipam/cidr.js';
import { IMPORT_MANAGED_BY_LABEL, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_SOURCE_CONNECTED, MANAGED_BY, type ServiceImportPort } from '../mcs/api.js';
import type { EndpointSlice } from '../objects/discovery.js';
import type { ServiceImport } from '../objects/mcs.js';

/** The nftables table FleetBoard owns in the cnf netns for ClusterSetIPs. */
export const LB_TABLE = 'fleetboard_lb';

/** One port of one ClusterSetIP and where its connections go. */
export interface VirtualPort {
  service: string;
  vip: string;
  port: ServiceImportPort;
  /** `address . port` of every ready backend in every connected cluster, sorted. */
  backends: { address: string; port: number }[];
  /** Session affinity ClientIP: how long a client stays with the backend it last reached; none without affinity. */
  affinitySeconds: number | undefined;
}

/** Kubernetes' default for `sessionAffinityConfig.clientIP.timeoutSeconds` (3 hours), and its largest value (a day). */
const DEFAULT_AFFINITY_SECONDS = 10_800;
const MAX_AFFINITY_SECONDS = 86_400;

/** The import comes from another cluster through the hub: a timeout a Service could not have gets the default, not a broken table. */
function affinityTimeout(seconds: number | undefined): number {
  if (seconds === undefined || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_AFFINITY_SECONDS) return DEFAULT_AFFINITY_SECONDS;
  return seconds;
}

const NFT_PROTOCOLS: Record<string, string> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

/**
 * The ClusterSetIP ports this node serves: every port of every ServiceImport
 * FleetBoard manages here, with the ready endpoints of the imported slices
 * whose source cluster is connected. A VIP outside the global CIDR never
 * reaches the cnf netns and is left out, as are endpoints that are not IPv4.
 * Slices match an import's port by name and protocol (the target port may
 * differ per cluster). Pure.
 */
export function virtualPorts(imports: readonly ServiceImport[], slices: readonly EndpointSlice[], globalCidr: string): VirtualPort[] {
  const global = parseCidr(globalCidr);
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const labels = s.metadata.labels;
    if (labels[LABEL_MANAGED_BY] !== MANAGED_BY || labels[LABEL_SOURCE_CONNECTED] === 'false' || s.addressType !== 'IPv4') continue;
    const key = `${s.metadata.namespace ?? ''}/${labels[LABEL_SERVICE_NAME] ?? ''}`;
    slicesByService.set(key, [...(slicesByService.get(key) ?? []), s]);
  }
  const ports: VirtualPort[] = [];
  for (const i of imports) {
    const vip = i.spec.ips[0];
    if (i.metadata.labels[IMPORT_MANAGED_BY_LABEL] !== MANAGED_BY || i.spec.type !== 'ClusterSetIP' || !vip || !inside(global, vip)) continue;
    const service = `${i.metadata.namespace ?? ''}/${i.metadata.name}`;
    for (const { name, protocol = 'TCP', appProtocol, port: number } of i.spec.ports) {
      if (!NFT_PROTOCOLS[protocol] || !validPort(number)) continue;
      const port: ServiceImportPort = { ...(name !== undefined ? { name } : {}), protocol, ...(appProtocol !== undefined ? { appProtocol } : {}), port: number };
      const backends = new Map<string, { address: string; port: number }>();
      for (const slice of slicesByService.get(service) ?? []) {
        const target = slice.ports.find((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === port.protocol)?.port;
        if (target === undefined || !validPort(target)) continue;
        for (const e of slice.endpoints) {
          if (e.conditions.ready === false) continue;
          // Addresses come from other clusters through the hub: one nft cannot parse would fail the whole table.
          for (const address of e.addresses) if (isIP(address) === 4) backends.set(`${address}:${target}`, { address, port: target });
        }
      }
      const sorted = [...backends.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, b]) => b);
      const affinitySeconds = i.spec.sessionAffinity === 'ClientIP' ? affinityTimeout(i.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds) : undefined;
      ports.push({ service, vip, port, backends: sorted, affinitySeconds });
    }
  }
  return ports.sort((a, b) => a.service.localeCompare(b.service) || a.port.port - b.port.port || a.port.protocol.localeCompare(b.port.protocol));
}

const validPort = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;

/**
 * Why parts of the ClusterSetIP imports FleetBoard manages here cannot be
 * served (virtualPorts leaves them out), by `namespace/name`; the same text
 * each time, so a caller can log each once. Pure.
 */
export function unservedImports(imports: readonly ServiceImport[], globalCidr: string): { service: string; message: string }[] {
  const global = parseCidr(globalCidr);
  const problems: { service: string; message: string }[] = [];
  for (const i of imports) {
    if (i.metadata.labels[IMPORT_MANAGED_BY_LABEL] !== MANAGED_BY || i.spec.type !== 'ClusterSetIP') continue;
    const service = `${i.metadata.namespace ?? ''}/${i.metadata.name}`;
    const vip = i.spec.ips[0];
    if (vip !== undefined && !inside(global, vip)) problems.push({ service, message: `ClusterSetIP ${vip} is not an address in the global CIDR ${globalCidr}; the service gets no load balancing` });
    for (const p of i.spec.ports) {
      if (!NFT_PROTOCOLS[p.protocol ?? 'TCP'] || !validPort(p.port)) problems.push({ service, message: `port ${p.port}/${p.protocol ?? 'TCP'} is not a TCP, UDP or SCTP port; it is left out` });
    }
  }
  return problems;
}

function inside(range: Cidr, address: string): boolean {
  try {
    return contains(range, addressToInt(address));
  } catch {
    return false;
  }
}

/**
 * With ClientIP affinity, one chain and one set per backend: the chain
 * remembers the client in the set (for the affinity timeout, renewed by each
 * new connection) and DNATs to the backend.
 */
interface StickyBackend {
  chain: string;
  rule: string;
  set: string;
  timeoutSeconds: number;
}

/** How one served VIP port appears in the table. */
interface ServedPort {
  chain: string;
  rules: string[];
  /** By chain name; empty without affinity. */
  sticky: Map<string, StickyBackend>;
}

/**
 * The served ports (those with backends) by their map key. Each port's chain
 * is named after its VIP, protocol and port, and a sticky backend's chain and
 * set after that and its address, so a change to one service touches only its
 * own objects, and a client stays with a backend that stays.
 */
function servedPorts(ports: readonly VirtualPort[]): Map<string, ServedPort> {
  const served = new Map<string, ServedPort>();
  for (const p of ports) {
    const protocol = NFT_PROTOCOLS[p.port.protocol];
    if (p.backends.length === 0 || !protocol) continue;
    const chain = `svc_${p.vip.replaceAll('.', '_')}_${protocol}_${p.port.port}`;
    // nftables keeps at most 128 bytes of a comment.
    // Names come from other clusters through the hub: only characters a quoted nft string can hold.
    const comment = `comment "${`${p.service} ${p.port.name ?? ''} ${p.port.port}/${p.port.protocol}`.replace(/[^\w./ -]/g, '_').slice(0, 120)}"`;
    const sticky = new Map<string, StickyBackend>();
    let rules: string[];
    if (p.affinitySeconds === undefined) {
      const map = p.backends.map((b, i) => `${i} : ${b.address} . ${b.port}`).join(', ');
      rules = [`meta l4proto ${protocol} dnat to numgen random mod ${p.backends.length} map { ${map} } ${comment}`];
    } else {
      const timeoutSeconds = p.affinitySeconds;
      const backends = p.backends.map((b): StickyBackend => {
        const suffix = `${chain}_${b.address.replaceAll('.', '_')}_${b.port}`;
        const set = `clients_${suffix}`;
        return { chain: `to_${suffix}`, set, timeoutSeconds, rule: `meta l4proto ${protocol} update @${set} { ip saddr } dnat to ${b.address}:${b.port}` };
      });
      for (const b of backends) sticky.set(b.chain, b);
      rules = [
        ...backends.map((b) => `ip saddr @${b.set} goto ${b.chain}`),
        `numgen random mod ${backends.length} vmap { ${backends.map((b, i) => `${i} : goto ${b.chain}`).join(', ')} } ${comment}`,
      ];
    }
    served.set(`${p.vip} . ${protocol} . ${p.port.port}`, { chain, rules, sticky });
  }
  return served;
}

/** A client a sticky backend remembers, and for how much longer. */
export interface StickyClient {
  address: string;
  expiresSeconds: number;
}

function stickySetBody(b: StickyBackend, clients: readonly StickyClient[] = []): string {
  // nft lists whole seconds left, rounded down: half a second more is right on average.
  const elements = clients.map((c) => `${c.address} expires ${Math.min(c.expiresSeconds * 1000 + 500, b.timeoutSeconds * 1000)}ms`);
  return `type ipv4_addr; flags dynamic,timeout; timeout ${b.timeoutSeconds}s;${elements.length > 0 ? ` elements = { ${elements.join(', ')} };` : ''}`;
}

/**
 * The clients each sticky backend remembers, from `nft -j list sets` of the
 * table: a rewrite of the whole table carries them over, so a resync does not
 * move clients. Pure.
 */
export function stickyClients(listSetsJson: string): Map<string, StickyClient[]> {
  const out = new Map<string, StickyClient[]>();
  const parsed = JSON.parse(listSetsJson) as { nftables?: { set?: { name?: string; elem?: unknown[] } }[] };
  for (const entry of parsed.nftables ?? []) {
    const set = entry.set;
    if (!set?.name?.startsWith('clients_')) continue;
    const clients: StickyClient[] = [];
    for (const e of set.elem ?? []) {
      const elem = (e as { elem?: { val?: unknown; expires?: unknown } }).elem;
      if (typeof elem?.val === 'string' && typeof elem.expires === 'number' && elem.expires >= 0) clients.push({ address: elem.val, expiresSeconds: elem.expires });
    }
    out.set(set.name, clients);
  }
  return out;
}

const vipsOf = (ports: readonly VirtualPort[]) => new Set(ports.map((p) => p.vip));
/** Every backend, as the `address . address` element that marks a connection a pod made to itself. */
const hairpinsOf = (ports: readonly VirtualPort[]) => new Set(ports.flatMap((p) => p.backends.map((b) => `${b.address} . ${b.address}`)));

/**
 * The whole table as one `nft -f` transaction (create, delete, define), so a
 * change replaces it atomically. Connections to a VIP port are DNATed in
 * prerouting (pods) and output (the cnf netns itself) to a random backend;
 * whatever still heads for a VIP after NAT (a port without backends, or one
 * the service does not have) is refused at once rather than left to time out.
 *
 * A pod that is itself the chosen backend would get its own connection with
 * its own address as source, which it drops; such hairpin connections are
 * masqueraded to the cnf end of its veth. With ClientIP affinity, a client
 * that a backend served within the timeout goes to it again; `clients`
 * (by set name) are the ones to remember from the table this one replaces.
 */
export function renderLbTable(ports: readonly VirtualPort[], clients: ReadonlyMap<string, readonly StickyClient[]> = new Map()): string {
  const vips = [...vipsOf(ports)];
  const hairpins = [...hairpinsOf(ports)];
  const served = [...servedPorts(ports)];
  const lines = [`table ip ${LB_TABLE}`, `delete table ip ${LB_TABLE}`, `table ip ${LB_TABLE} {`];
  lines.push('  set vips {', '    type ipv4_addr');
  if (vips.length > 0) lines.push(`    elements = { ${vips.join(', ')} }`);
  lines.push('  }');
  lines.push('  set hairpin {', '    type ipv4_addr . ipv4_addr');
  if (hairpins.length > 0) lines.push(`    elements = { ${hairpins.join(', ')} }`);
  lines.push('  }');
  const sticky = served.flatMap(([, p]) => [...p.sticky.values()]);
  for (const b of sticky) lines.push(`  set ${b.set} { ${stickySetBody(b, clients.get(b.set))} }`);
  lines.push('  map services {', '    type ipv4_addr . inet_proto . inet_service : verdict');
  if (served.length > 0) lines.push(`    elements = { ${served.map(([key, p]) => `${key} : goto ${p.chain}`).join(', ')} }`);
  lines.push('  }');
  lines.push('  chain prerouting {', '    type nat hook prerouting priority dstnat; policy accept;', '    ip daddr . meta l4proto . th dport vmap @services', '  }');
  // The output hook of nat takes numeric priorities only.
  lines.push('  chain output {', '    type nat hook output priority -100; policy accept;', '    ip daddr . meta l4proto . th dport vmap @services', '  }');
  for (const b of sticky) lines.push(`  chain ${b.chain} {`, `    ${b.rule}`, '  }');
  for (const [, p] of served) lines.push(`  chain ${p.chain} {`, ...p.rules.map((r) => `    ${r}`), '  }');
  lines.push('  chain hairpin_masquerade {', '    type nat hook postrouting priority srcnat; policy accept;', '    ct status dnat ip saddr . ip daddr @hairpin masquerade', '  }');
  lines.push('  chain refuse_forward {', '    type filter hook forward priority filter; policy accept;', '    ip daddr @vips reject', '  }');
  lines.push('  chain refuse_output {', '    type filter hook output priority filter; policy accept;', '    ip daddr @vips reject', '  }');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/**
 * The `nft -f` transaction that turns the table rendered from `before` into
 * the one for `after`, touching only what differs; empty when nothing does.
 * Rewriting the whole table costs about ten times as much at a thousand
 * services, and the table changes with every endpoint of every service.
 * Objects go in before what refers to them and come out after.
 */
export function renderLbChanges(before: readonly VirtualPort[], after: readonly VirtualPort[]): string {
  const lines: string[] = [];
  const t = `ip ${LB_TABLE}`;
  const elements = (set: string, op: 'add' | 'delete', items: readonly string[]) => {
    if (items.length > 0) lines.push(`${op} element ${t} ${set} { ${items.join(', ')} }`);
  };
  const addChain = (chain: string, rules: readonly string[]) => lines.push(`add chain ${t} ${chain}`, ...rules.map((r) => `add rule ${t} ${chain} ${r}`));
  const addSticky = (b: StickyBackend) => {
    lines.push(`add set ${t} ${b.set} { ${stickySetBody(b)} }`);
    addChain(b.chain, [b.rule]);
  };
  const deleteSticky = (b: StickyBackend) => lines.push(`delete chain ${t} ${b.chain}`, `delete set ${t} ${b.set}`);
  const [vipsBefore, vipsAfter] = [vipsOf(before), vipsOf(after)];
  elements('vips', 'add', [...vipsAfter].filter((v) => !vipsBefore.has(v)));
  const [hairpinsBefore, hairpinsAfter] = [hairpinsOf(before), hairpinsOf(after)];
  elements('hairpin', 'add', [...hairpinsAfter].filter((h) => !hairpinsBefore.has(h)));
  const [servedBefore, servedAfter] = [servedPorts(before), servedPorts(after)];
  const remove = (key: string, p: ServedPort) => {
    lines.push(`delete element ${t} services { ${key} }`, `delete chain ${t} ${p.chain}`);
    for (const b of p.sticky.values()) deleteSticky(b);
  };
  const add = (key: string, p: ServedPort) => {
    for (const b of p.sticky.values()) addSticky(b);
    addChain(p.chain, p.rules);
    lines.push(`add element ${t} services { ${key} : goto ${p.chain} }`);
  };
  for (const [key, p] of servedBefore) if (!servedAfter.has(key)) remove(key, p);
  for (const [key, p] of servedAfter) {
    const was = servedBefore.get(key);
    if (!was) {
      add(key, p);
    } else if ([...p.sticky.values()].some((b) => (was.sticky.get(b.chain)?.timeoutSeconds ?? b.timeoutSeconds) !== b.timeoutSeconds)) {
      // A new timeout needs new sets: the port is replaced, and its clients start afresh.
      remove(key, was);
      add(key, p);
    } else if (was.rules.join('\n') !== p.rules.join('\n')) {
      for (const [chain, b] of p.sticky) if (!was.sticky.has(chain)) addSticky(b);
      lines.push(`flush chain ${t} ${p.chain}`, ...p.rules.map((r) => `add rule ${t} ${p.chain} ${r}`));
      for (const [chain, b] of was.sticky) if (!p.sticky.has(chain)) deleteSticky(b);
    }
  }
  elements('hairpin', 'delete', [...hairpinsBefore].filter((h) => !hairpinsAfter.has(h)));
  elements('vips', 'delete', [...vipsBefore].filter((v) => !vipsAfter.has(v)));
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
