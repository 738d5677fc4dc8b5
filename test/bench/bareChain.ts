import { rm } from 'node:fs/promises';
import { pino, type Logger } from 'pino';
import { generatePrivateKey, publicKeyOf } from '../../controller/wireguard/keys.js';
import { uapiSocketPath } from '../../controller/wireguard/uapiClient.js';
import { WireGuardGoDevice } from '../../controller/wireguard/wireguardGo.js';
import { addAddress, addNetns, deleteNetnsAndProcesses, deleteNetnsIfPresent, listNetns, sysctl } from '../../hack/testbed/net.js';
import { run, runIn } from '../harness/run.js';
import { waitFor } from '../harness/wait.js';
import { BenchError } from './measure.js';

/**
 * The reference path: hops+1 namespaces in a line, each neighbouring pair on
 * its own veth underlay and joined by a wireguard-go tunnel configured by our
 * device code. Only the two ends carry "pod" addresses; the namespaces between
 * them route from one WireGuard device to the next, as a hub does.
 */

const NETNS_PREFIX = 'fbb-chain-';
const IFACE_PREFIX = 'fbbwg';
/** One /30 per link in 198.51.100.0/24. */
export const MAX_HOPS = 64;
const UNDERLAY_MTU = 1500;
/** WireGuard's worst-case overhead (IPv6 outer header): the same rule FleetBoard uses for pods. */
const TUNNEL_MTU = UNDERLAY_MTU - 80;
/** A middle namespace holds the right end of one tunnel and the left end of the next. */
const LISTEN_PORT = { left: 51820, right: 51821 } as const;

type Side = keyof typeof LISTEN_PORT;

export interface BareChain {
  hops: number;
  /** Namespace names of the two ends. */
  first: string;
  last: string;
  firstIp: string;
  lastIp: string;
  /** Closes every device and deletes every namespace; safe to call more than once. */
  destroy(): Promise<void>;
}

const netnsName = (i: number) => `${NETNS_PREFIX}${i}`;
const podIp = (i: number) => `10.250.${i}.1`;
const podRange = (i: number) => `10.250.${i}.0/24`;
const underlayIp = (link: number, side: Side) => `198.51.100.${4 * link + (side === 'left' ? 1 : 2)}`;
const ifaceName = (link: number, side: Side) => `${IFACE_PREFIX}${link}${side === 'left' ? 'a' : 'b'}`;
const ip = (netns: string, args: string[]) => run('ip', ['-n', netns, ...args]);

/** Builds the chain and resolves once the first end pings the last through every tunnel. */
export async function buildBareChain(hops: number, opts: { log?: Logger } = {}): Promise<BareChain> {
  if (!Number.isInteger(hops) || hops < 1 || hops > MAX_HOPS) throw new BenchError('BAD_OPTION', `hops must be a whole number from 1 to ${MAX_HOPS}, got ${hops}`);
  const log = opts.log ?? pino({ level: 'silent' });
  await removeLeftovers();
  const names = Array.from({ length: hops + 1 }, (_, i) => netnsName(i));
  const devices: WireGuardGoDevice[] = [];
  let destroyed: Promise<void> | undefined;
  const destroy = () => (destroyed ??= teardown(devices, names));
  const chain: BareChain = { hops, first: netnsName(0), last: netnsName(hops), firstIp: podIp(0), lastIp: podIp(hops), destroy };
  try {
    for (const ns of names) await addNetns(ns);
    await addAddress(chain.first, 'lo', `${chain.firstIp}/32`);
    await addAddress(chain.last, 'lo', `${chain.lastIp}/32`);
    for (const ns of names.slice(1, -1)) await sysctl(ns, 'net.ipv4.ip_forward', '1');
    for (let link = 0; link < hops; link++) {
      await addUnderlay(link);
      await addTunnel(link, hops, devices, log);
    }
    await waitFor(() => runIn(chain.first, 'ping', ['-n', '-c', '1', '-W', '1', chain.lastIp]).then(() => true), {
      what: `${chain.first} reaching ${chain.lastIp} through ${hops} tunnel(s)`,
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    return chain;
  } catch (err) {
    await destroy();
    throw err;
  }
}

/** Link `link` joins namespaces link and link+1, created in place so no interface ever shows up on the host. */
async function addUnderlay(link: number): Promise<void> {
  const [left, right] = [netnsName(link), netnsName(link + 1)];
  const mtu = String(UNDERLAY_MTU);
  await ip(left, ['link', 'add', 'under-r', 'mtu', mtu, 'type', 'veth', 'peer', 'name', 'under-l', 'netns', right, 'mtu', mtu]);
  for (const [ns, dev, side] of [
    [left, 'under-r', 'left'],
    [right, 'under-l', 'right'],
  ] as const) {
    await addAddress(ns, dev, `${underlayIp(link, side)}/30`);
    await ip(ns, ['link', 'set', dev, 'up']);
  }
}

/**
 * Both ends of tunnel `link`, each recorded in `devices` before it starts so a
 * failure halfway still closes it. Each peer may send only from the pod range
 * at its far end of the chain, and each device routes that range, with the
 * end's pod address as source so traffic leaving an end looks like a pod's.
 */
async function addTunnel(link: number, hops: number, devices: WireGuardGoDevice[], log: Logger): Promise<void> {
  const keys = { left: generatePrivateKey(), right: generatePrivateKey() };
  for (const side of ['left', 'right'] as const) {
    const other = side === 'left' ? 'right' : 'left';
    const ns = netnsName(side === 'left' ? link : link + 1);
    const far = side === 'left' ? hops : 0;
    const atEnd = side === 'left' ? link === 0 : link === hops - 1;
    const device = new WireGuardGoDevice(ifaceName(link, side), { netns: `/run/netns/${ns}`, log });
    devices.push(device);
    await device.apply({
      privateKey: keys[side],
      listenPort: LISTEN_PORT[side],
      peers: [{ publicKey: publicKeyOf(keys[other]), endpoint: `${underlayIp(link, other)}:${LISTEN_PORT[other]}`, allowedIps: [podRange(far)] }],
    });
    await ip(ns, ['link', 'set', device.name, 'mtu', String(TUNNEL_MTU), 'up']);
    await ip(ns, ['route', 'add', podRange(far), 'dev', device.name, ...(atEnd ? ['src', podIp(side === 'left' ? 0 : hops)] : [])]);
  }
}

async function teardown(devices: WireGuardGoDevice[], names: string[]): Promise<void> {
  const failures: unknown[] = [];
  for (const device of devices) await device.close().catch((err: unknown) => failures.push(err));
  for (const ns of names) await deleteNetnsIfPresent(ns).catch((err: unknown) => failures.push(err));
  if (failures.length > 0) throw new AggregateError(failures, `tearing down the bare chain failed; the next run removes what is left of ${NETNS_PREFIX}*`);
}

/** Namespaces of a run that was killed; the UAPI sockets of its killed wireguard-go stay behind otherwise. */
async function removeLeftovers(): Promise<void> {
  for (const ns of (await listNetns()).filter((n) => n.startsWith(NETNS_PREFIX))) {
    const links = JSON.parse((await ip(ns, ['-j', 'link', 'show'])).stdout) as { ifname: string }[];
    await deleteNetnsAndProcesses(ns);
    for (const { ifname } of links.filter((l) => l.ifname.startsWith(IFACE_PREFIX))) await rm(uapiSocketPath(ifname), { force: true });
  }
}
