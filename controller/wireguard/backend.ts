import type { Logger } from 'pino';
import { ipJson } from '../../plugin/netns/ip.js';
import type { WireGuardDevice } from './device.js';
import { WireGuardError } from './errors.js';
import { KernelWireGuardDevice } from './kernel.js';
import { WireGuardGoDevice } from './wireguardGo.js';

/** `auto`: kernel WireGuard where the kernel has it, else wireguard-go. */
export const WIREGUARD_BACKENDS = ['auto', 'kernel', 'wireguard-go'] as const;
export type WireGuardBackend = (typeof WIREGUARD_BACKENDS)[number];

export interface OpenWireGuardOptions {
  backend: WireGuardBackend;
  /** Network namespace path of the interface; undefined = ours (the cnf netns). */
  netns?: string | undefined;
  log: Logger;
}

interface Choice {
  device: WireGuardDevice;
  backend: Exclude<WireGuardBackend, 'auto'>;
  reason: string;
}

/** The kind iproute2 reports for an existing link of that name ("wireguard", "tun", …), '' for none, undefined when absent. */
async function linkKind(netns: string | undefined, name: string): Promise<string | undefined> {
  const [link] = await ipJson<{ linkinfo?: { info_kind?: string } }>({ netns }, ['-d', 'link', 'show', 'dev', name]);
  return link && (link.linkinfo?.info_kind ?? '');
}

async function choose(name: string, opts: OpenWireGuardOptions): Promise<Choice> {
  const wireguardGo = new WireGuardGoDevice(name, { netns: opts.netns, log: opts.log });
  const kernel = new KernelWireGuardDevice(name, { netns: opts.netns, log: opts.log });
  if (opts.backend === 'wireguard-go') return { device: wireguardGo, backend: 'wireguard-go', reason: '--wireguard-backend=wireguard-go' };
  // What an earlier controller left running is kept, with its sessions.
  const kind = await linkKind(opts.netns, name);
  if (kind === 'wireguard') return { device: kernel, backend: 'kernel', reason: `kernel WireGuard link ${name} exists` };
  if (kind !== undefined) {
    if (opts.backend === 'auto' && (await wireguardGo.running())) return { device: wireguardGo, backend: 'wireguard-go', reason: `wireguard-go already runs ${name}` };
    throw new WireGuardError('BAD_CONFIG', `a${kind ? ` ${kind}` : ''} link named ${name} exists that is not ${opts.backend === 'kernel' ? 'kernel WireGuard' : 'WireGuard'}: delete it (ip link del ${name}) or choose another --tunnel-interface`);
  }
  try {
    await kernel.ensureLink();
    return { device: kernel, backend: 'kernel', reason: `created kernel WireGuard link ${name}` };
  } catch (err) {
    if (opts.backend === 'auto' && err instanceof WireGuardError && err.code === 'KERNEL_UNSUPPORTED') {
      return { device: wireguardGo, backend: 'wireguard-go', reason: `the kernel has no WireGuard: ${(err.cause as Error).message}` };
    }
    throw err;
  }
}

/**
 * The tunnel interface, run by kernel WireGuard where `ip link add … type
 * wireguard` works and by wireguard-go elsewhere (with `auto`); both behave
 * the same through WireGuardDevice. Logs once which backend runs and why.
 */
export async function openWireGuardDevice(name: string, opts: OpenWireGuardOptions): Promise<WireGuardDevice> {
  const { device, backend, reason } = await choose(name, opts);
  opts.log.info({ iface: name, backend, reason }, 'WireGuard backend chosen');
  return device;
}
