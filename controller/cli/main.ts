#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { Command, CommanderError, Option } from 'commander';
import { apiErrorDetail } from '../kube/apiErrors.js';
import { parseDuration } from './bootstrapToken.js';
import { renderChecks, type CheckResult } from './checks.js';
import { clustersetView, renderClusterset } from './clustersetView.js';
import { readHubState } from './hubState.js';
import { AGENT_CHART, AGENT_NAMESPACE, checkClusterIdFree, helmJoinArgs, hubMaterial, shellCommand } from './join.js';
import { loadKubeConfig, memberAccesses, type ClusterAccess } from './kubeconfig.js';
import { readMemberInfo } from './memberInfo.js';
import { removeMember, renderRemoved } from './removeMember.js';
import { benchmark } from './benchmark.js';
import { renderBenchmark } from './benchmarkPlan.js';
import { readClockOffset, readMemberFacts } from './diagnoseFacts.js';
import { clockChecks, dnsForwardingChecks, handshakeChecks, mtuChecks, nriChecks, overlapChecks } from './diagnoseRules.js';
import { table } from './table.js';
import { createToken, listTokens, revokeToken } from './tokens.js';
import { verify } from './verify.js';

/** fleetctl: the users' tool. Human output by default, `-o json` for scripts; exit 1 when something failed, 2 on bad usage. */
interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  output: 'text' | 'json';
}

const collect = (value: string, previous: string[]) => [...previous, value];

function hubAccess(cmd: Command): { access: ClusterAccess; output: GlobalOptions['output'] } {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  return { access: { kubeconfig: g.kubeconfig, context: g.context }, output: g.output };
}

const print = (output: GlobalOptions['output'], json: unknown, text: () => string) => process.stdout.write(output === 'json' ? `${JSON.stringify(json, null, 2)}\n` : text());

function checksExit(output: GlobalOptions['output'], results: CheckResult[]): void {
  print(output, { passed: results.filter((r) => r.ok).length, failed: results.filter((r) => !r.ok).length, checks: results }, () => renderChecks(results));
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

/** The member clusters a command works on: repeated `--member <kubeconfig>` and `--member-context <name>`. */
const withMemberFlags = (cmd: Command): Command =>
  cmd
    .option('--member <kubeconfig>', 'kubeconfig of a member cluster (repeat for each)', collect, [])
    .option('--member-context <name>', 'context of a member cluster in the hub\'s kubeconfig file (repeat for each)', collect, []);

const readMembers = (o: { member: string[]; memberContext: string[] }, access: ClusterAccess) =>
  Promise.all(memberAccesses(o.member, o.memberContext, access.kubeconfig).map((a) => readMemberInfo(loadKubeConfig(a, 'member'))));

function program(): Command {
  const root = new Command('fleetctl')
    .description('Manage and check a FleetBoard clusterset. Commands that read the clusterset talk to the hub cluster.')
    .option('--kubeconfig <file>', 'kubeconfig of the hub cluster (default: $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'context of the hub cluster in that kubeconfig')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .showHelpAfterError()
    .exitOverride();

  const token = root.command('hub').description('the hub cluster').command('token').description('join tokens: bootstrap tokens members join with');
  token
    .command('create')
    .description('create a join token')
    .option('--ttl <duration>', 'how long the token may be used to join, e.g. 30m, 24h, 7d', '24h')
    .option('--description <text>', 'what the token is for')
    .action(async (o: { ttl: string; description?: string }, cmd: Command) => {
      const { access, output } = hubAccess(cmd);
      const t = await createToken(loadKubeConfig(access, 'hub'), parseDuration('ttl', o.ttl), o.description);
      print(output, t, () => `${t.token}\nexpires ${t.expires.toISOString()}; join a cluster with: fleetctl join <cluster-id> --token ${t.token}\n`);
    });
  token
    .command('list')
    .description('list join tokens (never their secret half)')
    .action(async (_o: unknown, cmd: Command) => {
      const { access, output } = hubAccess(cmd);
      const tokens = await listTokens(loadKubeConfig(access, 'hub'));
      print(output, tokens, () =>
        tokens.length === 0
          ? 'no join tokens; create one with: fleetctl hub token create\n'
          : `${table(['ID', 'EXPIRES', 'STATE', 'DESCRIPTION'], tokens.map((t) => [t.id, t.expires?.toISOString() ?? 'never', t.expired ? 'expired' : 'valid', t.description]))}\n`,
      );
    });
  token
    .command('revoke')
    .description('delete a join token; clusters that joined with it keep working')
    .argument('<token-or-id>', 'the token, or its id (the part before the dot)')
    .action(async (tokenOrId: string, _o: unknown, cmd: Command) => {
      const { access, output } = hubAccess(cmd);
      const id = await revokeToken(loadKubeConfig(access, 'hub'), tokenOrId);
      print(output, { revoked: id }, () => `revoked join token ${id}\n`);
    });

  root
    .command('join')
    .description('print (or run with --run) the helm command that installs the agent in a member and joins it to the hub')
    .argument('<cluster-id>', 'a name for the member, unique in the clusterset (e.g. cluster1)')
    .option('--token <token>', 'join token (default: create one valid for --ttl)')
    .option('--ttl <duration>', 'lifetime of a token created for this join', '24h')
    .option('--hub-url <url>', 'the hub apiserver as members reach it (default: the hub kubeconfig\'s server)')
    .option('--chart <ref>', 'the agent chart: repo/name or a local path', AGENT_CHART)
    .option('--namespace <ns>', 'namespace of the agent in the member', AGENT_NAMESPACE)
    .option('--set <key=value>', 'a further chart value (repeatable), e.g. tunnel.endpoint=203.0.113.7', collect, [])
    .option('--rejoin', 'the cluster ID is this cluster\'s own: skip the check that it is free')
    .option('--run', 'run helm against the member cluster instead of printing the command')
    .option('--member <kubeconfig>', 'kubeconfig of the member cluster (with --run)')
    .option('--member-context <name>', 'context of the member cluster (with --run)')
    .action(async (clusterID: string, o: { token?: string; ttl: string; hubUrl?: string; chart: string; namespace: string; set: string[]; rejoin?: boolean; run?: boolean; member?: string; memberContext?: string }, cmd: Command) => {
      const { access, output } = hubAccess(cmd);
      const hub = loadKubeConfig(access, 'hub');
      if (!o.rejoin) await checkClusterIdFree(hub, clusterID);
      const material = await hubMaterial(hub, o.hubUrl);
      const joinToken = o.token ?? (await createToken(hub, parseDuration('ttl', o.ttl), `join of ${clusterID}`)).token;
      const args = helmJoinArgs({ ...material, clusterID, token: joinToken }, { chart: o.chart, namespace: o.namespace, extraSets: o.set });
      if (!o.run) {
        print(output, { command: ['helm', ...args] }, () => `# with the kubeconfig of member cluster ${clusterID}:\n${shellCommand(['helm', ...args])}\n`);
        return;
      }
      if (!o.member && !o.memberContext) throw new CommanderError(2, 'fleetctl.usage', '--run needs --member <kubeconfig> or --member-context <name>');
      const target = [...(o.member ? ['--kubeconfig', o.member] : []), ...(o.memberContext ? ['--kube-context', o.memberContext] : [])];
      const code = await new Promise<number>((resolve) => spawn('helm', [...args, ...target], { stdio: ['ignore', output === 'json' ? 'ignore' : 'inherit', 'inherit'] }).on('close', (c) => resolve(c ?? 1)).on('error', () => resolve(127)));
      print(output, { clusterID, helmExitCode: code }, () => (code === 0 ? `${clusterID} is joining; watch it with: fleetctl show\n` : `helm failed (exit ${code})\n`));
      if (code !== 0) process.exitCode = 1;
    });

  root
    .command('remove')
    .description('remove a member from the clusterset: the hub stops routing it, every member drops its exports, its hub credentials stop working and its CIDR is freed')
    .argument('<cluster-id>', 'the member to remove')
    .option('--no-wait', 'return once the removal has started, without waiting for it to finish')
    .option('--timeout <duration>', 'how long to wait for the removal', '2m')
    .action(async (clusterID: string, o: { wait: boolean; timeout: string }, cmd: Command) => {
      const { access, output } = hubAccess(cmd);
      const removed = await removeMember(loadKubeConfig(access, 'hub'), clusterID, { wait: o.wait, timeoutMs: parseDuration('timeout', o.timeout) });
      print(output, removed, () => renderRemoved(removed));
    });

  root
    .command('show')
    .description('clusters, CIDRs, gateways, tunnels (last handshake, bytes) and exported services, as the hub sees them')
    .action(async (_o: unknown, cmd: Command) => {
      const { access, output } = hubAccess(cmd);
      const state = await readHubState(loadKubeConfig(access, 'hub'));
      for (const problem of state.unreadable) process.stderr.write(`warning: ${problem}\n`);
      const view = clustersetView(state.peers, state.services, state.slices);
      print(output, view, () => renderClusterset(view));
    });

  withMemberFlags(root.command('verify'))
    .description('check connectivity and DNS between every pair of member clusters, with real pods; exits 1 if any check fails')
    .option('--server-image <image>', 'image of the test server (serves HTTP on port 80)', 'nginx:1.27')
    .option('--client-image <image>', 'image of the probe pods (curl as entrypoint)', 'curlimages/curl:8.11.1')
    .option('--timeout <duration>', 'how long each stage may take', '2m')
    .option('--keep', 'keep the test namespace afterwards')
    .action(async (o: { member: string[]; memberContext: string[]; serverImage: string; clientImage: string; timeout: string; keep?: boolean }, cmd: Command) => {
      const { access, output } = hubAccess(cmd);
      const hub = loadKubeConfig(access, 'hub');
      const members = await readMembers(o, access);
      const results = await verify(hub, members, {
        images: { server: o.serverImage, client: o.clientImage },
        timeoutMs: parseDuration('timeout', o.timeout),
        keep: o.keep === true,
        progress: (line) => process.stderr.write(`… ${line}\n`),
      });
      checksExit(output, results);
    });
  withMemberFlags(root.command('diagnose'))
    .description('look for what is known to break FleetBoard: NRI not enabled, MTU mismatch, stale handshakes, cluster DNS not forwarding the zones, an overlapping global CIDR, clock skew; exits 1 if any check fails')
    .action(async (o: { member: string[]; memberContext: string[] }, cmd: Command) => {
      const { access, output } = hubAccess(cmd);
      const hub = loadKubeConfig(access, 'hub');
      const members = await readMembers(o, access);
      const [state, facts, clocks] = await Promise.all([
        readHubState(hub),
        Promise.all(members.map((m) => readMemberFacts(m))),
        Promise.all([readClockOffset('hub', hub), ...members.map((m) => readClockOffset(m.clusterID, m.kc))]),
      ]);
      const now = new Date();
      checksExit(output, [
        ...facts.flatMap((f) => [...nriChecks(f), ...overlapChecks(f), ...dnsForwardingChecks(f)]),
        ...handshakeChecks(state.peers, now),
        ...mtuChecks(state.peers),
        ...clockChecks(clocks),
      ]);
    });
  withMemberFlags(root.command('benchmark'))
    .description('TCP throughput and round-trip time between pods of every pair of member clusters (and within each, as a reference); exits 1 if a pair fails')
    .option('--duration <duration>', 'how long each transfer lasts', '5s')
    .option('--no-reference', 'skip the same-cluster reference measurements')
    .option('--timeout <duration>', 'how long a pod may take to start and finish', '2m')
    .action(async (o: { member: string[]; memberContext: string[]; duration: string; reference: boolean; timeout: string }, cmd: Command) => {
      const { access, output } = hubAccess(cmd);
      const members = await readMembers(o, access);
      if (members.length < 2) throw new CommanderError(2, 'fleetctl.usage', `benchmark needs at least two members (got ${members.length}): pass --member for each`);
      const results = await benchmark(members, { seconds: parseDuration('duration', o.duration) / 1000, reference: o.reference, timeoutMs: parseDuration('timeout', o.timeout), progress: (line) => process.stderr.write(`… ${line}\n`) });
      print(output, results, () => renderBenchmark(results));
      if (results.some((r) => !r.result)) process.exitCode = 1;
    });
  return root;
}

async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version end here too, with exit code 0.
      if (err.exitCode !== 0 && err.code === 'fleetctl.usage') process.stderr.write(`fleetctl: ${err.message}\n`);
      return err.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`fleetctl: ${apiErrorDetail(err)}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
