import { parseArgs } from 'node:util';
import { createClientPod, createNginxApp, waitForReadyPods, waitForServiceEndpoints } from '../../test/harness/cluster.js';
import { waitFor } from '../../test/harness/wait.js';
import { runIn } from '../../test/harness/run.js';
import { down, kubeConfigFor, podNetns, up } from '../testbed/testbed.js';
import { installHub, joinMember } from '../../test/harness/clusterset.js';
import { decodePodNetwork } from '../../controller/ipam/annotations.js';

/**
 * The local demo: brings up the testbed (hub + 2 member clusters), runs the
 * seed example's server in cluster1 and fetches its page from another pod
 * through cluster DNS. Cross-cluster steps join as FleetBoard grows.
 */
async function step<T>(title: string, fn: () => Promise<T>, fix: string): Promise<T> {
  const started = Date.now();
  console.log(`==> ${title}`);
  try {
    const result = await fn();
    console.log(`    done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } catch (err) {
    console.error(`\nFAILED: ${title}: ${err instanceof Error ? err.message : String(err)}\n  fix: ${fix}`);
    throw err;
  }
}

async function demo(): Promise<void> {
  await step(
    'bringing up the testbed: hub + cluster1 + cluster2, 2 nodes each',
    () => up({ clusters: 2, nodes: 2, onProgress: (l) => console.log(`    ${l}`) }),
    'run "npm run demo -- down" to clear a half-made testbed, then retry; the daemon log is in .cache/testbed-failed.log',
  );
  const cluster1 = kubeConfigFor('cluster1');
  const hub = kubeConfigFor('hub');
  const token = await step(
    'installing the FleetBoard hub (CRDs, join approval, WireGuard router behind NodePort 31820)',
    () => installHub(hub, { nodes: 2 }),
    'look at the hub cnf pods\' logs under .testbed/run/pods/<uid>/containers/hub/',
  );
  await step(
    'installing the FleetBoard agent (cnf DaemonSet: NRI plugin + controller) in cluster1 and cluster2; both join the hub',
    async () => {
      for (const name of ['cluster1', 'cluster2']) await joinMember(kubeConfigFor(name), hub, name, token, 2);
    },
    'look at the cnf pods\' logs under .testbed/run/pods/<uid>/containers/controller/ and the JoinRequests in the hub',
  );
  await step(
    'cluster1: Deployment nginx-app (3 replicas), Service nginx-svc, client pod',
    async () => {
      await createNginxApp(cluster1);
      await createClientPod(cluster1, 'client');
      await waitForReadyPods(cluster1, 'default', 'app=nginx-app', 3);
      await waitForReadyPods(cluster1, 'default', 'app=client', 1);
    },
    'look at .testbed/daemon.log for the node agent\'s reason',
  );
  const page = await step(
    'cluster1 client: curl http://nginx-svc.default.svc.cluster.local',
    async () => {
      await waitForServiceEndpoints(cluster1, 'default', 'nginx-svc', 3);
      const netns = await podNetns('cluster1', 'default', 'client');
      const curl = () => runIn(netns, 'curl', ['-sf', '--max-time', '5', 'http://nginx-svc.default.svc.cluster.local']);
      return (await waitFor(curl, { what: 'nginx-svc to answer', timeoutMs: 30_000, intervalMs: 500 })).stdout;
    },
    'check CoreDNS and kube-proxy pods in kube-system (.cache/bin/kubectl --kubeconfig .testbed/cluster1.kubeconfig get pods -A)',
  );
  const second = await step(
    'cluster1 client: its second interface eth-fleet',
    async () => {
      const netns = await podNetns('cluster1', 'default', 'client');
      const show = () => runIn(netns, 'ip', ['-br', 'addr', 'show', 'dev', 'eth-fleet']);
      return (await waitFor(show, { what: 'eth-fleet in the client pod', timeoutMs: 30_000, intervalMs: 500 })).stdout;
    },
    'see the plugin log of the cnf pod on the client\'s node (.testbed/run/pods/<uid>/containers/plugin/)',
  );
  const remote = await step(
    'cluster2: a client pod curls an nginx pod of cluster1 by its global address, through the hub',
    async () => {
      const cluster2 = kubeConfigFor('cluster2');
      await createClientPod(cluster2, 'client');
      await waitForReadyPods(cluster2, 'default', 'app=client', 1);
      const [server] = await waitForReadyPods(cluster1, 'default', 'app=nginx-app', 3);
      const ip = decodePodNetwork(server?.metadata?.annotations)?.ipAddress ?? '';
      const netns = await podNetns('cluster2', 'default', 'client');
      const curl = () => runIn(netns, 'curl', ['-sf', '--max-time', '5', `http://${ip}/`]);
      const page = (await waitFor(curl, { what: `${ip} in cluster1 to answer`, timeoutMs: 30_000, intervalMs: 500 })).stdout;
      return `${ip}: ${/<title>(.*)<\/title>/.exec(page)?.[1] ?? page.slice(0, 80)}`;
    },
    'kubectl --kubeconfig .testbed/hub.kubeconfig get peers -A shows whether both clusters are Connected',
  );
  console.log(`\n${page}`);
  console.log(`client pod, second interface: ${second.trim()}`);
  console.log(`cluster2 client → cluster1 nginx pod ${remote}\n`);
  console.log(`The testbed stays up. Explore it:
  .cache/bin/kubectl --kubeconfig .testbed/cluster1.kubeconfig get pods -A -o wide
  .cache/bin/kubectl --kubeconfig .testbed/hub.kubeconfig get peers -A
  npm run testbed -- exec cluster1 default/client -- curl -s nginx-svc
  npm run testbed -- exec cluster1 default/client -- ip addr show eth-fleet
Tear it down:
  npm run demo -- down`);
}

async function main(): Promise<number> {
  const { positionals } = parseArgs({ allowPositionals: true });
  if (positionals[0] === 'down') {
    const r = await down();
    console.log(r.wasUp ? `demo removed: ${r.netns} network namespaces, ${r.links} host links` : 'nothing to remove');
    return 0;
  }
  await demo();
  return 0;
}

main().then(
  (code) => process.exit(code),
  () => process.exit(1),
);
