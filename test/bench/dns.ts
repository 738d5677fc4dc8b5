import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ControlPlane } from '../harness/controlPlane.js';
import { freePort } from '../harness/ports.js';
import { repoRoot } from '../harness/tools.js';
import { waitFor } from '../harness/wait.js';
import { createAll } from '../../hack/testbed/apply.js';
import { chartCrds } from '../../hack/testbed/charts.js';
import { MCS_GROUP, type ServiceImportBody } from '../../controller/mcs/api.js';
import type { SliceBody } from '../../controller/mcs/exportedSlices.js';
import { buildIndex, type DnsIndex } from '../../controller/crossdns/zoneIndex.js';
import { importedSlice, indexInput, serviceImport } from '../../controller/crossdns/testFixtures.js';
import { median } from './compare.js';
import { BenchError } from './measure.js';

/**
 * DNS benchmark: `npm run bench:dns [-- --seconds S --rounds R --latency-qps Q --profile DIR]`
 * prints one JSON object: queries/s and p99 latency of crossdns and of CoreDNS
 * serving the same names, and their ratio (target: crossdns ≥ 1.2× CoreDNS).
 * crossdns runs its real entry point fed by a real apiserver (100 ClusterSetIP
 * services and a few headless ones); CoreDNS (the testbed's pinned version,
 * built with its `file` plugin, no `log`, no `cache`) serves a zone file
 * written from the same records. Each server in turn gets core 1 to itself
 * (`taskset`); dnsperf, this process and the control plane share core 0.
 * Throughput: dnsperf at 100 queries outstanding for S seconds; latency:
 * dnsperf at a fixed Q queries/s, by default half what the slower server
 * managed in that round, so neither is queueing (its per-query report is too
 * slow to saturate anything anyway). Rounds alternate which server goes
 * first; medians decide.
 */
const ZONE = 'clusterset.local';
const SERVER_CORE = '1';
const CLIENT_CORE = '0';
const CLUSTERSET_SERVICES = 100;
const HEADLESS_SERVICES = 5;
const NAMESPACES = 10;
const TARGET_RATIO = 1.2;
const QUERY_LINES = 20_000;
const WARMUP_SECONDS = 2;
// dnsperf's queries outstanding: enough to keep a server busy; more only lengthens queues.
const OUTSTANDING = 100;
// USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on every Linux architecture but alpha and ia64.
const CLOCK_TICKS = 100;
const COREDNS_MAIN = `package main

import (
\t"github.com/coredns/coredns/coremain"

\t_ "github.com/coredns/coredns/plugin/bind"
\t_ "github.com/coredns/coredns/plugin/file"
)

func main() { coremain.Run() }
`;

interface Options {
  seconds: number;
  rounds: number;
  /** undefined: half the slower server's throughput of the round. */
  latencyQps: number | undefined;
  profileDir: string | undefined;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({ args, options: { seconds: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' }, 'latency-qps': { type: 'string', default: '' }, profile: { type: 'string', default: '' } } });
  const whole = (name: string, text: string, min: number, max: number) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) throw new BenchError('BAD_OPTION', `--${name} must be a whole number from ${min} to ${max} (got "${text}")`);
    return n;
  };
  return { seconds: whole('seconds', values.seconds, 1, 600), rounds: whole('rounds', values.rounds, 1, 20), latencyQps: values['latency-qps'] ? whole('latency-qps', values['latency-qps'], 100, 1_000_000) : undefined, profileDir: values.profile || undefined };
}

/** The value at fraction `q` of the samples (nearest rank). */
function percentile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

function exec(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new BenchError('COMMAND_FAILED', `${file} ${args.join(' ')} failed`, stderr || err.message, { cause: err }));
      else resolve(stdout);
    });
  });
}

/** The services: ClusterSetIP ones over ten namespaces, headless ones with three ready pods in each of two clusters. */
function clusterset(): { namespaces: string[]; imports: ServiceImportBody[]; slices: SliceBody[] } {
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `bench-${i}`);
  const ports = [{ name: 'http', protocol: 'TCP', port: 80 }, { name: 'grpc', protocol: 'TCP', port: 9090 }];
  const imports = Array.from({ length: CLUSTERSET_SERVICES }, (_, i) => serviceImport(namespaces[i % NAMESPACES] ?? '', `svc-${i}`, { type: 'ClusterSetIP', ips: [`10.127.${i >> 8}.${i & 255}`], ports }));
  const slices: SliceBody[] = [];
  for (let h = 0; h < HEADLESS_SERVICES; h++) {
    imports.push(serviceImport('bench-0', `headless-${h}`, { type: 'Headless', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }));
    for (const [c, cluster] of ['cluster1', 'cluster2'].entries()) {
      slices.push(importedSlice('bench-0', `headless-${h}`, cluster, [0, 1, 2].map((p) => ({ ip: `10.${112 + c}.${h}.${p + 10}`, hostname: `pod-${p}` }))));
    }
  }
  return { namespaces, imports, slices };
}

/** The index as an RFC 1035 zone file, so CoreDNS serves exactly the records crossdns does. */
function zoneFile(index: DnsIndex): string {
  const lines = [`$ORIGIN ${ZONE}.`, `@ ${index.ttl} IN SOA ns.dns.${ZONE}. hostmaster.${ZONE}. ${index.serial} 7200 1800 86400 ${index.ttl}`, `@ ${index.ttl} IN NS ns.dns.${ZONE}.`];
  for (const [name, records] of index.names) {
    const owner = `${name}.`;
    for (const ip of records.a) lines.push(`${owner} ${index.ttl} IN A ${ip}`);
    for (const ip of records.aaaa) lines.push(`${owner} ${index.ttl} IN AAAA ${ip}`);
    for (const text of records.txt) lines.push(`${owner} ${index.ttl} IN TXT "${text}"`);
    const weight = Math.max(1, Math.floor(100 / Math.max(1, records.srv.length)));
    for (const s of records.srv) lines.push(`${owner} ${index.ttl} IN SRV 0 ${weight} ${s.port} ${s.target}.`);
  }
  return `${lines.join('\n')}\n`;
}

/** dnsperf's input: mostly A of ClusterSetIP services, then headless A, SRV and names that do not exist. Deterministic. */
function queryMix(input: { imports: readonly ServiceImportBody[] }): { lines: string[]; mix: Record<string, number> } {
  let seed = 1645;
  const random = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const name = (i: ServiceImportBody) => `${i.metadata.name}.${i.metadata.namespace}.svc.${ZONE}`;
  const clusterSetIp = input.imports.filter((i) => i.spec.type === 'ClusterSetIP').map(name);
  const headless = input.imports.filter((i) => i.spec.type === 'Headless').map(name);
  const kinds: [string, number, () => string][] = [
    ['clusterSetIpA', 0.7, () => `${pick(clusterSetIp)} A`],
    ['headlessA', 0.1, () => `${pick(headless)} A`],
    ['srv', 0.1, () => `_http._tcp.${pick(random() < 0.5 ? clusterSetIp : headless)} SRV`],
    ['nxdomain', 0.1, () => `missing-${Math.floor(random() * 1000)}.bench-${Math.floor(random() * NAMESPACES)}.svc.${ZONE} A`],
  ];
  const lines = Array.from({ length: QUERY_LINES }, () => {
    let r = random();
    for (const [, share, make] of kinds) {
      if (r < share) return make();
      r -= share;
    }
    return kinds[0]?.[2]() ?? '';
  });
  return { lines, mix: Object.fromEntries(kinds.map(([k, share]) => [k, share])) };
}

/** CoreDNS at the testbed's pinned version (hack/tools/coredns/go.mod), with the file plugin that build leaves out. */
async function corednsWithFilePlugin(): Promise<string> {
  const dir = join(repoRoot, '.cache', 'bench', 'coredns-file');
  const binary = join(dir, 'coredns');
  const tools = join(repoRoot, 'hack', 'tools', 'coredns');
  const goMod = (await readFile(join(tools, 'go.mod'), 'utf8')).replace(/^module .*$/m, 'module fleetboard.bench/coredns-file');
  const goSum = await readFile(join(tools, 'go.sum'), 'utf8');
  const stamp = createHash('sha256').update(goMod).update(goSum).update(COREDNS_MAIN).update(await exec('go', ['version'])).digest('hex');
  const stampFile = join(dir, '.stamp');
  if (existsSync(binary) && existsSync(stampFile) && (await readFile(stampFile, 'utf8')) === stamp) return binary;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'go.mod'), goMod);
  await writeFile(join(dir, 'go.sum'), goSum);
  await writeFile(join(dir, 'main.go'), COREDNS_MAIN);
  await exec('go', ['build', '-trimpath', '-o', binary, '.'], { cwd: dir, env: { ...process.env, GOFLAGS: '-mod=mod' }, timeoutMs: 600_000 });
  await writeFile(stampFile, stamp);
  return binary;
}

interface DnsperfRun {
  queriesPerSecond: number;
  sent: number;
  lost: number;
  responseCodes: Record<string, number>;
}

function parseDnsperf(stdout: string): DnsperfRun {
  const number = (label: string) => {
    const m = new RegExp(`${label}:\\s+([\\d.]+)`).exec(stdout);
    if (!m) throw new BenchError('UNPARSABLE', `dnsperf printed no "${label}"`, stdout.slice(-2000));
    return Number(m[1]);
  };
  const codes = /Response codes:\s+(.*)/.exec(stdout)?.[1] ?? '';
  const responseCodes = Object.fromEntries([...codes.matchAll(/(\w+) (\d+) \(/g)].map((m) => [m[1] ?? '', Number(m[2])]));
  return { queriesPerSecond: number('Queries per second'), sent: number('Queries sent'), lost: number('Queries lost'), responseCodes };
}

/** dnsperf on the client core against 127.0.0.1:port, with EDNS as a forwarding CoreDNS asks. */
function dnsperf(port: number, queries: string, seconds: number, extra: string[]): Promise<string> {
  return exec('taskset', ['-c', CLIENT_CORE, 'dnsperf', '-s', '127.0.0.1', '-p', String(port), '-d', queries, '-l', String(seconds), '-e', '-c', '1', ...extra], { timeoutMs: (seconds + 30) * 1000 });
}

interface Throughput {
  queriesPerSecond: number;
  /** CPU the server spent per answered query while saturated: what it costs, whatever else the machine runs. */
  cpuMicrosecondsPerQuery: number;
  lostFraction: number;
  responseCodes: Record<string, number>;
}

interface Round extends Throughput {
  latencyMs: { p50: number; p99: number; atQps: number };
}

async function measureThroughput(server: PinnedServer, port: number, queries: string, seconds: number): Promise<Throughput> {
  const cpuBefore = await server.cpuSeconds();
  const run = parseDnsperf(await dnsperf(port, queries, seconds, ['-q', String(OUTSTANDING)]));
  const cpuSeconds = (await server.cpuSeconds()) - cpuBefore;
  const answered = run.sent - run.lost;
  return {
    queriesPerSecond: run.queriesPerSecond,
    cpuMicrosecondsPerQuery: answered > 0 ? (cpuSeconds * 1e6) / answered : NaN,
    lostFraction: run.sent > 0 ? run.lost / run.sent : 0,
    responseCodes: run.responseCodes,
  };
}

async function measureLatency(port: number, queries: string, seconds: number, qps: number): Promise<Round['latencyMs']> {
  // `-v` reports each response: `> RCODE name type seconds`.
  const verbose = await dnsperf(port, queries, seconds, ['-Q', String(qps), '-v']);
  const latencies = [...verbose.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)].map((m) => Number(m[1]) * 1000);
  if (latencies.length === 0) throw new BenchError('UNPARSABLE', 'dnsperf -v reported no response latencies', verbose.slice(-2000));
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), atQps: qps };
}

/** A server under test on the server core, its output in `logFile`; its pid, for the CPU time it spends. */
class PinnedServer {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private exitCode: number | null | undefined;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    logFile: string,
    env: Record<string, string> = {},
  ) {
    const log = openSync(logFile, 'a');
    try {
      this.child = spawn('taskset', ['-c', SERVER_CORE, command, ...args], { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
    } finally {
      closeSync(log);
    }
    this.exited = new Promise((resolve) => {
      const gone = (code: number | null) => {
        this.exitCode = code;
        resolve();
      };
      this.child.once('exit', gone);
      // Could not start (taskset or the server missing): as good as exited.
      this.child.once('error', () => gone(null));
    });
  }

  assertRunning(): void {
    if (this.exitCode !== undefined) throw new BenchError('COMMAND_FAILED', `${this.name} exited (code ${String(this.exitCode)}); see its log`);
  }

  /** User and system CPU seconds so far, every thread (taskset execs the server: same pid). */
  async cpuSeconds(): Promise<number> {
    const stat = await readFile(`/proc/${String(this.child.pid)}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the line.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }

  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The sorted answers (or the status) dig gets for each question: both servers must give the same. */
async function answers(port: number, questions: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const q of questions) {
    const [name = '', type = 'A'] = q.split(' ');
    const stdout = await exec('dig', ['@127.0.0.1', '-p', String(port), name, type, '+norec', '+time=2', '+tries=1', '+noall', '+answer', '+comments']);
    const status = /status: (\w+)/.exec(stdout)?.[1] ?? 'none';
    const records = stdout.split('\n').filter((l) => l && !l.startsWith(';')).map((l) => l.split(/\s+/).filter((_, i) => i !== 1).join(' ')).sort();
    out.push(`${q}: ${status} ${records.join(' | ')}`);
  }
  return out;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (availableParallelism() < 2) throw new BenchError('BAD_OPTION', 'the DNS benchmark needs two cores: one for the server under test, one for dnsperf');
  await exec('sh', ['-c', 'command -v dnsperf']).catch((err: unknown) => {
    throw new BenchError('COMMAND_FAILED', 'dnsperf is missing: run "bash hack/setup.sh" (Debian package dnsperf)', '', { cause: err });
  });
  // This process, its control plane and (later) dnsperf stay off the server's core.
  await exec('taskset', ['-a', '-p', '-c', CLIENT_CORE, String(process.pid)]);
  const coredns = await corednsWithFilePlugin();
  const base = await mkdtemp(join(tmpdir(), 'fleetboard-bench-dns-'));
  const plane = new ControlPlane({ name: 'bench-dns', dir: join(base, 'cp') });
  const processes: PinnedServer[] = [];
  try {
    await plane.start();
    const kc = plane.kubeConfig();
    await createAll(kc, await chartCrds('fleetboard-agent'));
    const input = clusterset();
    await waitFor(() => createAll(kc, input.namespaces.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }))).then(() => true), { what: 'the bench namespaces', timeoutMs: 30_000 });
    // The ServiceImport API is served a moment after its CRD is created.
    await waitFor(() => createAll(kc, [...input.imports]).then(() => true), { what: `ServiceImports (${MCS_GROUP}) to be created`, timeoutMs: 30_000 });
    await createAll(kc, [...input.slices]);

    const { index } = buildIndex(indexInput(input.imports, input.slices), { zones: [ZONE], customZones: [], reverseZones: [], nameserverAddresses: [], ttl: 5, serial: 1 });
    await writeFile(join(base, 'db.zone'), zoneFile(index));
    const corednsPort = await freePort();
    await writeFile(join(base, 'Corefile'), `${ZONE}:${corednsPort} {\n  bind 127.0.0.1\n  file ${join(base, 'db.zone')}\n}\n`);
    const { lines, mix } = queryMix(input);
    const queries = join(base, 'queries.txt');
    await writeFile(queries, `${lines.join('\n')}\n`);

    const crossdnsLog = join(base, 'crossdns.log');
    const profile = opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', opts.profileDir] : [];
    const crossdns = new PinnedServer('crossdns', process.execPath, [...profile, join(repoRoot, 'dist/controller/crossdns/main.js'), '--listen', '127.0.0.1:0', '--zones', ZONE, '--metrics-address', '127.0.0.1:0'], crossdnsLog, { KUBECONFIG: plane.kubeconfigPath, NODE_NAME: 'bench' });
    processes.push(crossdns);
    const crossdnsPort = await waitFor(
      async () => {
        crossdns.assertRunning();
        const line = (await readFile(crossdnsLog, 'utf8')).split('\n').find((l) => l.includes('crossdns listening'));
        return line ? (JSON.parse(line) as { port: number }).port : undefined;
      },
      { what: 'crossdns to listen', timeoutMs: 30_000, intervalMs: 100 },
    );
    const corednsServer = new PinnedServer('coredns', coredns, ['-conf', join(base, 'Corefile'), '-quiet'], join(base, 'coredns.log'));
    processes.push(corednsServer);

    // Both serve the last service created before anyone measures, and agree on one question of each kind.
    const sample = [`svc-${CLUSTERSET_SERVICES - 1}.bench-${(CLUSTERSET_SERVICES - 1) % NAMESPACES}.svc.${ZONE} A`, `headless-${HEADLESS_SERVICES - 1}.bench-0.svc.${ZONE} A`, `_http._tcp.headless-0.bench-0.svc.${ZONE} SRV`, `_grpc._tcp.svc-1.bench-1.svc.${ZONE} SRV`, `missing.bench-1.svc.${ZONE} A`, `bench-1.svc.${ZONE} A`];
    const expected = await waitFor(
      async () => {
        const got = await answers(crossdnsPort, sample);
        return got.every((a, i) => sample[i]?.startsWith('missing') === true || !a.includes(': NXDOMAIN')) ? got : undefined;
      },
      { what: 'crossdns to serve every bench service', timeoutMs: 30_000, intervalMs: 200 },
    );
    const fromCoredns = await waitFor(() => answers(corednsPort, sample).then((a) => a, () => undefined), { what: 'CoreDNS to answer', timeoutMs: 30_000, intervalMs: 200 });
    const mismatches = expected.flatMap((a, i) => (a === fromCoredns[i] ? [] : [{ crossdns: a, coredns: fromCoredns[i] ?? '' }]));

    const servers = { crossdns: { server: crossdns, port: crossdnsPort }, coredns: { server: corednsServer, port: corednsPort } };
    for (const { port } of Object.values(servers)) await dnsperf(port, queries, WARMUP_SECONDS, ['-q', String(OUTSTANDING)]);
    const rounds: Record<keyof typeof servers, Round[]> = { crossdns: [], coredns: [] };
    for (let r = 0; r < opts.rounds; r++) {
      const order: (keyof typeof servers)[] = r % 2 === 0 ? ['crossdns', 'coredns'] : ['coredns', 'crossdns'];
      const throughput = new Map<keyof typeof servers, Throughput>();
      for (const which of order) throughput.set(which, await measureThroughput(servers[which].server, servers[which].port, queries, opts.seconds));
      const rate = opts.latencyQps ?? Math.max(100, Math.round(Math.min(...[...throughput.values()].map((t) => t.queriesPerSecond)) / 2));
      for (const which of order) {
        const measured = throughput.get(which);
        if (measured) rounds[which].push({ ...measured, latencyMs: await measureLatency(servers[which].port, queries, Math.max(2, Math.ceil(opts.seconds / 2)), rate) });
      }
    }
    for (const p of processes) p.assertRunning();
    const summary = (rs: Round[]) => ({ queriesPerSecond: median(rs.map((x) => x.queriesPerSecond)), cpuMicrosecondsPerQuery: median(rs.map((x) => x.cpuMicrosecondsPerQuery)), p99LatencyMs: median(rs.map((x) => x.latencyMs.p99)), p50LatencyMs: median(rs.map((x) => x.latencyMs.p50)), rounds: rs });
    const crossdnsSummary = summary(rounds.crossdns);
    const corednsSummary = summary(rounds.coredns);
    const ratio = crossdnsSummary.queriesPerSecond / corednsSummary.queriesPerSecond;
    const report = {
      setup: { clusterSetIpServices: CLUSTERSET_SERVICES, headlessServices: HEADLESS_SERVICES, queryMix: mix, serverCore: Number(SERVER_CORE), clientCore: Number(CLIENT_CORE), seconds: opts.seconds, outstanding: OUTSTANDING, node: process.version, coredns: (await exec(coredns, ['-version'])).split('\n')[0] ?? '', dnsperf: /Version (\S+)/.exec(await exec('dnsperf', ['-H']))?.[1] ?? '' },
      sameAnswers: mismatches.length === 0,
      mismatches,
      crossdns: crossdnsSummary,
      coredns: corednsSummary,
      ratio: { queriesPerSecond: ratio, cpuPerQuery: corednsSummary.cpuMicrosecondsPerQuery / crossdnsSummary.cpuMicrosecondsPerQuery, target: TARGET_RATIO, pass: ratio >= TARGET_RATIO && mismatches.length === 0 },
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    for (const p of processes) await p.stop();
    await plane.stop();
    await rm(base, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
