import { execFile } from 'node:child_process';

/** WireGuard over IPv4/IPv6 UDP costs up to 80 bytes per packet. */
export const TUNNEL_OVERHEAD = 80;

/** Pod interface MTU for an underlay MTU. Pure. */
export function podMtu(underlayMtu: number): number {
  return underlayMtu - TUNNEL_OVERHEAD;
}

/** MTU of the interface our default route leaves through (the underlay, in the cnf netns). */
export function underlayMtu(): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['-j', 'route', 'show', 'default'], (err, out) => {
      if (err) return reject(err);
      const dev = (JSON.parse(out || '[]') as { dev?: string }[])[0]?.dev;
      if (!dev) return reject(new Error('no default route: cannot tell the underlay MTU; set --mtu'));
      execFile('ip', ['-j', 'link', 'show', 'dev', dev], (err2, out2) => {
        if (err2) return reject(err2);
        const mtu = (JSON.parse(out2 || '[]') as { mtu?: number }[])[0]?.mtu;
        if (!mtu) return reject(new Error(`cannot read the MTU of ${dev}; set --mtu`));
        resolve(mtu);
      });
    });
  });
}
