import { parseArgs } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { join } from 'node:path';
import { waitForReadyPods } from '../../test/harness/cluster.js';
import { fleetctl } from '../../test/harness/fleetctl.js';
import { waitFor } from '../../test/harness/wait.js';
import { run } from '../../test/harness/run.js';
import { repoRoot, toolPath } from '../../test/harness/tools.js';
import { down, kubeConfigFor, up } from '../testbed/testbed.js';
import { installHub, joinMember } from '../../test/harness/clusterset.js';
import { MCS_GROUP, MCS_VERSION } from '../../controller/mcs/api.js';
import { decodeObject } from '../../controller/objects/decode.js';
import { ServiceImportKind } from '../../controller/objects/mcs.js';
import { testbedPaths } from '../testbed/paths.js';
import type { ClustersetView } from '../../controller/cli/clustersetView.js';

const SEED_NAME = 'nginx-svc.default.svc.hyperos.local';
const EXAMPLE = join('examples', 'nginx-deploy.yaml');

/** kubectl against a testbed cluster, as the README has users run it. */
async function kubectl(cluster: string, ...args: string[]): Promise<string> {
  return (await run(toolPath('kubectl'), ['--kubeconfig', testbedPaths().kubeconfig(cluster), ...args], { timeoutMs: 60_000 })).stdout;
}

/**
 * The local demo: brings up the testbed of real nodes (hub + 2 member clusters
 * behind NAT), installs FleetBoard from its charts and image with helm, applies
 * the seed example in both members and fetches its page from cluster2 by the
 * seed's name, with the seed's own kubectl exec line.
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

async function demo(): Promise<number> {
  await step(
    'bringing up the testbed: hub + cluster1 + cluster2, 2 real nodes each (kubelet, containerd with NRI)',
    () => up({ clusters: 2, nodes: 2, realNodes: true, onProgress: (l) => console.log(`    ${l}`) }),
    'run "npm run demo -- down" to clear a half-made testbed, then retry; the daemon log is in .cache/testbed-failed.log',
  );
  const hub = kubeConfigFor('hub');
  const token = await step(
    'helm install fleetboard in the hub (CRDs, join approval, WireGuard router behind NodePort 31820)',
    () => installHub(hub, { nodes: 2 }),
    '.cache/bin/kubectl --kubeconfig .testbed/hub.kubeconfig -n fleetboard-system describe pods, and logs -l fleetboard.io/role=hub-cnf',
  );
  await step(
    'helm install fleetboard-agent (cnf DaemonSet: NRI plugin + controller) in cluster1 and cluster2; both join the hub',
    async () => {
      for (const name of ['cluster1', 'cluster2']) await joinMember(kubeConfigFor(name), hub, name, token, 2);
    },
    '.cache/bin/kubectl --kubeconfig .testbed/cluster1.kubeconfig -n fleetboard-system logs -l fleetboard.io/role=cnf -c controller, and the JoinRequests in the hub',
  );
  const cluster2 = kubeConfigFor('cluster2');
  await step(
    `the seed example: kubectl apply -f ${EXAMPLE} in cluster1 and cluster2 (Deployment nginx-app, Service nginx-svc, ServiceExport)`,
    async () => {
      for (const name of ['cluster1', 'cluster2']) await kubectl(name, 'apply', '-f', join(repoRoot, EXAMPLE));
      for (const name of ['cluster1', 'cluster2']) await waitForReadyPods(kubeConfigFor(name), 'default', 'app=nginx-app', 2, 180_000);
    },
    '.cache/bin/kubectl --kubeconfig .testbed/cluster1.kubeconfig describe pods -l app=nginx-app shows why a pod does not start',
  );
  const clusterSetIp = await step(
    'cluster2 imports nginx-svc: FleetBoard creates its ServiceImport with a ClusterSetIP',
    () =>
      waitFor(
        async () => {
          const i = decodeObject(ServiceImportKind, await cluster2.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceimports', namespace: 'default', name: 'nginx-svc' }));
          return i.spec.ips[0];
        },
        { what: 'ServiceImport default/nginx-svc in cluster2', timeoutMs: 60_000, intervalMs: 500 },
      ),
    'kubectl --kubeconfig .testbed/cluster1.kubeconfig get serviceexport nginx-svc -o yaml shows the export\'s conditions; npm run fleetctl -- --kubeconfig .testbed/hub.kubeconfig show',
  );
  const pod = (await kubectl('cluster2', 'get', 'pods', '-l', 'app=nginx-app', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
  const page = await step(
    `cluster2: kubectl exec ${pod} -c alpine -- curl ${SEED_NAME} (ClusterSetIP ${clusterSetIp})`,
    () => waitFor(() => kubectl('cluster2', 'exec', pod, '-c', 'alpine', '--', 'curl', '-sSf', '--max-time', '5', SEED_NAME), { what: `${SEED_NAME} to answer in cluster2`, timeoutMs: 60_000, intervalMs: 1000 }),
    'npm run fleetctl -- --kubeconfig .testbed/hub.kubeconfig verify --member .testbed/cluster1.kubeconfig --member .testbed/cluster2.kubeconfig says which part fails',
  );
  console.log(`\n${page}`);
  const hubFile = testbedPaths().kubeconfig('hub');
  await step(
    'the hub reports both members connected and their gateways a recent handshake (each writes its status every 10 s)',
    () =>
      waitFor(
        async () => {
          const view = JSON.parse((await fleetctl(['--kubeconfig', hubFile, '-o', 'json', 'show'])).stdout) as ClustersetView;
          return view.clusters.every((c) => c.connected) && view.tunnels.every((t) => t.up) ? true : undefined;
        },
        { what: 'every cluster connected in fleetctl show', timeoutMs: 60_000, intervalMs: 1000 },
      ),
    'npm run -s fleetctl -- --kubeconfig .testbed/hub.kubeconfig show says which member is not connected; its cnf pods\' controller logs say why',
  );
  console.log(`==> fleetctl show\n`);
  const show = await fleetctl(['--kubeconfig', hubFile, 'show']);
  process.stdout.write(show.stdout + show.stderr);
  console.log(`\nThe testbed stays up. Explore it:
  .cache/bin/kubectl --kubeconfig .testbed/cluster2.kubeconfig exec ${pod} -c alpine -- curl -s ${SEED_NAME}
  npm run testbed -- exec cluster2 default/${pod} -- dig +short ${SEED_NAME}
  npm run -s fleetctl -- --kubeconfig .testbed/hub.kubeconfig show
  npm run -s fleetctl -- --kubeconfig .testbed/hub.kubeconfig verify --member .testbed/cluster1.kubeconfig --member .testbed/cluster2.kubeconfig
  .cache/bin/kubectl --kubeconfig .testbed/cluster2.kubeconfig get serviceimports -A
  .cache/bin/kubectl --kubeconfig .testbed/cluster1.kubeconfig get pods -A -o wide
Tear it down:
  npm run demo -- down`);
  return show.code;
}

async function main(): Promise<number> {
  const { positionals } = parseArgs({ allowPositionals: true });
  if (positionals[0] === 'down') {
    const r = await down();
    console.log(r.wasUp ? `demo removed: ${r.netns} network namespaces, ${r.links} host links` : 'nothing to remove');
    return 0;
  }
  return demo();
}

main().then(
  (code) => process.exit(code),
  () => process.exit(1),
);
