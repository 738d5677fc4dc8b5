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
 * address instead of drawing at random, so it holds across table replaces
 * while the service's backends stay the same (there is no idle timeout).
 */
export function renderLbTable(ports: readonly VirtualPort[]): string {
  const vips = [...new Set(ports.map((p) => p.vip))];
  const served = ports.filter((p) => p.backends.length > 0);
  const lines = [`table ip ${LB_TABLE}`, `delete table ip ${LB_TABLE}`, `table ip ${LB_TABLE} {`];
  lines.push('  set vips {', '    type ipv4_addr');
  if (vips.length > 0) lines.push(`    elements = { ${vips.join(', ')} }`);
  lines.push('  }');
  const backends = [...new Set(served.flatMap((p) => p.backends.map((b) => b.address)))];
  lines.push('  set hairpin {', '    type ipv4_addr . ipv4_addr');
  if (backends.length > 0) lines.push(`    elements = { ${backends.map((a) => `${a} . ${a}`).join(', ')} }`);
  lines.push('  }');
  lines.push('  map services {', '    type ipv4_addr . inet_proto . inet_service : verdict');
  if (served.length > 0) lines.push(`    elements = { ${served.map((p, n) => `${p.vip} . ${NFT_PROTOCOLS[p.port.protocol] ?? ''} . ${p.port.port} : goto svc_${n}`).join(', ')} }`);
  lines.push('  }');
  lines.push('  chain prerouting {', '    type nat hook prerouting priority dstnat; policy accept;', '    ip daddr . meta l4proto . th dport vmap @services', '  }');
  // The output hook of nat takes numeric priorities only.
  lines.push('  chain output {', '    type nat hook output priority -100; policy accept;', '    ip daddr . meta l4proto . th dport vmap @services', '  }');
  for (const [n, p] of served.entries()) {
    const map = p.backends.map((b, i) => `${i} : ${b.address} . ${b.port}`).join(', ');
    lines.push(`  chain svc_${n} {`);
    lines.push(`    comment "${p.service} ${p.port.name ?? ''} ${p.port.port}/${p.port.protocol}"`);
    const pick = p.clientAffinity ? 'jhash ip saddr' : 'numgen random';
    lines.push(`    meta l4proto ${NFT_PROTOCOLS[p.port.protocol] ?? ''} dnat to ${pick} mod ${p.backends.length} map { ${map} }`);
    lines.push('  }');
  }
  lines.push('  chain hairpin_masquerade {', '    type nat hook postrouting priority srcnat; policy accept;', '    ct status dnat ip saddr . ip daddr @hairpin masquerade', '  }');
  lines.push('  chain refuse_forward {', '    type filter hook forward priority filter; policy accept;', '    ip daddr @vips reject', '  }');
  lines.push('  chain refuse_output {', '    type filter hook output priority filter; policy accept;', '    ip daddr @vips reject', '  }');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
