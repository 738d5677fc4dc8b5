import { namedPeers } from '../clusterset/peer.js';
import type { Peer } from '../objects/fleetboard.js';
import { contains, addressToInt, overlaps, parseCidr } from '../ipam/cidr.js';
import { TUNNEL_OVERHEAD } from '../podnet/mtu.js';
import { fail, pass, type CheckResult } from './checks.js';
import { HANDSHAKE_FRESH_MS, handshakeFresh } from '../tunnel/tunnelHealth.js';
import { forwardedZones, forwardingStanzas } from './corefile.js';
import { age } from './table.js';

/**
 * `fleetctl diagnose`: what is known to break FleetBoard, each decided from
 * facts read beforehand (diagnoseFacts.ts). Pure.
 */
export interface NodeFacts {
  name: string;
  /** e.g. containerd://1.7.24 or cri-o://1.31.0. */
  runtime: string;
  podCidrs: string[];
  addresses: string[];
  /** The cnf pod on this node; undefined when there is none. */
  cnf: { pluginReady: boolean; pluginRestarts: number; waiting: string | undefined } | undefined;
  /** Running pods (not host-network, older than a minute) without a FleetBoard address, by name. */
  unaddressedPods: string[];
}

export interface MemberFacts {
  clusterID: string;
  globalCidr: string;
  nodes: NodeFacts[];
  /** ClusterIPs of kubernetes and kube-dns: the service CIDR is not readable, these show where it is. */
  serviceIps: string[];
  /** kube-system/coredns's Corefile; undefined when cluster DNS is not CoreDNS configured that way. */
  corefile: string | undefined;
  crossdnsIp: string | undefined;
  zones: string[];
}

/** Seconds the apiserver's clock is ahead of this machine's (from its Date header; ±1 s). */
export interface ClockFacts {
  cluster: string;
  offsetSeconds: number;
}

/** Clocks further apart than this make tokens look expired or not yet valid. */
export const MAX_CLOCK_SKEW_SECONDS = 5;

function nriFix(runtime: string): string {
  if (runtime.startsWith('cri-o')) return 'enable NRI in CRI-O: [crio.nri] enable_nri = true, then restart CRI-O';
  if (runtime.startsWith('containerd://1.')) return 'enable NRI in containerd 1.7: in /etc/containerd/config.toml set [plugins."io.containerd.nri.v1.nri"] disable = false, then restart containerd';
  return 'NRI is on by default in containerd 2.x: make sure [plugins."io.containerd.nri.v1.nri"] does not set disable = true, then restart containerd';
}

export function nriChecks(m: MemberFacts): CheckResult[] {
  return m.nodes.map((n) => {
    const name = `${m.clusterID}/${n.name}: NRI plugin registered with the runtime`;
    if (!n.cnf) return fail(name, 'no cnf pod on this node: check the DaemonSet fleetboard-cnf\'s nodeSelector and tolerations');
    if (!n.cnf.pluginReady) return fail(name, `the plugin container is not ready (${n.cnf.waiting ?? `${n.cnf.pluginRestarts} restarts`}) on ${n.runtime}: ${nriFix(n.runtime)}`);
    if (n.unaddressedPods.length > 0) return fail(name, `${n.unaddressedPods.length} running pods have no FleetBoard address (e.g. ${n.unaddressedPods.slice(0, 3).join(', ')}): ${nriFix(n.runtime)}; pods started before FleetBoard get one when the plugin synchronizes`);
    return pass(name, n.runtime);
  });
}

export function mtuChecks(peers: readonly Peer[]): CheckResult[] {
  const out: CheckResult[] = [];
  const withMtu = namedPeers(peers).flatMap((p) => (p.status.tunnel?.mtu ? [{ id: p.spec.clusterID, mtu: p.status.tunnel.mtu, underlay: p.status.tunnel.underlayMtu }] : []));
  for (const g of withMtu) {
    const name = `${g.id}: tunnel MTU fits the underlay`;
    if (g.underlay === undefined) continue;
    out.push(g.mtu + TUNNEL_OVERHEAD > g.underlay ? fail(name, `tunnel MTU ${g.mtu} + ${TUNNEL_OVERHEAD} bytes of WireGuard exceeds the underlay's ${g.underlay}: large packets are dropped; set tunnel.mtu to ${g.underlay - TUNNEL_OVERHEAD} or leave it 0 (automatic)`) : pass(name, `${g.mtu} (underlay ${g.underlay})`));
  }
  const distinct = [...new Set(withMtu.map((g) => g.mtu))];
  const name = 'tunnel MTU the same in every cluster';
  if (distinct.length > 1) {
    const smallest = Math.min(...distinct);
    out.push(fail(name, `${withMtu.map((g) => `${g.id} ${g.mtu}`).join(', ')}: packets sized for a larger MTU rely on path MTU discovery through the hub; set tunnel.mtu=${smallest} in every chart`));
  } else if (distinct.length === 1) {
    out.push(pass(name, String(distinct[0])));
  }
  return out;
}

export function handshakeChecks(all: readonly Peer[], now: Date): CheckResult[] {
  const peers = namedPeers(all);
  const hub = peers.find((p) => p.spec.isHub);
  const hubAt = hub?.spec.endpoint ? `${hub.spec.endpoint}:${hub.spec.port ?? ''}/UDP` : 'the hub\'s tunnel endpoint';
  const out: CheckResult[] = [];
  for (const p of peers) {
    if (p.spec.isHub) continue;
    const tunnels = [{ to: 'hub', at: p.status.tunnel?.lastHandshake, fix: `can ${p.spec.clusterID}'s gateway node reach ${hubAt}? (firewalls, the NodePort, the hub's leader)` }];
    for (const d of p.status.tunnel?.direct ?? []) tunnels.push({ to: d.clusterID, at: d.lastHandshake, fix: `can ${p.spec.clusterID}'s gateway reach ${d.clusterID}'s tunnel.endpoint?` });
    for (const t of tunnels) {
      const name = `${p.spec.clusterID} → ${t.to}: recent WireGuard handshake`;
      if (!p.status.tunnel) {
        out.push(fail(name, `${p.spec.clusterID} has no gateway reporting: are its cnf pods running and is one the leader?`));
        break;
      }
      const ageSeconds = t.at ? (now.getTime() - new Date(t.at).getTime()) / 1000 : undefined;
      if (ageSeconds === undefined) out.push(fail(name, `never: ${t.fix}`));
      else if (!handshakeFresh(new Date(t.at ?? 0), now.getTime())) out.push(fail(name, `last ${age(ageSeconds)} ago, WireGuard gives up after ${HANDSHAKE_FRESH_MS / 1000} s: ${t.fix}`));
      else out.push(pass(name, `${age(ageSeconds)} ago`));
    }
  }
  return out;
}

export function dnsForwardingChecks(m: MemberFacts): CheckResult[] {
  const name = (zone: string) => `${m.clusterID}: cluster DNS forwards ${zone} to crossdns`;
  if (!m.crossdnsIp) return [fail(`${m.clusterID}: crossdns Service`, 'no ClusterIP for fleetboard-crossdns: is the agent chart installed?')];
  if (m.corefile === undefined) return m.zones.map((z) => fail(name(z), `no kube-system/coredns ConfigMap: forward ${z} to ${m.crossdnsIp ?? ''} in your cluster DNS by hand`));
  const served = forwardedZones(m.corefile);
  return m.zones.map((z) => {
    const upstreams = served.get(z);
    if (!upstreams) return fail(name(z), `kube-system/coredns has no server block for ${z}; add:\n${forwardingStanzas([z], m.crossdnsIp ?? '')}`);
    if (!upstreams.includes(m.crossdnsIp ?? '')) return fail(name(z), `its block forwards to ${upstreams.join(' ') || 'nothing'}, not to crossdns at ${m.crossdnsIp ?? ''}`);
    return pass(name(z), m.crossdnsIp ?? '');
  });
}

export function overlapChecks(m: MemberFacts): CheckResult[] {
  const name = `${m.clusterID}: global CIDR ${m.globalCidr} clear of the cluster's own networks`;
  const global = parseCidr(m.globalCidr);
  const clashes = [
    ...m.nodes.flatMap((n) => n.podCidrs.filter((c) => overlaps(global, parseCidr(c))).map((c) => `pod CIDR ${c} of ${n.name}`)),
    ...m.nodes.flatMap((n) => n.addresses.filter((a) => contains(global, addressToInt(a))).map((a) => `address ${a} of node ${n.name}`)),
    ...m.serviceIps.filter((a) => contains(global, addressToInt(a))).map((a) => `service address ${a}`),
  ];
  return [clashes.length === 0 ? pass(name) : fail(name, `it overlaps ${clashes.join(', ')}: pods could not tell the networks apart; install the hub with a tunnel.cidr that overlaps none of them`)];
}

export function clockChecks(clocks: ClockFacts[]): CheckResult[] {
  if (clocks.length < 2) return [];
  const sorted = [...clocks].sort((a, b) => a.offsetSeconds - b.offsetSeconds);
  const [first, last] = [sorted[0], sorted[sorted.length - 1]];
  if (!first || !last) return [];
  const skew = last.offsetSeconds - first.offsetSeconds;
  const name = `clocks agree across ${clocks.map((c) => c.cluster).join(', ')}`;
  return [skew > MAX_CLOCK_SKEW_SECONDS ? fail(name, `${last.cluster} is ${Math.round(skew)} s ahead of ${first.cluster}: join tokens and credentials may look expired or not yet valid; run NTP (chrony, systemd-timesyncd) on the nodes`) : pass(name, `within ${Math.max(1, Math.round(skew))} s`)];
}
