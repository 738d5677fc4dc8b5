import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { addNetns, deleteNetnsIfPresent, sysctl } from '../../hack/testbed/net.js';
import { ensurePodInterface, listHostInterfaces, removePodInterface, type CnfNetns } from '../../plugin/netns/podInterfaceIo.js';
import { hostInterfaceName, type PodInterfaceSpec } from '../../plugin/netns/podInterface.js';
import { runIn } from '../harness/run.js';

/** Real namespaces and veths: a cnf netns and two pod netns, all made and removed here. */
const CNF = 'fbt-wire-cnf';
const PODS = ['fbt-wire-p1', 'fbt-wire-p2'];
const cnf: CnfNetns = { path: `/run/netns/${CNF}`, ref: CNF };

const spec = (i: number): PodInterfaceSpec => ({
  ifName: 'eth-fleet',
  hostIfName: hostInterfaceName(`pod-${i}`),
  address: `10.112.1.${10 + i}`,
  prefixLength: 24,
  gateway: '10.112.1.1',
  mac: `0a:58:0a:70:01:${(10 + i).toString(16).padStart(2, '0')}`,
  mtu: 1420,
  routes: [{ dst: '10.112.0.0/12', gw: '10.112.1.1' }],
});

interface Link {
  ifname: string;
  mtu: number;
  address: string;
  operstate: string;
  addr_info: { family: string; local: string; prefixlen: number }[];
}

async function podLink(netns: string): Promise<Link | undefined> {
  const r = await runIn(netns, 'ip', ['-j', 'addr', 'show', 'dev', 'eth-fleet']).catch(() => undefined);
  return r ? (JSON.parse(r.stdout) as Link[])[0] : undefined;
}

before(async () => {
  for (const ns of [CNF, ...PODS]) {
    await deleteNetnsIfPresent(ns);
    await addNetns(ns);
  }
  await sysctl(CNF, 'net.ipv4.ip_forward', '1');
});

after(async () => {
  for (const ns of [CNF, ...PODS]) await deleteNetnsIfPresent(ns);
});

test('a pod gets eth-fleet with its address, MAC, MTU and route, and reaches another pod through the cnf netns', async () => {
  for (const [i, ns] of PODS.entries()) await ensurePodInterface(`/run/netns/${ns}`, spec(i), cnf);
  const link = await podLink(PODS[0] ?? '');
  assert.ok(link, 'eth-fleet exists in the pod');
  assert.equal(link.mtu, 1420);
  assert.equal(link.address, '0a:58:0a:70:01:0a');
  assert.deepEqual(
    link.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
    ['10.112.1.10/24'],
  );
  const route = await runIn(PODS[0] ?? '', 'ip', ['route', 'get', '10.112.7.7']);
  assert.match(route.stdout, /via 10\.112\.1\.1 dev eth-fleet src 10\.112\.1\.10/);
  // runIn rejects with ping's output when no reply comes back.
  await runIn(PODS[0] ?? '', 'ping', ['-c', '1', '-W', '2', '10.112.1.11']);
});

test('repeating the setup, or finishing one interrupted half-way, converges to one pair', async () => {
  const s = spec(0);
  await ensurePodInterface(`/run/netns/${PODS[0] ?? ''}`, s, cnf);
  await ensurePodInterface(`/run/netns/${PODS[0] ?? ''}`, s, cnf);
  // Interrupted after creating the pair, before any configuration: a new pair with nothing set.
  await removePodInterface(s.hostIfName, cnf);
  await runIn(PODS[0] ?? '', 'ip', ['link', 'add', 'eth-fleet', 'type', 'veth', 'peer', 'name', s.hostIfName, 'netns', CNF]);
  await ensurePodInterface(`/run/netns/${PODS[0] ?? ''}`, s, cnf);
  const hostEnds = await listHostInterfaces(cnf);
  assert.deepEqual(hostEnds.sort(), [spec(0).hostIfName, spec(1).hostIfName].sort());
  const link = await podLink(PODS[0] ?? '');
  assert.deepEqual(
    link?.addr_info.filter((a) => a.family === 'inet').map((a) => a.local),
    ['10.112.1.10'],
  );
  await runIn(PODS[0] ?? '', 'ping', ['-c', '1', '-W', '2', '10.112.1.11']);
});

test('a stray eth-fleet without our end is replaced, and a changed address replaces the old one', async () => {
  const ns = PODS[1] ?? '';
  await removePodInterface(spec(1).hostIfName, cnf);
  // A leftover whose peer is not ours (here: both ends inside the pod).
  await runIn(ns, 'ip', ['link', 'add', 'eth-fleet', 'type', 'veth', 'peer', 'name', 'stray0']);
  const moved = { ...spec(1), address: '10.112.1.99', mac: '0a:58:0a:70:01:63' };
  await ensurePodInterface(`/run/netns/${ns}`, moved, cnf);
  const link = await podLink(ns);
  assert.deepEqual(
    link?.addr_info.filter((a) => a.family === 'inet').map((a) => a.local),
    ['10.112.1.99'],
  );
  await runIn(PODS[0] ?? '', 'ping', ['-c', '1', '-W', '2', '10.112.1.99']);
});

test('removing the interface deletes both ends, and removing it again is not an error', async () => {
  const s = spec(1);
  await removePodInterface(s.hostIfName, cnf);
  await removePodInterface(s.hostIfName, cnf);
  assert.equal(await podLink(PODS[1] ?? ''), undefined);
  assert.ok(!(await listHostInterfaces(cnf)).includes(s.hostIfName));
});
