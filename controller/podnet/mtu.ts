import { ipJson } from '../../plugin/netns/ip.js';

/** WireGuard over IPv4/IPv6 UDP costs up to 80 bytes per packet. */
export const TUNNEL_OVERHEAD = 80;

/** Pod interface MTU for an underlay MTU. Pure. */
export function podMtu(underlayMtu: number): number {
  return underlayMtu - TUNNEL_OVERHEAD;
}

/** The tunnel MTU in use and the underlay's, which `fleetctl diagnose` compares (published in the Peer status). */
export interface LinkMtus {
  mtu: number;
  /** Undefined when it cannot be read and --mtu was given. */
  underlayMtu: number | undefined;
}

/** The configured MTU (0: automatic, underlay − 80) and the underlay's. */
export async function linkMtus(configured: number): Promise<LinkMtus> {
  if (!configured) {
    const underlay = await underlayMtu();
    return { mtu: podMtu(underlay), underlayMtu: underlay };
  }
  return { mtu: configured, underlayMtu: await underlayMtu().catch(() => undefined) };
}

/** MTU of the interface our default route leaves through (the underlay, in the cnf netns). */
export async function underlayMtu(): Promise<number> {
  const dev = (await ipJson<{ dev?: string }>({}, ['route', 'show', 'default']))[0]?.dev;
  if (!dev) throw new Error('no default route: cannot tell the underlay MTU; set --mtu');
  const mtu = (await ipJson<{ mtu?: number }>({}, ['link', 'show', 'dev', dev]))[0]?.mtu;
  if (!mtu) throw new Error(`cannot read the MTU of ${dev}; set --mtu`);
  return mtu;
}
