import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { addAddress, addNetns, addVeth, deleteNetnsIfPresent } from '../../hack/testbed/net.js';
import { generatePrivateKey, publicKeyOf } from '../../controller/wireguard/keys.js';
import { WireGuardGoDevice } from '../../controller/wireguard/wireguardGo.js';
import type { DeviceConfig, PeerStatus } from '../../controller/wireguard/device.js';
import { run, runIn } from '../harness/run.js';
import { waitFor } from '../harness/wait.js';

/**
 * Two nodes as namespaces on a veth "underlay" (TEST-NET-1), each with a
 * wireguard-go interface configured over UAPI by our code. Node A owns
 * 10.113.0.0/16, node B 10.114.0.0/16; B dials A like a member behind NAT.
 */
const NS = { a: 'fbt-wg-a', b: 'fbt-wg-b' };
const IFACE = { a: 'fbtwg-a', b: 'fbtwg-b' };
const UNDERLAY = { a: '192.0.2.1', b: '192.0.2.2' };
const OWNED = { a: '10.113.0.0/16', b: '10.114.0.0/16' };
const TUNNEL_IP = { a: '10.113.0.1', b: '10.114.0.1' };
const key = { a: generatePrivateKey(), b: generatePrivateKey() };
const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const devices: WireGuardGoDevice[] = [];

const config = (side: 'a' | 'b'): DeviceConfig =>
  side === 'a'
    ? { privateKey: key.a, listenPort: 51820, peers: [{ publicKey: publicKeyOf(key.b), allowedIps: [OWNED.b] }] }
    : { privateKey: key.b, listenPort: 51820, peers: [{ publicKey: publicKeyOf(key.a), endpoint: `${UNDERLAY.a}:51820`, allowedIps: [OWNED.a], persistentKeepalive: 25 }] };

function device(side: 'a' | 'b'): WireGuardGoDevice {
  const d = new WireGuardGoDevice(IFACE[side], { netns: `/run/netns/${NS[side]}`, log });
  devices.push(d);
  return d;
}

async function peerOf(d: WireGuardGoDevice, publicKey: string): Promise<PeerStatus> {
  const peer = (await d.status()).peers.find((p) => p.publicKey === publicKey);
  assert.ok(peer, `${d.name} has peer ${publicKey}`);
  return peer;
}

const ping = (from: 'a' | 'b', to: string, source: string) => runIn(NS[from], 'ping', ['-c', '1', '-W', '2', '-I', source, to]);
const pings = (from: 'a' | 'b', to: string, source: string) =>
  ping(from, to, source).then(
    () => true,
    () => false,
  );

let a: WireGuardGoDevice;
let b: WireGuardGoDevice;

before(async () => {
  for (const ns of Object.values(NS)) {
    await deleteNetnsIfPresent(ns);
    await addNetns(ns);
  }
  await addVeth({ netns: NS.a, name: 'under0' }, { netns: NS.b, name: 'under0' });
  await addAddress(NS.a, 'under0', `${UNDERLAY.a}/24`);
  await addAddress(NS.b, 'under0', `${UNDERLAY.b}/24`);
  a = device('a');
  b = device('b');
  await a.apply(config('a'));
  await b.apply(config('b'));
  for (const side of ['a', 'b'] as const) {
    const other = side === 'a' ? 'b' : 'a';
    await runIn(NS[side], 'ip', ['addr', 'add', `${TUNNEL_IP[side]}/32`, 'dev', IFACE[side]]);
    await runIn(NS[side], 'ip', ['link', 'set', IFACE[side], 'up']);
    await runIn(NS[side], 'ip', ['route', 'add', OWNED[other], 'dev', IFACE[side]]);
  }
});

after(async () => {
  for (const d of devices) await d.close().catch(() => undefined);
  for (const ns of Object.values(NS)) await deleteNetnsIfPresent(ns);
});

test('the side behind NAT dials, the tunnel carries traffic both ways, and status shows handshake and bytes', async () => {
  await waitFor(() => pings('b', TUNNEL_IP.a, TUNNEL_IP.b).then((ok) => ok || undefined), { what: 'B reaching A through the tunnel', timeoutMs: 15_000 });
  assert.ok(await pings('a', TUNNEL_IP.b, TUNNEL_IP.a), 'A reaches B back over the session B opened');
  const seenByA = await peerOf(a, publicKeyOf(key.b));
  assert.equal(seenByA.endpoint, `${UNDERLAY.b}:51820`, 'A learned where B dials from');
  assert.ok(seenByA.lastHandshake && Date.now() - seenByA.lastHandshake.getTime() < 60_000, 'a recent handshake');
  assert.ok(seenByA.rxBytes > 0 && seenByA.txBytes > 0);
  assert.equal((await a.status()).publicKey, publicKeyOf(key.a));
});

test('a peer may only send from the CIDRs it owns', async () => {
  await runIn(NS.b, 'ip', ['addr', 'add', '10.115.0.1/32', 'dev', IFACE.b]);
  const rxBefore = (await peerOf(a, publicKeyOf(key.b))).rxBytes;
  // B claims an address of another cluster: A's WireGuard drops it.
  assert.equal(await pings('b', TUNNEL_IP.a, '10.115.0.1'), false);
  assert.ok((await peerOf(a, publicKeyOf(key.b))).rxBytes > rxBefore, 'the packet did arrive through the tunnel and was dropped');
  assert.ok(await pings('b', TUNNEL_IP.a, TUNNEL_IP.b), 'its own address still works');
});

test('reapplying, or adding an unrelated peer, leaves live sessions alone; a removed peer is gone', async () => {
  const before = await peerOf(a, publicKeyOf(key.b));
  const extra = publicKeyOf(generatePrivateKey());
  await a.apply({ ...config('a'), peers: [...config('a').peers, { publicKey: extra, endpoint: '192.0.2.9:51820', allowedIps: ['10.116.0.0/16'] }] });
  await a.apply({ ...config('a'), peers: [...config('a').peers, { publicKey: extra, endpoint: '192.0.2.9:51820', allowedIps: ['10.116.0.0/16'] }] });
  const after = await peerOf(a, publicKeyOf(key.b));
  assert.deepEqual(after.lastHandshake, before.lastHandshake, 'no new handshake was needed');
  assert.ok(after.rxBytes >= before.rxBytes, 'counters were not reset');
  assert.deepEqual((await peerOf(a, extra)).allowedIps, ['10.116.0.0/16']);
  await a.apply(config('a'));
  assert.deepEqual(
    (await a.status()).peers.map((p) => p.publicKey),
    [publicKeyOf(key.b)],
  );
  assert.ok(await pings('a', TUNNEL_IP.b, TUNNEL_IP.a));
});

test('a controller restart adopts the running device without dropping the session', async () => {
  const before = await peerOf(a, publicKeyOf(key.b));
  const again = device('a');
  await again.apply(config('a'));
  assert.deepEqual((await peerOf(again, publicKeyOf(key.b))).lastHandshake, before.lastHandshake);
  assert.ok(await pings('a', TUNNEL_IP.b, TUNNEL_IP.a));
});

test('when wireguard-go dies, the next apply starts it again and traffic resumes', async () => {
  await run('pkill', ['-KILL', '-f', `wireguard-go -f ${IFACE.a}$`]);
  await waitFor(() => a.status().then(() => undefined, () => true), { what: 'the UAPI socket of A to stop answering', timeoutMs: 10_000 });
  await a.apply(config('a'));
  // The new interface needs its address and route again (the routing layer's job in the controller).
  await runIn(NS.a, 'ip', ['addr', 'replace', `${TUNNEL_IP.a}/32`, 'dev', IFACE.a]);
  await runIn(NS.a, 'ip', ['link', 'set', IFACE.a, 'up']);
  await runIn(NS.a, 'ip', ['route', 'replace', OWNED.b, 'dev', IFACE.a]);
  await waitFor(() => pings('b', TUNNEL_IP.a, TUNNEL_IP.b).then((ok) => ok || undefined), { what: 'traffic through the restarted device', timeoutMs: 30_000 });
});
