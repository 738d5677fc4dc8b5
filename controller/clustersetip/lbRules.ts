import type { V1EndpointSlice } from '@kubernetes/client-node';
import { addressToInt, contains, parseCidr, type Cidr } from '../ipam/cidr.js';
import { IMPORT_MANAGED_BY_LABEL, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_SOURCE_CONNECTED, MANAGED_BY, type ServiceImport, type ServiceImportPort } from '../mcs/api.js';

/** The nftables table FleetBoard owns in the cnf netns for ClusterSetIPs. */
export const LB_TABLE = 'fleetboard_lb';

/** One port of one ClusterSetIP and where its connections go. */
export interface VirtualPort {
  service: string;
  vip: string;
  port: ServiceImportPort;
  /** `address . port` of every ready backend in every connected cluster, sorted. */
  backends: { address: string; port: number }[];
  /** Session affinity ClientIP: a client keeps its backend while the backends stay the same. */
  clientAffinity: boolean;
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
export function virtualPorts(imports: readonly ServiceImport[], slices: readonly V1EndpointSlice[], globalCidr: string): VirtualPort[] {
  const global = parseCidr(globalCidr);
  const slicesByService = new Map<string, V1EndpointSlice[]>();
  for (const s of slices) {
    const labels = s.metadata?.labels ?? {};
    if (labels[LABEL_MANAGED_BY] !== MANAGED_BY || labels[LABEL_SOURCE_CONNECTED] === 'false' || s.addressType !== 'IPv4') continue;
    const key = `${s.metadata?.namespace ?? ''}/${labels[LABEL_SERVICE_NAME] ?? ''}`;
    slicesByService.set(key, [...(slicesByService.get(key) ?? []), s]);
  }
  const ports: VirtualPort[] = [];
  for (const i of imports) {
    const vip = i.spec.ips?.[0];
    if (i.metadata?.labels?.[IMPORT_MANAGED_BY_LABEL] !== MANAGED_BY || i.spec.type !== 'ClusterSetIP' || !vip || !inside(global, vip)) continue;
    const service = `${i.metadata.namespace ?? ''}/${i.metadata.name ?? ''}`;
    for (const port of i.spec.ports) {
      if (!NFT_PROTOCOLS[port.protocol]) continue;
      const backends = new Map<string, { address: string; port: number }>();
      for (const slice of slicesByService.get(service) ?? []) {
        const target = slice.ports?.find((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === port.protocol)?.port;
        if (target === undefined) continue;
        for (const e of slice.endpoints) {
          if (e.conditions?.ready === false) continue;
          for (const address of e.addresses) backends.set(`${address}:${target}`, { address, port: target });
        }
      }
      const sorted = [...backends.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, b]) => b);
      ports.push({ service, vip, port, backends: sorted, clientAffinity: i.spec.sessionAffinity === 'ClientIP' });
    }
  }
  return ports.sort((a, b) => a.service.localeCompare(b.service) || a.port.port - b.port.port || a.port.protocol.localeCompare(b.port.protocol));
}

function inside(range: Cidr, address: string): boolean {
  try {
    return contains(range, addressToInt(address));
  } catch {
    return false;
  }
}

/** How one served VIP port appears in the table: its chain and that chain's one rule. */
interface ServedPort {
  chain: string;
  rule: string;
}

/**
 * The served ports (those with backends) by their map key. Each port's chain
 * is named after its VIP, protocol and port, so a change to one service
 * touches only its own chain and map element.
 */
function servedPorts(ports: readonly VirtualPort[]): Map<string, ServedPort> {
  const served = new Map<string, ServedPort>();
  for (const p of ports) {
    const protocol = NFT_PROTOCOLS[p.port.protocol];
    if (p.backends.length === 0 || !protocol) continue;
    const map = p.backends.map((b, i) => `${i} : ${b.address} . ${b.port}`).join(', ');
    const pick = p.clientAffinity ? 'jhash ip saddr' : 'numgen random';
    // nftables keeps at most 128 bytes of a comment.
    const comment = `${p.service} ${p.port.name ?? ''} ${p.port.port}/${p.port.protocol}`.slice(0, 120);
    served.set(`${p.vip} . ${protocol} . ${p.port.port}`, { chain: `svc_${p.vip.replaceAll('.', '_')}_${protocol}_${p.port.port}`, rule: `meta l4proto ${protocol} dnat to ${pick} mod ${p.backends.length} map { ${map} } comment "${comment}"` });
  }
  return served;
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
 * masqueraded to the cnf end of its veth. ClientIP affinity hashes the client
 * address instead of drawing at random, so it holds across changes while the
 * service's backends stay the same (there is no idle timeout).
 */
export function renderLbTable(ports: readonly VirtualPort[]): string {
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
  lines.push('  map services {', '    type ipv4_addr . inet_proto . inet_service : verdict');
  if (served.length > 0) lines.push(`    elements = { ${served.map(([key, p]) => `${key} : goto ${p.chain}`).join(', ')} }`);
  lines.push('  }');
  lines.push('  chain prerouting {', '    type nat hook prerouting priority dstnat; policy accept;', '    ip daddr . meta l4proto . th dport vmap @services', '  }');
  // The output hook of nat takes numeric priorities only.
  lines.push('  chain output {', '    type nat hook output priority -100; policy accept;', '    ip daddr . meta l4proto . th dport vmap @services', '  }');
  for (const [, p] of served) lines.push(`  chain ${p.chain} {`, `    ${p.rule}`, '  }');
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
 * A map element goes before its chain and comes after it.
 */
export function renderLbChanges(before: readonly VirtualPort[], after: readonly VirtualPort[]): string {
  const lines: string[] = [];
  const t = `ip ${LB_TABLE}`;
  const elements = (set: string, op: 'add' | 'delete', items: readonly string[]) => {
    if (items.length > 0) lines.push(`${op} element ${t} ${set} { ${items.join(', ')} }`);
  };
  const [vipsBefore, vipsAfter] = [vipsOf(before), vipsOf(after)];
  elements('vips', 'add', [...vipsAfter].filter((v) => !vipsBefore.has(v)));
  const [hairpinsBefore, hairpinsAfter] = [hairpinsOf(before), hairpinsOf(after)];
  elements('hairpin', 'add', [...hairpinsAfter].filter((h) => !hairpinsBefore.has(h)));
  const [servedBefore, servedAfter] = [servedPorts(before), servedPorts(after)];
  for (const [key, p] of servedBefore) {
    if (!servedAfter.has(key)) lines.push(`delete element ${t} services { ${key} }`, `delete chain ${t} ${p.chain}`);
  }
  for (const [key, p] of servedAfter) {
    const was = servedBefore.get(key);
    if (!was) lines.push(`add chain ${t} ${p.chain}`, `add rule ${t} ${p.chain} ${p.rule}`, `add element ${t} services { ${key} : goto ${p.chain} }`);
    else if (was.rule !== p.rule) lines.push(`flush chain ${t} ${p.chain}`, `add rule ${t} ${p.chain} ${p.rule}`);
  }
  elements('hairpin', 'delete', [...hairpinsBefore].filter((h) => !hairpinsAfter.has(h)));
  elements('vips', 'delete', [...vipsBefore].filter((v) => !vipsAfter.has(v)));
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
