import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { KubernetesObject, V1Container, V1PodSpec } from '@kubernetes/client-node';
import { renderChart } from '../../hack/testbed/charts.js';
import { repoRoot } from '../harness/tools.js';

/**
 * hack/images/build.sh builds the image with buildah and test/e2e/realNodes.test.ts
 * runs it; here its Dockerfile is checked against what it must serve, which a
 * build alone would not catch: the commands the charts run, the entry points in
 * the sources, and the programs those sources start.
 */

const IMAGE = 'ghcr.io/fleetboard-io/fleetboard';
const BASE = 'node:24-bookworm-slim';

/**
 * Every program the components start, and where the image gets it. Found with
 * `grep -rn "execIn(\|spawn(\|execFile(\|this.run(" controller plugin`; the
 * last test fails when the sources start one that is not listed here.
 */
const SPAWNED: Record<string, { apt: string } | { essential: string } | { stage: string } | { notInImage: string }> = {
  ip: { apt: 'iproute2' }, // plugin/netns/ip.ts: links, addresses, routes
  nft: { apt: 'nftables' }, // controller/clustersetip/loadBalancer.ts
  wg: { apt: 'wireguard-tools' }, // controller/wireguard/kernel.ts
  nsenter: { essential: 'util-linux' }, // plugin/netns/exec.ts: commands in a pod's netns
  sh: { essential: 'dash' }, // controller/wireguard/kernel.ts: cat | wg syncconf
  cat: { essential: 'coreutils' },
  'wireguard-go': { stage: 'wireguard-go' }, // controller/wireguard/wireguardGo.ts
  // controller/cli/main.ts: only `fleetctl join --run`, on the user's machine with the user's helm and chart
  // repository; in the image, `fleetctl join` prints the helm command instead.
  helm: { notInImage: 'fleetctl join --run' },
};

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Dockerfile text → stages of instructions, continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    // Comments, and empty lines inside a continuation, are dropped as Docker drops them.
    if (/^\s*#/.test(line) || (pending !== '' && line.trim() === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (whole !== '') lines.push(whole);
  }
  const stages: Stage[] = [];
  for (const line of lines) {
    const m = /^(\S+)\s*(.*)$/.exec(line);
    const keyword = (m?.[1] ?? '').toUpperCase();
    const args = m?.[2] ?? '';
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      assert.ok(from?.[1], `FROM ${args} is readable`);
      stages.push({ image: from[1], name: from[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    assert.ok(stage, `${keyword} comes after a FROM`);
    stage.instructions.push({ keyword, args });
  }
  return stages;
}

const dockerfile = async () => parseDockerfile(await readFile(join(repoRoot, 'Dockerfile'), 'utf8'));

const runs = (stage: Stage) => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);

/** COPY instructions as [--from stage or undefined, sources, destination]. */
function copies(stage: Stage): { from: string | undefined; sources: string[]; dest: string }[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((w) => !w.startsWith('--'));
      return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' };
    });
}

function stages(all: Stage[]): { build: Stage; wireguardGo: Stage; final: Stage } {
  const build = all.find((s) => s.name === 'build');
  const wireguardGo = all.find((s) => s.name === 'wireguard-go');
  const final = all.at(-1);
  assert.ok(build && wireguardGo && final, 'stages build, wireguard-go and a final one');
  return { build, wireguardGo, final };
}

/** The wrappers of the final stage: command name → entry point under dist/. */
function wrappers(final: Stage): Map<string, string> {
  const loop = runs(final).find((r) => r.includes('/usr/local/bin/$name'));
  assert.ok(loop, 'a RUN writes the command wrappers to /usr/local/bin');
  assert.match(loop, /printf '#!\/bin\/sh\\nexec node \/app\/dist\/%s "\$@"\\n' "\$entry"/, 'each wrapper execs node on its entry point');
  assert.match(loop, /chmod 0755 "\/usr\/local\/bin\/\$name"/);
  return new Map([...loop.matchAll(/\b([a-z][a-z-]*)=([\w/.-]+\.js)\b/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
}

/** The containers of every workload the charts render, with their pod spec. */
async function chartContainers(): Promise<{ where: string; container: V1Container; pod: V1PodSpec }[]> {
  const ca = Buffer.from('-----BEGIN CERTIFICATE-----').toString('base64');
  const objects = [
    ...(await renderChart('fleetboard', 'fleetboard-system', { tunnel: { endpoint: '203.0.113.10' } })),
    ...(await renderChart('fleetboard-agent', 'fleetboard-system', {
      hub: { hubURL: 'https://203.0.113.10:6443', bootstrapToken: 'abcdef.0123456789abcdef', ca },
      cluster: { clusterID: 'cluster1' },
      tunnel: { endpoint: '198.51.100.7' },
      crossdns: { customZones: ['shared.example'] },
    })),
  ] as (KubernetesObject & { spec?: { template?: { spec?: V1PodSpec }; jobTemplate?: { spec?: { template?: { spec?: V1PodSpec } } } } })[];
  return objects.flatMap((o) => {
    const pod = o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec?.template?.spec;
    if (!pod) return [];
    return [...(pod.initContainers ?? []), ...pod.containers].map((container) => ({ where: `${o.kind ?? ''} ${o.metadata?.name ?? ''}/${container.name}`, container, pod }));
  });
}

test('the build stage compiles every source tsconfig includes and keeps only production dependencies', async () => {
  const { build } = stages(await dockerfile());
  assert.equal(build.image, BASE);
  const commands = runs(build).join(' && ');
  assert.match(commands, /\bnpm ci\b/);
  assert.match(commands, /\bnpx tsc -p tsconfig\.json\b/);
  assert.match(commands, /\bnpm prune --omit=dev\b/);
  assert.ok(commands.indexOf('npx tsc') < commands.indexOf('npm prune'), 'prunes after compiling');
  const copied = copies(build).flatMap((c) => c.sources.map((s) => s.replace(/\/$/, '')));
  for (const file of ['package.json', 'package-lock.json', 'tsconfig.json']) assert.ok(copied.includes(file), `the build stage copies ${file}`);
  const tsconfig = JSON.parse(await readFile(join(repoRoot, 'tsconfig.json'), 'utf8')) as { include: string[] };
  for (const pattern of tsconfig.include) {
    const dir = pattern.split('/')[0] ?? '';
    assert.ok(copied.includes(dir), `the build stage copies ${dir}/ (tsconfig includes ${pattern})`);
  }
});

test('every command the charts run has a wrapper, and every container runs this image', async () => {
  const { final } = stages(await dockerfile());
  const commands = wrappers(final);
  const chartVersion = /^appVersion:\s*"?([^"\s]+)"?/m;
  for (const chart of ['fleetboard', 'fleetboard-agent']) {
    const values = await readFile(join(repoRoot, 'charts', chart, 'values.yaml'), 'utf8');
    assert.match(values, new RegExp(`^  repository: ${IMAGE}$`, 'm'), `${chart} uses ${IMAGE}`);
    assert.ok(chartVersion.exec(await readFile(join(repoRoot, 'charts', chart, 'Chart.yaml'), 'utf8')), `${chart} has an appVersion (the image tag)`);
  }
  const containers = await chartContainers();
  assert.ok(containers.length >= 4, 'the charts run the hub, plugin, controller and crossdns');
  const run = new Set<string>();
  for (const { where, container } of containers) {
    assert.match(container.image ?? '', new RegExp(`^${IMAGE}:`), `${where} runs ${IMAGE}`);
    const command = (container.command ?? container.args ?? [])[0];
    assert.ok(command, `${where} names its command`);
    run.add(command);
    assert.ok(commands.has(command), `${where} runs ${command}: the image needs a wrapper for it`);
  }
  assert.deepEqual([...run].sort(), ['fleetboard-controller', 'fleetboard-crossdns', 'fleetboard-hub', 'fleetboard-plugin']);
  assert.ok(commands.has('fleetctl'), 'the image carries fleetctl');
  assert.ok(commands.has('fleetboard-bench'), 'the image carries the pods of fleetctl benchmark');
});

test('every wrapper names a compiled source and the final stage copies it', async () => {
  const { build, final } = stages(await dockerfile());
  const workdir = final.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args;
  assert.equal(workdir, '/app', 'the wrappers run /app/dist/…');
  const fromBuild = copies(final).filter((c) => c.from === build.name);
  for (const [command, entry] of wrappers(final)) {
    const source = entry.replace(/\.js$/, '.ts');
    assert.ok(existsSync(join(repoRoot, source)), `${command} runs dist/${entry}, compiled from ${source}, which must exist`);
    const top = entry.split('/')[0] ?? '';
    assert.ok(
      fromBuild.some((c) => c.sources.includes(`/app/dist/${top}/`) && c.dest === `dist/${top}/`),
      `the final stage copies dist/${top}/ from the build stage (for ${command})`,
    );
  }
  const all = copies(final);
  assert.ok(all.some((c) => c.from === build.name && c.sources.includes('/app/node_modules/')), 'the final stage copies the pruned node_modules');
  // dist/ is ESM: node needs package.json's "type": "module" above it.
  assert.ok(all.some((c) => c.sources.some((src) => src.endsWith('package.json')) && c.dest === './'), 'the final stage copies package.json beside dist/');
  // proto/load.ts finds the .proto files in a proto/ folder above dist/.
  assert.ok(all.some((c) => c.from === undefined && c.sources.includes('proto/') && c.dest === 'proto/'), 'the final stage copies proto/ beside dist/');
});

test('every program the components start is in the final image', async () => {
  const { final, wireguardGo } = stages(await dockerfile());
  assert.equal(final.image, BASE, `the final stage is ${BASE} (Debian 12: util-linux, dash and coreutils are essential there)`);
  const installed = runs(final).flatMap((r) => [...r.matchAll(/apt-get install((?:\s+[^\s&;]+)+)/g)].flatMap((m) => (m[1] ?? '').trim().split(/\s+/).filter((w) => !w.startsWith('-'))));
  const needed = Object.values(SPAWNED).flatMap((how) => ('apt' in how ? [how.apt] : []));
  assert.deepEqual([...installed].sort(), [...new Set(needed)].sort(), 'apt-get installs exactly the packages of the programs the code starts');
  for (const [program, how] of Object.entries(SPAWNED)) {
    if (!('stage' in how)) continue;
    assert.equal(wireguardGo.name, how.stage);
    assert.ok(
      copies(final).some((c) => c.from === how.stage && c.dest === `/usr/local/bin/${program}`),
      `the final stage copies ${program} from stage ${how.stage} onto PATH`,
    );
  }
  // wireguard-go is the release the testbed builds: the same pinned module.
  assert.match(wireguardGo.image, /^golang:[\w.-]*bookworm$/);
  const wgCopy = copies(wireguardGo).find((c) => c.sources.includes('hack/tools/wireguard-go/go.mod'));
  assert.ok(wgCopy?.sources.includes('hack/tools/wireguard-go/go.sum'), 'the wireguard-go stage builds from hack/tools/wireguard-go/go.mod and go.sum');
  assert.match(runs(wireguardGo).join(' '), /go build .*-o \/out\/wireguard-go golang\.zx2c4\.com\/wireguard\b/);
});

test('the programs the sources start are the ones listed above', async () => {
  const found = new Map<string, string>();
  const patterns = [
    /\bexecIn\(\s*[^,()]+,\s*'([^']+)'/g, // execIn(target, 'ip', …)
    /\.run\(\s*'[A-Z_]+',\s*'([^']+)'/g, // KernelWireGuardDevice.run(code, 'wg', …)
    /\b(?:spawn|spawnSync|execFile|execFileSync|exec|execSync|fork)\(\s*'([^']+)'/g,
    /\bnetnsArgv\(\s*[^,()]+,\s*(?:[^,()]*\?\?\s*)?'([^']+)'/g, // netnsArgv(opts, binary ?? 'wireguard-go', …)
    /\[\s*'([\w-]+)',\s*\[/g, // a [command, [args]] pair, as netnsArgv returns for nsenter
    /'([\w-]+) \| ([\w-]+) /g, // a shell pipeline in a string: 'cat | wg …'
  ];
  const sources: string[] = [];
  for (const dir of ['controller', 'plugin', 'proto']) {
    for (const file of await readdir(join(repoRoot, dir), { recursive: true })) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      const text = await readFile(join(repoRoot, dir, file), 'utf8');
      sources.push(text);
      for (const pattern of patterns) {
        for (const m of text.matchAll(pattern)) for (const program of m.slice(1)) if (program) found.set(program, posix.join(dir, file));
      }
    }
  }
  for (const [program, file] of found) assert.ok(program in SPAWNED, `${file} starts ${program}: install it in the image and list it in SPAWNED`);
  const all = sources.join('\n');
  for (const program of Object.keys(SPAWNED)) {
    const quoted = new RegExp(`['"\`|]\\s*${program.replace(/[-]/g, '\\-')}[\\s'"\`]`);
    assert.ok(quoted.test(all), `SPAWNED lists ${program}, which no source starts any more: drop it from the list and the image`);
  }
});

test('the image keeps the user the charts rely on, and the build context leaves out local state', async () => {
  const { final } = stages(await dockerfile());
  const user = final.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args;
  assert.ok(user === undefined || user === '0' || user === 'root', 'root: the privileged cnf and hub containers need uid 0 for their capabilities');
  for (const { where, container, pod } of await chartContainers()) {
    const nonRoot = container.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
    const uid = container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
    if (nonRoot) assert.ok(uid !== undefined && uid !== 0, `${where} sets runAsNonRoot, so it needs a runAsUser: the image's user is root`);
    if (uid !== undefined && uid !== 0) assert.ok(!container.securityContext?.privileged, `${where} is privileged as uid ${uid}, which gets no capabilities`);
  }
  const ignore = (await readFile(join(repoRoot, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim().replace(/^\/|\/$/g, '')).filter((l) => l !== '' && !l.startsWith('#'));
  for (const entry of ['node_modules', 'dist', '.cache', '.testbed', '.git']) assert.ok(ignore.includes(entry), `.dockerignore leaves out ${entry}`);
  for (const stage of parseDockerfile(await readFile(join(repoRoot, 'Dockerfile'), 'utf8'))) {
    for (const c of copies(stage).filter((x) => x.from === undefined)) {
      for (const source of c.sources) assert.ok(!ignore.includes(source.split('/')[0] ?? ''), `${source} is copied from the context but .dockerignore leaves it out`);
    }
  }
});
