import { ipBatch, ipDeleteIfPresent, ipJson } from './ip.js';
import type { NetnsTarget } from './exec.js';
import { HOST_IF_PREFIX, planHostSide, planPodSide, type PodInterfaceSpec } from './podInterface.js';

interface IpLink {
  ifname: string;
  linkinfo?: { info_kind?: string };
}
interface IpAddr {
  addr_info?: { family: string; local: string; prefixlen: number }[];
}
interface IpRoute {
  dst: string;
}

/**
 * The cnf netns, where our veth ends live: `path` for running commands there
 * (undefined: this process's own), `ref` for `ip link … netns <ref>` (a pid
 * inside it, or a name under /run/netns).
 */
export interface CnfNetns {
  path?: string | undefined;
  ref: string;
}

export const OWN_NETNS: CnfNetns = { ref: String(process.pid) };

/**
 * Creates (when missing) and configures the veth pair between the pod's
 * netns and ours. Idempotent: run again after a crash at any step, it
 * converges to one pair with the spec's settings.
 */
export async function ensurePodInterface(podNetns: string, spec: PodInterfaceSpec, cnf: CnfNetns = OWN_NETNS): Promise<void> {
  const pod: NetnsTarget = { netns: podNetns };
  const ours: NetnsTarget = { netns: cnf.path };
  const [hostEnd] = await ipJson<IpLink>(ours, ['link', 'show', 'dev', spec.hostIfName]);
  if (!hostEnd) {
    // A pod-side interface without our end is a leftover of a pair we cannot trust: replace it.
    await ipDeleteIfPresent(pod, ['link', 'del', 'dev', spec.ifName]);
    await ipBatch(pod, [`link add ${spec.ifName} type veth peer name ${spec.hostIfName} netns ${cnf.ref}`]);
  }
  const addrs = await ipJson<IpAddr>(pod, ['-4', 'addr', 'show', 'dev', spec.ifName]);
  const routes = await ipJson<IpRoute>(pod, ['-4', 'route', 'show', 'dev', spec.ifName]);
  const addresses = addrs.flatMap((a) => (a.addr_info ?? []).filter((i) => i.family === 'inet').map((i) => `${i.local}/${i.prefixlen}`));
  const routeDsts = routes.map((r) => (r.dst.includes('/') || r.dst === 'default' ? r.dst : `${r.dst}/32`));
  await ipBatch(pod, planPodSide(spec, { addresses, routes: routeDsts }));
  await ipBatch(ours, planHostSide(spec));
}

/** Removes the pair by deleting our end (the kernel deletes the peer); absent is fine. */
export async function removePodInterface(hostIfName: string, cnf: CnfNetns = OWN_NETNS): Promise<void> {
  await ipDeleteIfPresent({ netns: cnf.path }, ['link', 'del', 'dev', hostIfName]);
}

/** Our ends of pod veth pairs that exist now, for reconciling after a restart. */
export async function listHostInterfaces(cnf: CnfNetns = OWN_NETNS): Promise<string[]> {
  const links = await ipJson<IpLink>({ netns: cnf.path }, ['link', 'show', 'type', 'veth']);
  return links.map((l) => l.ifname).filter((n) => n.startsWith(HOST_IF_PREFIX));
}
