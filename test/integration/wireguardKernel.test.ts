import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { addAddress, addNetns, addVeth, deleteNetnsAndProcesses, deleteNetnsIfPresent } from '../../hack/testbed/net.js';
import { openWireGuardDevice } from '../../controller/wireguard/backend.js';
import { WireGuardError } from '../../controller/wireguard/errors.js';
import { KernelWireGuardDevice } from '../../controller/wireguard/kernel.js';
import { generatePrivateKey, publicKeyOf } from '../../controller/wireguard/keys.js';
import { WireGuardGoDevice } from '../../controller/wireguard/wireguardGo.js';
import type { DeviceConfig, DeviceStatus, PeerConfig, PeerStatus, WireGuardDevice } from '../../controller/wireguard/device.js';
import { runIn } from '../harness/run.js';
import { waitFor } from '../harness/wait.js';

/**
 * The backend choice and the kernel backend, on two nodes as namespaces on a
 * veth underlay (TEST-NET-2); B dials A like a member behind NAT.
 *
 * Where the kernel has no WireGuard module, `ip link add … type wireguard`
 * (the one step of KernelWireGuardDevice that needs it) cannot run: auto must
 * then fall back to wireguard-go, and the kernel device's `wg` path (syncconf,
 * show dump) is exercised on interfaces wireguard-go runs, which `wg` reaches
 * through /var/run/wireguard/<iface>.sock. The kernel-only test is skipped there.
 */
type Side = 'a' | 'b';
const SIDES = ['a', 'b'] as const;
const NS = { a: 'fbk-wg-a', b: 'fbk-wg-b' };
const PROBE_NS = 'fbk-wg-probe';
const netns = (side: Side) => `/run/netns/${NS[side]}`;
const UNDERLAY = { a: '198.51.100.1', b: '198.51.100.2' };

/**
 * One tunnel between A and B; each test has its own interfaces, port and
 * CIDRs. The names differ per side too: UAPI sockets share one directory.
 */
interface Tunnel {
  iface: Record<Side, string>;
  port: number;
  key: Record<Side, string>;
  owned: Record<Side, string>;
  ip: Record<Side, string>;
}
const tunnel = (iface: string, port: number, octet: number): Tunnel => ({
  iface: { a: `${iface}-a`, b: `${iface}-b` },
  port,
  key: { a: generatePrivateKey(), b: generatePrivateKey() },
  owned: { a: `10.${octet}.0.0/16`, b: `10.${octet + 1}.0.0/16` },
  ip: { a: `10.${octet}.0.1`, b: `10.${octet + 1}.0.1` },
});
const AUTO = tunnel('fbkwg-auto', 51820, 113);
const TOOL = tunnel('fbkwg-tool', 51821, 123);
const KERNEL = tunnel('fbkwg-kern', 51822, 133);
/** A peer that never answers, next to the live one. */
const EXTRA: PeerConfig = { publicKey: publicKeyOf(generatePrivateKey()), endpoint: '198.51.100.9:51820', allowedIps: ['10.140.0.0/16'] };

const config = (t: Tunnel, side: Side, extra: PeerConfig[] = []): DeviceConfig => ({
  privateKey: t.key[side],
  listenPort: t.port,
  peers: [
    side === 'a'
      ? { publicKey: publicKeyOf(t.key.b), allowedIps: [t.owned.b] }
      : { publicKey: publicKeyOf(t.key.a), endpoint: `${UNDERLAY.a}:${t.port}`, allowedIps: [t.owned.a], persistentKeepalive: 25 },
    ...extra,
  ],
});

const logged: { iface?: string; backend?: string; reason?: string; msg?: string }[] = [];
const log = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line) as (typeof logged)[number]) });
const backendLines = (iface: string) => logged.filter((l) => l.msg === 'WireGuard backend chosen' && l.iface === iface);
const opened: WireGuardDevice[] = [];
const keep = <D extends WireGuardDevice>(d: D): D => {
  opened.push(d);
  return d;
};

/** Why this kernel cannot create WireGuard links, or undefined when it can. */
async function kernelRefusal(): Promise<string | undefined> {
  await deleteNetnsIfPresent(PROBE_NS);
  await addNetns(PROBE_NS);
  try {
    await new KernelWireGuardDevice('fbkwg-probe', { netns: `/run/netns/${PROBE_NS}`, log }).ensureLink();
    return undefined;
  } catch (err) {
    if (err instanceof WireGuardError && err.code === 'KERNEL_UNSUPPORTED') return err.message;
    throw err;
  } finally {
    await deleteNetnsIfPresent(PROBE_NS);
  }
}
const noKernelWireGuard = await kernelRefusal();

/** Address, link up and a route to the other side's CIDR, as the controller's routing layer does. */
async function linkUp(t: Tunnel): Promise<void> {
  for (const side of SIDES) {
    const other = side === 'a' ? 'b' : 'a';
    await runIn(NS[side], 'ip', ['addr', 'replace', `${t.ip[side]}/32`, 'dev', t.iface[side]]);
    await runIn(NS[side], 'ip', ['link', 'set', t.iface[side], 'up']);
    await runIn(NS[side], 'ip', ['route', 'replace', t.owned[other], 'dev', t.iface[side]]);
  }
}

const pings = (t: Tunnel, from: Side) =>
  runIn(NS[from], 'ping', ['-c', '1', '-W', '2', '-I', t.ip[from], t.ip[from === 'a' ? 'b' : 'a']]).then(
    () => true,
    () => false,
  );

/** B dials A, then traffic goes both ways. */
async function assertTunnelCarries(t: Tunnel): Promise<void> {
  await waitFor(() => pings(t, 'b').then((ok) => ok || undefined), { what: `B reaching A through ${t.iface.b}`, timeoutMs: 15_000 });
  assert.ok(await pings(t, 'a'), 'A reaches B back over the session B opened');
}

async function peerOf(d: WireGuardDevice, publicKey: string): Promise<PeerStatus> {
  const peer = (await d.status()).peers.find((p) => p.publicKey === publicKey);
  assert.ok(peer, `${d.name} has peer ${publicKey}`);
  return peer;
}

/** What both paths must report alike: counters move, handshake precision differs, and `wg show` orders peers by handshake. */
const configured = (s: DeviceStatus) => ({
  publicKey: s.publicKey,
  listenPort: s.listenPort,
  peers: s.peers
    .map((p) => ({ publicKey: p.publicKey, endpoint: p.endpoint, allowedIps: p.allowedIps, persistentKeepalive: p.persistentKeepalive }))
    .sort((x, y) => x.publicKey.localeCompare(y.publicKey)),
});

/**
 * The session A has with B, once the clock is a second past its handshake:
 * `wg show` reports whole seconds, so only then would a new handshake show.
 */
async function settledSession(t: Tunnel, a: WireGuardDevice): Promise<PeerStatus> {
  const peer = await peerOf(a, publicKeyOf(t.key.b));
  const handshake = peer.lastHandshake;
  assert.ok(handshake, 'a session to keep');
  await waitFor(() => Promise.resolve(Date.now() >= handshake.getTime() + 1000 || undefined), { what: 'a second past the handshake', timeoutMs: 3000, intervalMs: 50 });
  return peer;
}

/** A second apply that changes only the extra peer of A leaves the session with B alone; a third drops it. */
async function assertReapplyKeepsSession(t: Tunnel, a: WireGuardDevice): Promise<void> {
  const before = await settledSession(t, a);
  const moved = { ...EXTRA, allowedIps: ['10.140.0.0/16', '10.141.0.0/16'], persistentKeepalive: 10 };
  await a.apply(config(t, 'a', [moved]));
  const changed = await peerOf(a, EXTRA.publicKey);
  assert.deepEqual([changed.allowedIps, changed.persistentKeepalive], [moved.allowedIps, 10], 'the changed peer was updated');
  const after = await peerOf(a, publicKeyOf(t.key.b));
  assert.deepEqual(after.lastHandshake, before.lastHandshake, 'no new handshake with B was needed');
  assert.ok(after.rxBytes >= before.rxBytes, 'counters were not reset');
  assert.ok(await pings(t, 'a'), 'traffic still flows');
  await a.apply(config(t, 'a'));
  assert.deepEqual(
    (await a.status()).peers.map((p) => p.publicKey),
    [publicKeyOf(t.key.b)],
    'a peer absent from the config is removed',
  );
  assert.deepEqual((await peerOf(a, publicKeyOf(t.key.b))).lastHandshake, before.lastHandshake);
}

before(async () => {
  for (const side of SIDES) {
    // A killed run's wireguard-go would otherwise answer on its socket and be adopted.
    await deleteNetnsAndProcesses(NS[side]);
    await addNetns(NS[side]);
  }
  await addVeth({ netns: NS.a, name: 'under0' }, { netns: NS.b, name: 'under0' });
  for (const side of SIDES) await addAddress(NS[side], 'under0', `${UNDERLAY[side]}/24`);
});

after(async () => {
  for (const d of opened) await d.close().catch(() => undefined);
  // Whatever a failed close left: links go with the namespaces, wireguard-go with its processes.
  for (const side of SIDES) await deleteNetnsAndProcesses(NS[side]);
});

/** Sides of the tunnel the auto test opens; the restart test adopts them. */
let auto: Record<Side, WireGuardDevice> | undefined;

/** Opens both sides of a tunnel through the backend choice. */
async function openBoth(t: Tunnel, backend: 'auto' | 'kernel'): Promise<Record<Side, WireGuardDevice>> {
  return {
    a: keep(await openWireGuardDevice(t.iface.a, { backend, netns: netns('a'), log })),
    b: keep(await openWireGuardDevice(t.iface.b, { backend, netns: netns('b'), log })),
  };
}

test('auto picks the kernel where it has WireGuard, else wireguard-go; the log says which and why, and the tunnel carries traffic', async () => {
  const expected = noKernelWireGuard
    ? { backend: 'wireguard-go', reason: /^the kernel has no WireGuard: ip link add fbkwg-auto-a type wireguard .*Unknown device type/ }
    : { backend: 'kernel', reason: /^created kernel WireGuard link fbkwg-auto-a$/ };
  auto = await openBoth(AUTO, 'auto');
  const [line, ...more] = backendLines(AUTO.iface.a);
  assert.ok(line && more.length === 0, 'one line per device');
  assert.equal(line.backend, expected.backend);
  assert.match(line.reason ?? '', expected.reason);
  assert.ok(noKernelWireGuard ? auto.a instanceof WireGuardGoDevice : auto.a instanceof KernelWireGuardDevice);
  for (const side of SIDES) await auto[side].apply(config(AUTO, side));
  await linkUp(AUTO);
  await assertTunnelCarries(AUTO);
});

test('a controller restart adopts the backend that runs the interface and keeps its session', async () => {
  assert.ok(auto, 'the auto test opened the tunnel');
  const before = await settledSession(AUTO, auto.a);
  logged.length = 0;
  const again = keep(await openWireGuardDevice(AUTO.iface.a, { backend: 'auto', netns: netns('a'), log }));
  assert.match(backendLines(AUTO.iface.a)[0]?.reason ?? '', noKernelWireGuard ? /^wireguard-go already runs fbkwg-auto-a$/ : /^kernel WireGuard link fbkwg-auto-a exists$/);
  await again.apply(config(AUTO, 'a'));
  assert.deepEqual((await peerOf(again, publicKeyOf(AUTO.key.b))).lastHandshake, before.lastHandshake);
  assert.ok(await pings(AUTO, 'a'));
});

test('--wireguard-backend=kernel fails with KERNEL_UNSUPPORTED on a kernel without WireGuard, and refuses a wireguard-go link', { skip: !noKernelWireGuard && 'the kernel has WireGuard' }, async () => {
  await assert.rejects(openWireGuardDevice('fbkwg-none', { backend: 'kernel', netns: netns('a'), log }), (e: unknown) => e instanceof WireGuardError && e.code === 'KERNEL_UNSUPPORTED' && /--wireguard-backend=auto/.test(e.message));
  await assert.rejects(runIn(NS.a, 'ip', ['link', 'show', 'fbkwg-none']), 'nothing left behind');
  await assert.rejects(
    openWireGuardDevice(AUTO.iface.a, { backend: 'kernel', netns: netns('a'), log }),
    (e: unknown) => e instanceof WireGuardError && e.code === 'BAD_CONFIG' && /tun link named fbkwg-auto-a exists that is not kernel WireGuard/.test(e.message),
  );
});

test("the kernel device's wg path (syncconf, show dump) configures and reads a live interface as the UAPI path does, and keeps sessions", async () => {
  const devices = {} as Record<Side, KernelWireGuardDevice>;
  const userspace = {} as Record<Side, WireGuardGoDevice>;
  for (const side of SIDES) {
    // wireguard-go brings the interface up with its key only; everything else comes through `wg`.
    userspace[side] = keep(new WireGuardGoDevice(TOOL.iface[side], { netns: netns(side), log }));
    await userspace[side].apply({ privateKey: TOOL.key[side], listenPort: TOOL.port, peers: [] });
    devices[side] = keep(new KernelWireGuardDevice(TOOL.iface[side], { netns: netns(side), log }));
    await devices[side].apply(config(TOOL, side, side === 'a' ? [EXTRA] : []));
  }
  await linkUp(TOOL);
  await assertTunnelCarries(TOOL);
  const seenByA = await peerOf(devices.a, publicKeyOf(TOOL.key.b));
  assert.equal(seenByA.endpoint, `${UNDERLAY.b}:${TOOL.port}`, 'A learned where B dials from');
  assert.ok(seenByA.lastHandshake && Date.now() - seenByA.lastHandshake.getTime() < 60_000, 'a recent handshake');
  assert.ok(seenByA.rxBytes > 0 && seenByA.txBytes > 0);
  for (const side of SIDES) assert.deepEqual(configured(await devices[side].status()), configured(await userspace[side].status()));
  assert.equal((await devices.a.status()).publicKey, publicKeyOf(TOOL.key.a));
  await assertReapplyKeepsSession(TOOL, devices.a);
});

test('kernel WireGuard end to end: create, carry traffic, reapply and adopt on restart', { skip: noKernelWireGuard }, async () => {
  const devices = await openBoth(KERNEL, 'kernel');
  for (const side of SIDES) await devices[side].apply(config(KERNEL, side));
  const { stdout } = await runIn(NS.a, 'ip', ['-d', 'link', 'show', KERNEL.iface.a]);
  assert.match(stdout, /wireguard/, 'a kernel link');
  await linkUp(KERNEL);
  await assertTunnelCarries(KERNEL);
  await assertReapplyKeepsSession(KERNEL, devices.a);
  logged.length = 0;
  const again = keep(await openWireGuardDevice(KERNEL.iface.a, { backend: 'auto', netns: netns('a'), log }));
  assert.match(backendLines(KERNEL.iface.a)[0]?.reason ?? '', /^kernel WireGuard link fbkwg-kern-a exists$/);
  assert.ok(again instanceof KernelWireGuardDevice);
  assert.ok(await pings(KERNEL, 'a'), 'adopting did not disturb the tunnel');
});
