import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { testbedControl } from './control.js';
import { testbedPaths } from './paths.js';
import { inNetns } from '../../test/harness/run.js';
import { down, podNetns, testbedStatus, up } from './testbed.js';

const USAGE = `usage: npm run testbed -- <command>

  up [--clusters N] [--nodes M] [--real-nodes]
                                  hub + N member clusters (default 2) of M nodes (default 2);
                                  --real-nodes: a kubelet and containerd per node
  exec <cluster> <ns>/<pod> -- <cmd…>   run a command in a pod's network namespace
  apiserver stop|start <cluster>  stop or start a cluster's kube-apiserver (to try faults)
  nri-restart <cluster> <node>    kill a node's NRI runtime and start it again
  status                          show whether a testbed is up
  down                            remove every namespace, process and file the testbed made
`;

async function cmdUp(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { clusters: { type: 'string', default: '2' }, nodes: { type: 'string', default: '2' }, 'real-nodes': { type: 'boolean', default: false } } });
  const started = Date.now();
  process.once('SIGINT', () => {
    console.error('\ninterrupted: tearing the testbed down…');
    void down().finally(() => process.exit(130));
  });
  const status = await up({ clusters: Number(values.clusters), nodes: Number(values.nodes), realNodes: values['real-nodes'], onProgress: (l) => console.log(l) });
  const paths = testbedPaths();
  console.log(`\ntestbed up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const c of status.plan.clusters) console.log(`  ${c.name.padEnd(9)} KUBECONFIG=${paths.kubeconfig(c.name)}`);
  console.log('\ntry:  .cache/bin/kubectl --kubeconfig .testbed/cluster1.kubeconfig get pods -A -o wide');
  console.log('      npm run testbed -- exec cluster1 kube-system/<coredns-pod> -- dig kubernetes.default.svc.cluster.local');
  console.log('stop: npm run testbed -- down');
  return 0;
}

async function cmdExec(args: string[]): Promise<number> {
  const sep = args.indexOf('--');
  const [cluster, target] = sep >= 0 ? args.slice(0, sep) : args;
  const command = sep >= 0 ? args.slice(sep + 1) : [];
  const [namespace, name] = (target ?? '').includes('/') ? (target ?? '').split('/') : ['default', target];
  if (!cluster || !name || !namespace || command.length === 0) {
    console.error('usage: npm run testbed -- exec <cluster> <namespace>/<pod> -- <command…>');
    return 2;
  }
  const netns = await podNetns(cluster, namespace, name);
  const [file = '', ...rest] = command;
  const [program, argv] = inNetns(netns, file, rest);
  const child = spawn(program, argv, { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
}

async function cmdDown(): Promise<number> {
  const r = await down();
  if (!r.wasUp && r.netns === 0 && r.processes === 0) {
    console.log('no testbed is up; nothing to remove');
    return 0;
  }
  console.log(`testbed down: removed ${r.netns} network namespaces, ${r.links} host links, ${r.processes} leftover processes, ${r.paths} mount points`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      return cmdUp(rest);
    case 'exec':
      return cmdExec(rest);
    case 'down':
      return cmdDown();
    case 'apiserver': {
      const [verb, cluster] = rest;
      if ((verb !== 'stop' && verb !== 'start') || !cluster) break;
      await testbedControl(testbedPaths().controlSocket, { kind: 'apiserver', cluster, verb });
      console.log(`${cluster} kube-apiserver ${verb === 'stop' ? 'stopped' : 'started and ready'}`);
      return 0;
    }
    case 'nri-restart': {
      const [cluster, node] = rest;
      if (!cluster || !node) break;
      await testbedControl(testbedPaths().controlSocket, { kind: 'nri-restart', cluster, node });
      console.log(`${cluster}/${node}: NRI runtime restarted`);
      return 0;
    }
    case 'status': {
      const s = testbedStatus();
      console.log(s ? `testbed ${s.phase} (daemon pid ${s.pid}, clusters: ${s.plan.clusters.map((c) => c.name).join(', ')})` : 'no testbed is up');
      return 0;
    }
    default:
      console.error(USAGE);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`testbed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
