import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { decodeObject } from '../objects/decode.js';
import { PodKind, type Pod } from '../objects/core.js';
import type { Peer } from '../objects/fleetboard.js';
import { ServiceImportKind } from '../objects/mcs.js';
import { MCS_GROUP, MCS_VERSION, SERVICE_EXPORT_PLURAL, SERVICE_IMPORT_PLURAL } from '../mcs/api.js';
import { fail, pass, pollUntil, type CheckResult } from './checks.js';
import { readMemberPeer } from './hubState.js';
import type { MemberInfo } from './memberInfo.js';
import { createRunNamespace, readyPodAddress, removeRunNamespace, runNamespaceName } from './runNamespace.js';
import { probeOutcome, probeStalled, probes, serverObjects, serviceName, type MemberTarget, type VerifyImages } from './verifyPlan.js';

export interface VerifyOptions {
  images: VerifyImages;
  /** Per stage: the server pods, the imports, the probes. */
  timeoutMs: number;
  /** Keep the test namespace for a look afterwards. */
  keep: boolean;
  progress: (line: string) => void;
}

/**
 * `fleetctl verify`: connectivity and DNS between every pair of members,
 * through what users rely on (a pod's global address, ServiceExport →
 * ServiceImport, the clusterset DNS zones), with pods like theirs.
 */
export async function verify(hub: KubeConfig, members: MemberInfo[], opts: VerifyOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const deadline = Date.now() + opts.timeoutMs;
  for (const m of members) {
    const name = `${m.clusterID}: cnf ready on every node`;
    results.push(m.cnfDesired > 0 && m.cnfReady === m.cnfDesired ? pass(name, `${m.cnfReady}/${m.cnfDesired}`) : fail(name, `${m.cnfReady}/${m.cnfDesired} cnf pods ready; kubectl -n fleetboard-system describe daemonset fleetboard-cnf`));
    results.push(await hubConnection(hub, m.clusterID, deadline));
  }
  if (members.length < 2) {
    results.push(fail('clusters to verify between', `need at least two members (got ${members.length}): pass --member for each`));
    return results;
  }
  const namespace = runNamespaceName('verify');
  opts.progress(`creating namespace ${namespace} with an exported nginx server in ${members.map((m) => m.clusterID).join(', ')}`);
  try {
    const targets = await startServers(members, namespace, opts, results);
    if (targets.length === members.length) {
      await checkImports(members, namespace, opts, results);
      await runProbes(members, targets, namespace, opts, results);
    }
  } finally {
    if (!opts.keep) await removeRunNamespace(members, namespace, opts.progress);
  }
  return results;
}

/** Waits for the hub's Connected condition: right after a join the hub reports it within its status interval. */
async function hubConnection(hub: KubeConfig, clusterID: string, deadline: number): Promise<CheckResult> {
  const name = `${clusterID}: connected to the hub`;
  let peer: Peer | undefined;
  const connected = await pollUntil(async () => {
    peer = await readMemberPeer(hub, clusterID);
    const c = peer?.status.conditions.find((x) => x.type === 'Connected');
    return c?.status === 'True' ? c : undefined;
  }, deadline);
  if (connected) return pass(name, connected.message ?? 'Connected');
  if (!peer) return fail(name, `the hub has no Peer ${clusterID}: it has not joined (kubectl get joinrequests -A in the hub)`);
  const last = peer.status.conditions.find((c) => c.type === 'Connected');
  return fail(name, last ? `${last.reason ?? 'NotConnected'}: ${last.message ?? 'no message'}` : 'no tunnel to the hub yet');
}

async function startServers(members: MemberInfo[], namespace: string, opts: VerifyOptions, results: CheckResult[]): Promise<MemberTarget[]> {
  await Promise.all(
    members.map(async (m) => {
      const o = serverObjects(namespace, m.clusterID, opts.images.server);
      const core = m.kc.makeApiClient(CoreV1Api);
      await createRunNamespace(m, namespace);
      await core.createNamespacedPod({ namespace, body: o.pod });
      await core.createNamespacedService({ namespace, body: o.service });
      await m.kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_EXPORT_PLURAL, namespace, body: o.serviceExport });
    }),
  );
  const deadline = Date.now() + opts.timeoutMs;
  const targets: MemberTarget[] = [];
  for (const m of members) {
    const name = `${m.clusterID}: a new pod gets a global address`;
    const address = await readyPodAddress(m, namespace, 'server', deadline);
    if (address) {
      results.push(pass(name, address));
      targets.push({ clusterID: m.clusterID, zones: m.zones, serverAddress: address });
    } else {
      results.push(fail(name, `pod ${namespace}/server is not ready with a fleetboard.io/ip_address annotation after ${opts.timeoutMs / 1000} s: is NRI enabled in the runtime? (fleetctl diagnose)`));
    }
  }
  return targets;
}

async function checkImports(members: MemberInfo[], namespace: string, opts: VerifyOptions, results: CheckResult[]): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  opts.progress('waiting for every member to import the other members\' services');
  for (const from of members) {
    const custom = from.kc.makeApiClient(CustomObjectsApi);
    for (const to of members) {
      if (to.clusterID === from.clusterID) continue;
      const name = `${from.clusterID} → ${to.clusterID}: ServiceImport ${serviceName(to.clusterID)}`;
      const imported = await pollUntil(async () => {
        const si = decodeObject(ServiceImportKind, await custom.getNamespacedCustomObject({ group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_IMPORT_PLURAL, namespace, name: serviceName(to.clusterID) }));
        return si.spec.ips.length > 0 ? si : undefined;
      }, deadline);
      results.push(imported ? pass(name, `ClusterSetIP ${imported.spec.ips.join(',')}`) : fail(name, `not imported with a ClusterSetIP after ${opts.timeoutMs / 1000} s: check the ServiceExport's conditions in ${to.clusterID} and fleetctl show`));
    }
  }
}

async function runProbes(members: MemberInfo[], targets: MemberTarget[], namespace: string, opts: VerifyOptions, results: CheckResult[]): Promise<void> {
  const plan = probes(namespace, targets, opts.images.client);
  const byId = new Map(members.map((m) => [m.clusterID, m]));
  opts.progress(`running ${plan.length} probe pods (curl by global address and by each DNS zone)`);
  await Promise.all(plan.map((p) => byId.get(p.from)?.kc.makeApiClient(CoreV1Api).createNamespacedPod({ namespace, body: p.pod }) ?? Promise.resolve()));
  const deadline = Date.now() + opts.timeoutMs;
  for (const p of plan) {
    const core = byId.get(p.from)?.kc.makeApiClient(CoreV1Api);
    const name = `${p.from} → ${p.to}: http://${p.target}/`;
    let last: Pod | undefined;
    const outcome = core
      ? await pollUntil(async () => {
          last = decodeObject(PodKind, await core.readNamespacedPod({ name: p.pod.metadata.name, namespace }));
          return probeOutcome(last);
        }, deadline)
      : undefined;
    results.push(outcome ? (outcome.ok ? pass(name) : fail(name, outcome.detail)) : fail(name, probeStalled(last, opts.timeoutMs / 1000)));
  }
}
