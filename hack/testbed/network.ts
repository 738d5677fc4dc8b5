import {
  addAddress,
  addBridge,
  addNetns,
  addRoute,
  addVeth,
  deleteLinkIfPresent,
  deleteNetnsIfPresent,
  listHostLinks,
  listNetns,
  nftApply,
  setMaster,
  sysctl,
} from './net.js';
import { HOST_LINK_PREFIX, NETNS_PREFIX, type ClusterPlan, type TestbedPlan } from './plan.js';
import { mkdir, rm, writeFile } from 'node:fs/promises';

const GATEWAY_WAN_IF = 'wan0';
const GATEWAY_LAN_IF = 'br-lan';

/** A UDP port the NAT gateway forwards from its wan address to a LAN host, as an admin would for a tunnel endpoint. */
export interface PortForward {
  port: number;
  to: string;
}

/** The member's NAT gateway: members reach the wan, nothing on the wan reaches them unasked (but the forwarded ports). */
export function natRuleset(lanIf: string, wanIf: string, forwards: readonly PortForward[] = []): string {
  const dnat = forwards.map((f) => `\n    iifname "${wanIf}" udp dport ${f.port} dnat to ${f.to}:${f.port}`).join('');
  return `table ip testbed-nat
delete table ip testbed-nat
table ip testbed-nat {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;${dnat}
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "${wanIf}" masquerade
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    iifname "${lanIf}" oifname "${wanIf}" accept
    iifname "${wanIf}" oifname "${lanIf}" ct state established,related accept
    iifname "${wanIf}" oifname "${lanIf}" ct status dnat accept
  }
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "${wanIf}" ct state established,related accept
    iifname "${wanIf}" drop
  }
}
`;
}

/** Replaces the ports a member's NAT gateway forwards; conntrack entries of earlier flows stay. */
export async function setPortForwards(c: ClusterPlan, forwards: readonly PortForward[]): Promise<void> {
  if (!c.gateway) throw new Error(`${c.name} has no NAT gateway: it is reachable already`);
  await nftApply(c.gateway.netns, natRuleset(GATEWAY_LAN_IF, GATEWAY_WAN_IF, forwards));
}

/**
 * Pods leave their node with the node's address when they talk to anything
 * outside the pod network (the apiserver, the wan), as on a real node.
 */
export function nodeMasqueradeRuleset(podCidr: string, uplink: string): string {
  return `table ip testbed-node
delete table ip testbed-node
table ip testbed-node {
  chain postrouting {
    type nat hook postrouting priority srcnat + 10; policy accept;
    ip saddr ${podCidr} ip daddr != ${podCidr} oifname "${uplink}" masquerade
  }
}
`;
}

/** Resolver of nodes and host-network pods: the wan address, where no DNS server runs. */
const nodeResolvConf = (wanIp: string) => `nameserver ${wanIp}\n`;

async function buildCluster(plan: TestbedPlan, c: ClusterPlan): Promise<void> {
  const wan = plan.wan;
  // The LAN bridge lives in the gateway (members) or is the wan itself (hub).
  let lanNetns = wan.netns;
  let lanBridge = wan.bridge;
  if (c.gateway) {
    const gw = c.gateway;
    await addNetns(gw.netns);
    await addVeth({ netns: gw.netns, name: GATEWAY_WAN_IF }, { netns: wan.netns, name: `gw-${c.name}` });
    await setMaster(wan.netns, `gw-${c.name}`, wan.bridge);
    await addAddress(gw.netns, GATEWAY_WAN_IF, `${gw.wanIp}/${wan.prefix}`);
    await addBridge(gw.netns, GATEWAY_LAN_IF);
    await addAddress(gw.netns, GATEWAY_LAN_IF, `${gw.lanIp}/${c.lanPrefix}`);
    await sysctl(gw.netns, 'net.ipv4.ip_forward', '1');
    // LAN traffic is switched, not routed: keep it out of the NAT box's IP filter.
    await sysctl(gw.netns, 'net.bridge.bridge-nf-call-iptables', '0');
    await nftApply(gw.netns, natRuleset(GATEWAY_LAN_IF, GATEWAY_WAN_IF));
    lanNetns = gw.netns;
    lanBridge = GATEWAY_LAN_IF;
  }
  const attach = async (netns: string, ip: string, port: string) => {
    await addNetns(netns);
    await addVeth({ netns, name: 'eth0' }, { netns: lanNetns, name: port });
    await setMaster(lanNetns, port, lanBridge);
    await addAddress(netns, 'eth0', `${ip}/${c.lanPrefix}`);
    await addRoute(netns, 'default', c.lanGateway);
  };

  const cp = c.controlPlane;
  await attach(cp.netns, cp.ip, `cp-${c.name}`.slice(0, 15));
  await addVeth({ netns: undefined, name: c.hostLink.hostIf }, { netns: cp.netns, name: 'host0' });
  await addAddress(undefined, c.hostLink.hostIf, `${c.hostLink.hostIp}/${c.hostLink.prefix}`);
  await addAddress(cp.netns, 'host0', `${c.hostLink.peerIp}/${c.hostLink.prefix}`);

  for (const [j, node] of c.nodes.entries()) {
    await attach(node.netns, node.ip, `${c.name.slice(0, 9)}-n${j + 1}`);
    await sysctl(node.netns, 'net.ipv4.ip_forward', '1');
    // Service traffic between pods on one bridge must cross kube-proxy's rules.
    await sysctl(node.netns, 'net.bridge.bridge-nf-call-iptables', '1');
    await nftApply(node.netns, nodeMasqueradeRuleset(c.podCidr, 'eth0'));
    await writeEtcNetns(node.netns, { 'resolv.conf': nodeResolvConf(wan.ip) });
  }
}

/** Files `ip netns exec` shows in place of /etc/<file> inside the namespace. */
export async function writeEtcNetns(netns: string, files: Record<string, string>): Promise<void> {
  const dir = `/etc/netns/${netns}`;
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(`${dir}/${name}`, content);
}

export async function removeEtcNetns(netns: string): Promise<void> {
  await rm(`/etc/netns/${netns}`, { recursive: true, force: true });
}

/** Creates every namespace, link, address, route and rule of the plan. */
export async function buildNetwork(plan: TestbedPlan): Promise<void> {
  await addNetns(plan.wan.netns);
  await addBridge(plan.wan.netns, plan.wan.bridge);
  await addAddress(plan.wan.netns, plan.wan.bridge, `${plan.wan.ip}/${plan.wan.prefix}`);
  // The wan is a dead end: it switches between its ports and routes nowhere.
  await sysctl(plan.wan.netns, 'net.ipv4.ip_forward', '0');
  for (const c of plan.clusters) await buildCluster(plan, c);
}

/**
 * Removes everything the testbed made in the kernel: every namespace with the
 * testbed prefix (pods' too), its /etc/netns files, and the host links. Safe to
 * run when nothing is there.
 */
export async function destroyNetwork(): Promise<{ netns: number; links: number }> {
  const names = (await listNetns()).filter((n) => n.startsWith(NETNS_PREFIX));
  for (const n of names) {
    await deleteNetnsIfPresent(n);
    await removeEtcNetns(n);
  }
  const links = await listHostLinks(HOST_LINK_PREFIX);
  for (const l of links) await deleteLinkIfPresent(undefined, l);
  return { netns: names.length, links: links.length };
}
