import { pino, type Logger } from 'pino';
import { generatePrivateKey, publicKeyOf } from '../../controller/wireguard/keys.js';
import { WireGuardGoDevice } from '../../controller/wireguard/wireguardGo.js';
import { addAddress, addNetns, deleteNetnsAndProcesses, listNetns, sysctl } from '../../hack/testbed/net.js';
import type { ClusterPlan, TestbedPlan } from '../../hack/testbed/plan.js';
import { run, runIn } from '../harness/run.js';
import { waitFor } from '../harness/wait.js';
import { BenchError } from './measure.js';

/**
 * The reference path laid over the testbed's simulated internet: the same two
 * wireguard-go tunnels as the bare chain, but between bare namespaces plugged
 * into the testbed's networks where its nodes are (cluster1's LAN behind its
 * NAT router, the wan where the hub sits, cluster2's LAN). Beside the bare
 * chain it tells how much of FleetBoard's gap is the underlay and how much the
 * pod network (pod veth, cnf pod, node NAT, NodePort) FleetBoard runs on.
 */

const NETNS_PREFIX = 'fbb-net-';
const IFACE_PREFIX = 'fbbnet';
/** Host number of every namespace on its network; the testbed uses .1 to .30. */
const HOST = 200;
const UNDERLAY_MTU = 1500;
const TUNNEL_MTU = UNDERLAY_MTU - 80;
const KEEPALIVE_SECONDS = 25;

export interface TestbedChain {
  first: string;
  last: string;
  lastIp: string;
  destroy(): Promise<void>;
}

const podIp = (i: number) => `10.251.${i}.1`;
const podRange = (i: number) => `10.251.${i}.0/24`;
const hostOn = (prefixIp: string) => `${prefixIp.split('.').slice(0, 3).join('.')}.${HOST}`;
const ip = (netns: string, args: string[]) => run('ip', ['-n', netns, ...args]);

/** Where a namespace plugs in: the bridge of a member's LAN (in its NAT router) or the wan. */
function attachment(plan: TestbedPlan, cluster: ClusterPlan | undefined): { netns: string; bridge: string; address: string; gateway: string; prefix: number } {
  if (!cluster?.gateway) return { netns: plan.wan.netns, bridge: plan.wan.bridge, address: hostOn(plan.wan.ip), gateway: plan.wan.ip, prefix: plan.wan.prefix };
  return { netns: cluster.gateway.netns, bridge: 'br-lan', address: hostOn(cluster.gateway.lanIp), gateway: cluster.gateway.lanIp, prefix: cluster.lanPrefix };
}

/**
 * Builds the chain cluster1 LAN ⇒ wan ⇒ cluster2 LAN on a running testbed and
 * resolves once the first end pings the last. The ends dial the middle, as
 * gateways behind NAT dial the hub.
 */
export async function buildTestbedChain(plan: TestbedPlan, opts: { log?: Logger } = {}): Promise<TestbedChain> {
  const [left, right] = plan.clusters.filter((c) => c.role === 'member');
  if (!left || !right) throw new BenchError('BAD_OPTION', 'the chain across the testbed needs two member clusters');
  const log = opts.log ?? pino({ level: 'silent' });
  await removeLeftovers();
  const sites = [attachment(plan, left), attachment(plan, undefined), attachment(plan, right)];
  const names = sites.map((_, i) => `${NETNS_PREFIX}${i}`);
  const devices: WireGuardGoDevice[] = [];
  let destroyed: Promise<void> | undefined;
  const chain: TestbedChain = { first: names[0] ?? '', last: names[2] ?? '', lastIp: podIp(2), destroy: () => (destroyed ??= teardown(devices, names)) };
  try {
    for (const [i, site] of sites.entries()) {
      const ns = names[i] ?? '';
      await addNetns(ns);
      // Created in place, so no interface ever shows up on the host.
      const port = `${IFACE_PREFIX}p${i}`;
      await ip(site.netns, ['link', 'add', port, 'mtu', String(UNDERLAY_MTU), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns, 'mtu', String(UNDERLAY_MTU)]);
      await ip(site.netns, ['link', 'set', port, 'master', site.bridge, 'up']);
      await addAddress(ns, 'eth0', `${site.address}/${site.prefix}`);
      await ip(ns, ['link', 'set', 'eth0', 'up']);
      await ip(ns, ['link', 'set', 'lo', 'up']);
      await ip(ns, ['route', 'add', 'default', 'via', site.gateway]);
    }
    const middle = { netns: names[1] ?? '', address: sites[1]?.address ?? '' };
    await sysctl(middle.netns, 'net.ipv4.ip_forward', '1');
    await addAddress(chain.first, 'lo', `${podIp(0)}/32`);
    await addAddress(chain.last, 'lo', `${podIp(2)}/32`);
    await addTunnel({ netns: chain.first, end: 0, far: 2 }, middle, 51821, devices, log);
    await addTunnel({ netns: chain.last, end: 2, far: 0 }, middle, 51822, devices, log);
    await waitFor(() => runIn(chain.first, 'ping', ['-n', '-c', '1', '-W', '1', chain.lastIp]).then(() => true), {
      what: `${chain.first} reaching ${chain.lastIp} across the testbed's networks`,
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    return chain;
  } catch (err) {
    await chain.destroy();
    throw err;
  }
}

/** One tunnel from an end (behind NAT, dialling with keepalive) to its own device in the middle, which routes on to the other end. */
async function addTunnel(end: { netns: string; end: number; far: number }, middle: { netns: string; address: string }, middlePort: number, devices: WireGuardGoDevice[], log: Logger): Promise<void> {
  const keys = { end: generatePrivateKey(), middle: generatePrivateKey() };
  const endDevice = new WireGuardGoDevice(`${IFACE_PREFIX}${end.end}e`, { netns: `/run/netns/${end.netns}`, log });
  const midDevice = new WireGuardGoDevice(`${IFACE_PREFIX}${end.end}m`, { netns: `/run/netns/${middle.netns}`, log });
  devices.push(endDevice, midDevice);
  await midDevice.apply({ privateKey: keys.middle, listenPort: middlePort, peers: [{ publicKey: publicKeyOf(keys.end), allowedIps: [podRange(end.end)] }] });
  await endDevice.apply({
    privateKey: keys.end,
    listenPort: 51820,
    peers: [{ publicKey: publicKeyOf(keys.middle), endpoint: `${middle.address}:${middlePort}`, allowedIps: [podRange(end.far)], persistentKeepalive: KEEPALIVE_SECONDS }],
  });
  for (const [ns, device] of [
    [end.netns, endDevice],
    [middle.netns, midDevice],
  ] as const) {
    await ip(ns, ['link', 'set', device.name, 'mtu', String(TUNNEL_MTU), 'up']);
  }
  await ip(end.netns, ['route', 'add', podRange(end.far), 'dev', endDevice.name, 'src', podIp(end.end)]);
  await ip(middle.netns, ['route', 'add', podRange(end.end), 'dev', midDevice.name]);
}

async function teardown(devices: WireGuardGoDevice[], names: string[]): Promise<void> {
  const failures: unknown[] = [];
  for (const device of devices) await device.close().catch((err: unknown) => failures.push(err));
  // Deleting a namespace deletes its end of each veth, and so the port on the testbed's bridge.
  for (const ns of names) await deleteNetnsAndProcesses(ns).catch((err: unknown) => failures.push(err));
  if (failures.length > 0) throw new AggregateError(failures, `tearing down the chain across the testbed failed; the next run removes what is left of ${NETNS_PREFIX}*`);
}

async function removeLeftovers(): Promise<void> {
  for (const ns of (await listNetns()).filter((n) => n.startsWith(NETNS_PREFIX))) await deleteNetnsAndProcesses(ns);
}
