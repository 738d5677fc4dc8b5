import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { encode, decode } from 'dns-packet';
import type { ControlPlane } from '../harness/controlPlane.js';
import { startMcsControlPlane } from '../harness/mcsControlPlane.js';
import { applyAll } from '../../hack/testbed/apply.js';
import { ManagedProcess } from '../harness/process.js';
import { run } from '../harness/run.js';
import { repoRoot } from '../harness/tools.js';
import { waitFor } from '../harness/wait.js';
import { importedSlice, serviceImport, type TestEndpoint } from '../../controller/crossdns/testFixtures.js';
import { MCS_GROUP, MCS_VERSION } from '../../controller/mcs/api.js';

/**
 * crossdns as the Deployment runs it (dist/controller/crossdns/main.js),
 * fed by a real apiserver, asked by real DNS clients: dig and Node's
 * resolver (c-ares), over UDP and TCP.
 */
const ZONE = 'clusterset.local';
let base = '';
let plane: ControlPlane | undefined;
let kc: KubeConfig;
let crossdns: ManagedProcess | undefined;
let port = 0;
/** Low, so the test can reach it. */
const MAX_TCP = 4;
/** What crossdns is told its Service address is. */
const NAMESERVER = '10.96.0.11';

/** Starts crossdns (again), logging to a file of its own; resolves once it listens. */
async function startCrossdns(kubeconfig: string, run: number): Promise<void> {
  const logFile = join(base, `crossdns-${run}.log`);
  const started = new ManagedProcess({
    name: 'crossdns',
    command: process.execPath,
    args: [join(repoRoot, 'dist/controller/crossdns/main.js'), '--listen', '127.0.0.1:0', '--zones', `${ZONE},hyperos.local`, '--custom-zones', 'shared.example', '--log-level', 'debug', '--max-tcp-connections', String(MAX_TCP), '--nameserver-addresses', NAMESERVER, '--metrics-address', '127.0.0.1:0'],
    env: { KUBECONFIG: kubeconfig, NODE_NAME: 'test-node' },
    logFile,
  });
  crossdns = started;
  started.start();
  port = await waitFor(
    async () => {
      started.assertRunning();
      const listening = (await readFile(logFile, 'utf8')).split('\n').find((l) => l.includes('crossdns listening'));
      return listening ? (JSON.parse(listening) as { port: number }).port : undefined;
    },
    { what: 'crossdns to listen', timeoutMs: 30_000, intervalMs: 100 },
  );
}

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'fleetboard-crossdns-'));
  const started = await startMcsControlPlane('crossdns', join(base, 'cp'));
  ({ plane, kc } = started);
  await startCrossdns(started.plane.kubeconfigPath, 1);
});

after(async () => {
  await crossdns?.stop();
  await plane?.stop();
  if (!process.env.KEEP) await rm(base, { recursive: true, force: true });
});

const objects = () => KubernetesObjectApi.makeApiClient(kc);
const apply = (...objs: KubernetesObject[]) => applyAll(kc, objs);

interface Dig {
  status: string;
  flags: string[];
  /** The answer section's records as `TYPE rdata`. */
  answers: string[];
  output: string;
}

async function dig(name: string, type: string, ...options: string[]): Promise<Dig> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), name, type, '+norec', '+time=2', '+tries=1', ...options]);
  const section = /;; ANSWER SECTION:\n([\s\S]*?)\n\n/.exec(stdout)?.[1] ?? '';
  return {
    status: /status: (\w+)/.exec(stdout)?.[1] ?? 'none',
    flags: (/;; flags: ([^;]*);/.exec(stdout)?.[1] ?? '').trim().split(/\s+/),
    answers: section.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(3).join(' ')),
    output: stdout,
  };
}

/** Waits until dig sees `expected` (sorted answers, or a status). */
async function digUntil(name: string, type: string, expected: { answers?: string[]; status?: string }): Promise<Dig> {
  return waitFor(
    async () => {
      const d = await dig(name, type);
      const ok = (expected.status === undefined || d.status === expected.status) && (expected.answers === undefined || JSON.stringify([...d.answers].sort()) === JSON.stringify([...expected.answers].sort()));
      return ok ? d : undefined;
    },
    { what: `${name} ${type} to answer ${JSON.stringify(expected)}`, timeoutMs: 20_000, intervalMs: 100 },
  );
}

test('a ClusterSetIP service: A follows the ServiceImport, SRV names the port, NXDOMAIN once it is gone', async () => {
  await apply(serviceImport('default', 'nginx', { type: 'ClusterSetIP', ips: ['10.127.0.5'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }));
  const a = await digUntil(`nginx.default.svc.${ZONE}`, 'A', { answers: ['A 10.127.0.5'] });
  assert.deepEqual(a.flags.sort(), ['aa', 'qr']);
  await digUntil('NGINX.Default.SVC.hyperos.local.', 'A', { answers: ['A 10.127.0.5'] });
  const srv = await dig(`_http._tcp.nginx.default.svc.${ZONE}`, 'SRV');
  assert.deepEqual(srv.answers, [`SRV 0 100 80 nginx.default.svc.${ZONE}.`]);
  assert.match(srv.output, /ADDITIONAL SECTION:\nnginx\.default\.svc\.clusterset\.local\.\s+5\s+IN\s+A\s+10\.127\.0\.5/);

  await apply(serviceImport('default', 'nginx', { type: 'ClusterSetIP', ips: ['10.127.0.6'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }));
  await digUntil(`nginx.default.svc.${ZONE}`, 'A', { answers: ['A 10.127.0.6'] });

  await objects().delete(serviceImport('default', 'nginx', { type: 'ClusterSetIP', ports: [] }));
  const gone = await digUntil(`nginx.default.svc.${ZONE}`, 'A', { status: 'NXDOMAIN' });
  assert.match(gone.output, /AUTHORITY SECTION:\nclusterset\.local\.\s+5\s+IN\s+SOA\s+ns\.dns\.clusterset\.local\. hostmaster\.clusterset\.local\. \d+ 7200 1800 86400 5/);
});

test('a headless service answers the ready endpoints of connected clusters, and follows them', async () => {
  await apply(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'db' } },
    serviceImport('db', 'pg', { type: 'Headless', ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }] }),
    importedSlice('db', 'pg', 'cluster1', [{ ip: '10.112.1.2', hostname: 'pg-0' }, { ip: '10.112.1.3', hostname: 'pg-1', ready: false }]),
    importedSlice('db', 'pg', 'cluster2', [{ ip: '10.113.1.2', hostname: 'pg-0' }]),
  );
  await digUntil(`pg.db.svc.${ZONE}`, 'A', { answers: ['A 10.112.1.2', 'A 10.113.1.2'] });
  assert.deepEqual((await dig(`pg-0.cluster2.pg.db.svc.${ZONE}`, 'A')).answers, ['A 10.113.1.2']);
  assert.equal((await dig(`pg-1.cluster1.pg.db.svc.${ZONE}`, 'A')).status, 'NXDOMAIN', 'not ready');
  const srv = await dig(`_pg._tcp.pg.db.svc.${ZONE}`, 'SRV');
  assert.deepEqual(srv.answers.sort(), [`SRV 0 50 5432 pg-0.cluster1.pg.db.svc.${ZONE}.`, `SRV 0 50 5432 pg-0.cluster2.pg.db.svc.${ZONE}.`]);

  // pg-1 becomes ready; cluster2's tunnel goes down.
  await apply(importedSlice('db', 'pg', 'cluster1', [{ ip: '10.112.1.2', hostname: 'pg-0' }, { ip: '10.112.1.3', hostname: 'pg-1' }]), importedSlice('db', 'pg', 'cluster2', [{ ip: '10.113.1.2', hostname: 'pg-0' }], { connected: false }));
  await digUntil(`pg.db.svc.${ZONE}`, 'A', { answers: ['A 10.112.1.2', 'A 10.112.1.3'] });
  assert.equal((await dig(`pg-0.cluster2.pg.db.svc.${ZONE}`, 'A')).status, 'NXDOMAIN');

  // Empty non-terminals exist; names under them that are not there do not.
  assert.deepEqual([(await dig(`cluster1.pg.db.svc.${ZONE}`, 'A')).status, (await dig(`db.svc.${ZONE}`, 'A')).status, (await dig(`svc.${ZONE}`, 'A')).status], ['NOERROR', 'NOERROR', 'NOERROR']);
  assert.equal((await dig(`nothere.db.svc.${ZONE}`, 'A')).status, 'NXDOMAIN');
  assert.equal((await dig('example.com', 'A')).status, 'REFUSED');
  assert.deepEqual((await dig(`dns-version.${ZONE}`, 'TXT')).answers, ['TXT "1.0.0"']);
});

test('a custom name from fleetboard.io/dns-name answers inside the custom zone', async () => {
  await apply(serviceImport('default', 'shop', { type: 'ClusterSetIP', ips: ['10.127.0.9'], ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] }, 'shop.shared.example,shop.not-ours.example'));
  await digUntil('shop.shared.example', 'A', { answers: ['A 10.127.0.9'] });
  assert.deepEqual((await dig('_http._tcp.shop.shared.example', 'SRV')).answers, ['SRV 0 100 8080 shop.shared.example.']);
  assert.equal((await dig('shop.not-ours.example', 'A')).status, 'REFUSED');
});

test('the zone\'s NS resolves to crossdns\'s address, given beside the NS answer', async () => {
  const ns = await dig(ZONE, 'NS');
  assert.deepEqual(ns.answers, [`NS ns.dns.${ZONE}.`]);
  assert.match(ns.output, /ADDITIONAL SECTION:\nns\.dns\.clusterset\.local\.\s+5\s+IN\s+A\s+10\.96\.0\.11/);
  assert.deepEqual((await dig(`ns.dns.${ZONE}`, 'A')).answers, [`A ${NAMESERVER}`]);
});

test('too large for UDP: TC set with the answer left out; dig and c-ares then get all of it over TCP', async () => {
  const pods: TestEndpoint[] = Array.from({ length: 60 }, (_, i) => ({ ip: `10.112.3.${i + 1}`, hostname: `web-${i}` }));
  await apply(serviceImport('default', 'web', { type: 'Headless', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }), importedSlice('default', 'web', 'cluster1', pods));
  const name = `web.default.svc.${ZONE}`;
  await waitFor(async () => ((await dig(name, 'A', '+tcp')).answers.length === 60 ? true : undefined), { what: 'all 60 web endpoints', timeoutMs: 20_000, intervalMs: 100 });
  const udp = await dig(name, 'A', '+ignore', '+bufsize=1232');
  assert.ok(udp.flags.includes('tc'), udp.output);
  assert.deepEqual(udp.answers, []);
  const retried = await dig(name, 'A', '+bufsize=1232');
  assert.match(retried.output, /Truncated, retrying in TCP mode/);
  assert.equal(retried.answers.length, 60);
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  assert.equal((await resolver.resolve4(name)).length, 60);
  assert.deepEqual(await resolver.resolve4(`pg.db.svc.${ZONE}`).then((a) => a.sort()), ['10.112.1.2', '10.112.1.3']);
  await assert.rejects(resolver.resolve4(`nope.default.svc.${ZONE}`), { code: 'ENOTFOUND' });
  await assert.rejects(resolver.resolve4(`default.svc.${ZONE}`), { code: 'ENODATA' });
});

test('TCP: several queries on one connection, framed across writes, answered in order', async () => {
  const frame = (id: number, name: string) => {
    const q = encode({ type: 'query', id, questions: [{ type: 'A', name }] });
    return Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]);
  };
  const socket = connect(port, '127.0.0.1');
  try {
    const responses: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          responses.push(pending.subarray(2, 2 + pending.readUInt16BE(0)));
          pending = pending.subarray(2 + pending.readUInt16BE(0));
        }
        if (responses.length === 3) resolve();
      });
      socket.on('error', reject);
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const third = frame(3, `missing.default.svc.${ZONE}`);
    socket.write(Buffer.concat([frame(1, `pg.db.svc.${ZONE}`), frame(2, `svc.${ZONE}`), third.subarray(0, 5)]));
    socket.write(third.subarray(5));
    await waitFor(() => done.then(() => true), { what: 'three responses over one connection', timeoutMs: 5000 });
    assert.deepEqual(
      responses.map((r) => decode(r)).map((p) => [p.id, (p.flags ?? 0) & 0xf, p.answers?.length]),
      [
        [1, 0, 2],
        [2, 0, 0],
        [3, 3, 0],
      ],
    );
  } finally {
    socket.destroy();
  }
});

test('garbage gets FORMERR with its id, a runt nothing, and the server goes on answering', async () => {
  const socket = createSocket('udp4');
  try {
    const received: Buffer[] = [];
    socket.on('message', (msg) => received.push(msg));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    // A query header (id 0xbeef, one question) followed by a label length no name may have.
    const garbage = Buffer.from('beef00000001000000000000ff6162636465666768696a6b6c', 'hex');
    socket.send(Buffer.from([1, 2, 3, 4, 5]), port, '127.0.0.1');
    socket.send(garbage, port, '127.0.0.1');
    socket.send(encode({ type: 'query', id: 77, questions: [{ type: 'A', name: `pg.db.svc.${ZONE}` }] }), port, '127.0.0.1');
    await waitFor(() => Promise.resolve(received.length >= 2 ? true : undefined), { what: 'two responses', timeoutMs: 5000, intervalMs: 20 });
    const [formerr, answer] = received;
    assert.equal(formerr?.readUInt16BE(0), garbage.readUInt16BE(0), 'the id of the garbage');
    assert.equal(formerr.readUInt16BE(2) & 0x800f, 0x8001, 'QR and FORMERR');
    assert.equal(answer?.readUInt16BE(0), 77, 'the runt got nothing: the next response is the query\'s');
    crossdns?.assertRunning();
    assert.equal((await dig(`pg.db.svc.${ZONE}`, 'A')).status, 'NOERROR');
  } finally {
    socket.close();
  }
});

/** One query over an open TCP connection; resolves with the response's rcode, or undefined if the server closed it. */
function queryOver(socket: Socket, id: number): Promise<number | undefined> {
  const q = encode({ type: 'query', id, questions: [{ type: 'A', name: `svc.${ZONE}` }] });
  return new Promise((resolve) => {
    let pending = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        socket.off('data', onData);
        resolve((decode(pending.subarray(2, 2 + pending.readUInt16BE(0))).flags ?? 0) & 0xf);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => resolve(undefined));
    socket.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]));
  });
}

async function openTcp(): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined); // a refused connection shows as a close
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}

test('TCP connections are capped: past --max-tcp-connections a new one is closed unanswered, the open ones keep working, and a freed slot serves again', async () => {
  const open: Socket[] = [];
  try {
    for (let i = 0; i < MAX_TCP; i++) open.push(await openTcp());
    for (const [i, s] of open.entries()) assert.equal(await queryOver(s, i + 1), 0, `connection ${i + 1} is answered`);
    const extra = await openTcp();
    open.push(extra);
    assert.equal(await queryOver(extra, 99), undefined, 'the connection past the cap is closed');
    assert.equal(await queryOver(open[0] as Socket, 100), 0, 'the open ones still answer');
    (open.shift() as Socket).destroy();
    const again = await waitFor(async () => {
      const s = await openTcp();
      open.push(s);
      return (await queryOver(s, 101)) === 0 ? true : undefined;
    }, { what: 'a new connection to be served once one closed', timeoutMs: 5000, intervalMs: 100 });
    assert.equal(again, true);
  } finally {
    for (const s of open) s.destroy();
  }
});

test('objects crossdns cannot use (a ServiceImport without spec, a slice from no cluster) and slices the API sends without endpoints: present at start or arriving later, crossdns starts, stays up and answers every other name', async () => {
  const withoutSpec = (name: string) => ({ apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceImport', metadata: { name, namespace: 'default' } });
  await apply(
    serviceImport('default', 'steady', { type: 'ClusterSetIP', ips: ['10.127.0.50'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }),
    withoutSpec('nospec'),
    // Created with no endpoints, read back with none at all (the API drops an empty list to null).
    serviceImport('default', 'scaled', { type: 'Headless', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }),
    importedSlice('default', 'scaled', 'cluster1', []),
  );
  const read = (await KubernetesObjectApi.makeApiClient(kc).read({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'scaled-cluster1', namespace: 'default' } })) as unknown as Record<string, unknown>;
  assert.ok(!Array.isArray(read.endpoints), `the API sends an empty slice without an endpoint list (got ${JSON.stringify(read.endpoints)})`);

  // Present at start.
  await crossdns?.stop();
  await startCrossdns(plane?.kubeconfigPath ?? '', 2);
  const first = crossdns;
  await digUntil(`steady.default.svc.${ZONE}`, 'A', { answers: ['A 10.127.0.50'] });
  assert.equal((await dig(`scaled.default.svc.${ZONE}`, 'A')).status, 'NXDOMAIN', 'a headless service without ready endpoints has no name');
  assert.equal((await dig(`nospec.default.svc.${ZONE}`, 'A')).status, 'NXDOMAIN');

  // Arriving later, with a change to the good service to show the index still follows.
  await apply(
    withoutSpec('nospec-later'),
    importedSlice('default', 'steady', 'cluster.one', [{ ip: '10.112.9.9' }], { name: 'steady-bad' }),
    serviceImport('default', 'steady', { type: 'ClusterSetIP', ips: ['10.127.0.51'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }),
  );
  await digUntil(`steady.default.svc.${ZONE}`, 'A', { answers: ['A 10.127.0.51'] });
  await apply(importedSlice('default', 'scaled', 'cluster1', [{ ip: '10.112.3.7', hostname: 'pod-0' }]));
  await digUntil(`scaled.default.svc.${ZONE}`, 'A', { answers: ['A 10.112.3.7'] });
  assert.equal(crossdns, first, 'the same process');
  first?.assertRunning();
  const logged = await waitFor(async () => {
    const text = await readFile(join(base, 'crossdns-2.log'), 'utf8');
    return text.includes('ServiceImport default/nospec-later has no type') && text.includes('has no source cluster that is a DNS label') ? text : undefined;
  }, { what: 'crossdns to log what it left out', timeoutMs: 10_000, intervalMs: 100 });
  assert.doesNotMatch(logged, /failed|not iterable/, 'no pass failed');
});
