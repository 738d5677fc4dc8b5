import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildIndex } from '../../controller/crossdns/zoneIndex.js';
import { renderLbChanges, renderLbTable, unservedImports, virtualPorts } from '../../controller/clustersetip/lbRules.js';
import { aggregateServices, exportProblem } from '../../controller/mcs/aggregate.js';
import { planExports } from '../../controller/mcs/exportPlan.js';
import { endpointBody, exportedSlices, portBody, sliceContent, statedConditions } from '../../controller/mcs/exportedSlices.js';
import { withCondition } from '../../controller/mcs/exportValidity.js';
import { placeImports } from '../../controller/mcs/importPlacement.js';
import { labelsAnnotationsAndSpec, objectPlan } from '../../controller/mcs/objectPlan.js';
import { disconnectedClusters } from '../../controller/mcs/sourceHealth.js';
import { decodePodNetwork } from '../../controller/ipam/annotations.js';
import { IpamError } from '../../controller/ipam/errors.js';
import { recordedNodeCidrs } from '../../controller/ipam/nodeCidrStore.js';
import { hubPeers } from '../../controller/hub/hubPeers.js';
import { recordedClusterCidrs } from '../../controller/hub/joinApprover.js';
import { CLUSTER_CIDR_ANNOTATION, checkPeer } from '../../controller/clusterset/peer.js';
import { checkJoinRequest } from '../../controller/clusterset/joinRequest.js';
import { gatewayView } from '../../controller/member/gatewayPeer.js';
import { meshPeers, peerNodes } from '../../controller/tunnel/meshPeers.js';
import { rebuildPool } from '../../controller/podnet/rebuild.js';
import { podsToUnlabel } from '../../controller/leader/leaderLabel.js';
import { decideLease, leaseRecordOf } from '../../controller/leader/leaseDecision.js';
import { clustersetView, renderClusterset } from '../../controller/cli/clustersetView.js';
import { handshakeChecks, mtuChecks, nriChecks } from '../../controller/cli/diagnoseRules.js';
import { nodeFacts } from '../../controller/cli/diagnoseFacts.js';
import { probeOutcome, probeStalled } from '../../controller/cli/verifyPlan.js';
import { clientOutcome } from '../../controller/cli/benchmarkPlan.js';
import { joinTokenInfo } from '../../controller/cli/bootstrapToken.js';
import { decodeObject } from '../../controller/objects/decode.js';
import { ConfigMapKind, NamespaceKind, NodeKind, PodKind, SecretKind, ServiceKind } from '../../controller/objects/core.js';
import { LeaseKind } from '../../controller/objects/coordination.js';
import { EndpointSliceKind } from '../../controller/objects/discovery.js';
import { JoinRequestKind, PeerKind } from '../../controller/objects/fleetboard.js';
import { ServiceExportKind, ServiceImportKind } from '../../controller/objects/mcs.js';
import { arbitrary, variants } from './apiObjects.js';
import { GLOBAL_CIDR, KINDS, type KindName } from './apiKinds.js';
import { fuzz, fuzzBudget } from './fuzz.js';

type RawWorld = Record<KindName, unknown[]>;

/** Decodes every object: an object the API may send must always be readable. */
function read(world: RawWorld) {
  return {
    slices: world.EndpointSlice.map((r) => decodeObject(EndpointSliceKind, r)),
    services: world.Service.map((r) => decodeObject(ServiceKind, r)),
    exports: world.ServiceExport.map((r) => decodeObject(ServiceExportKind, r)),
    imports: world.ServiceImport.map((r) => decodeObject(ServiceImportKind, r)),
    hubImports: world.HubServiceImport.map((r) => decodeObject(ServiceImportKind, r)),
    pods: world.Pod.map((r) => decodeObject(PodKind, r)),
    nodes: world.Node.map((r) => decodeObject(NodeKind, r)),
    leases: world.Lease.map((r) => decodeObject(LeaseKind, r)),
    peers: world.Peer.map((r) => decodeObject(PeerKind, r)),
    joinRequests: world.JoinRequest.map((r) => decodeObject(JoinRequestKind, r)),
    configMaps: world.ConfigMap.map((r) => decodeObject(ConfigMapKind, r)),
    namespaces: world.Namespace.map((r) => decodeObject(NamespaceKind, r)),
    secrets: world.Secret.map((r) => decodeObject(SecretKind, r)),
  };
}

/** Errors a planner may throw for one object it refuses, by design; anything else is a bug. */
const PER_OBJECT_ERRORS = [IpamError];

function safely<T>(what: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (PER_OBJECT_ERRORS.some((E) => err instanceof E)) return undefined;
    throw new Error(`${what} threw ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
  }
}

const globalAddress = (annotations: Record<string, string>) => safely('decodePodNetwork', () => decodePodNetwork(annotations)?.ipAddress);

/** Feeds the decoded world to every pure planner and reconcile decision that reads these kinds. */
function planAll(raw: RawWorld): void {
  const w = read(raw);
  const now = new Date('2026-06-01T00:00:00Z');
  // crossdns
  safely('buildIndex', () => buildIndex({ imports: w.imports, slices: w.slices }, { zones: ['clusterset.local', 'hyperos.local'], customZones: ['shared.example'], reverseZones: ['112.10.in-addr.arpa'], nameserverAddresses: ['10.96.0.11'], ttl: 5, serial: 1 }));
  // ClusterSetIP load balancing on every node
  const ports = safely('virtualPorts', () => virtualPorts(w.imports, w.slices, GLOBAL_CIDR)) ?? [];
  safely('unservedImports', () => unservedImports(w.imports, GLOBAL_CIDR));
  safely('renderLbTable', () => renderLbTable(ports));
  safely('renderLbChanges', () => [renderLbChanges([], ports), renderLbChanges(ports, [])]);
  // The leader's exports
  const podAddresses = new Map(w.pods.map((p) => [`${p.metadata.namespace ?? ''}/${p.metadata.name}`, globalAddress(p.metadata.annotations)]));
  for (const hub of [undefined, { clusterID: 'cluster1', namespace: 'fleetboard-cluster-cluster1' }]) {
    const plan = safely('planExports', () =>
      planExports({ exports: w.exports, services: w.services, slices: w.slices, globalAddressOf: (ns, name) => podAddresses.get(`${ns}/${name}`), hub, clusterSetExports: w.hubImports, waiting: () => false }),
    );
    assert.deepEqual(plan?.failed ?? [], [], 'every export of API-valid objects can be planned');
    if (plan) {
      safely('objectPlan(services)', () => objectPlan(plan.services, w.hubImports, labelsAnnotationsAndSpec));
      safely('objectPlan(slices)', () => objectPlan(plan.slices, w.slices, sliceContent));
      for (const exp of w.exports) for (const v of plan.verdicts.get(`${exp.metadata.namespace ?? ''}/${exp.metadata.name}`) ?? []) safely('withCondition', () => withCondition(exp.status.conditions, v, exp.metadata.generation, now));
    }
  }
  safely('exportedSlices', () => exportedSlices('cluster1', 'fleetboard-cluster-cluster1', { namespace: 'default', name: 'web' }, w.slices, (ns, name) => podAddresses.get(`${ns}/${name}`)));
  // The leader's imports
  for (const i of w.hubImports) safely('exportProblem', () => exportProblem(i));
  const aggregated = safely('aggregateServices', () => aggregateServices(w.hubImports)) ?? [];
  safely('placeImports', () => placeImports(aggregated, new Set(w.namespaces.map((n) => n.metadata.name)), 'fleetboard-system'));
  safely('disconnectedClusters', () => disconnectedClusters(w.peers, 'cluster1'));
  safely('imported slices', () => w.slices.map((s) => ({ endpoints: s.endpoints.map((e) => endpointBody(e, e.addresses, statedConditions(e.conditions))), ports: s.ports.map(portBody) })));
  // The hub
  const recorded = new Map(w.namespaces.flatMap((n) => (n.metadata.annotations[CLUSTER_CIDR_ANNOTATION] ? [[n.metadata.name, n.metadata.annotations[CLUSTER_CIDR_ANNOTATION]] as [string, string]] : [])));
  safely('recordedClusterCidrs', () => recordedClusterCidrs(w.namespaces));
  safely('hubPeers', () => hubPeers(w.peers, recorded));
  for (const p of w.peers) safely('checkPeer', () => checkPeer(p));
  for (const r of w.joinRequests) safely('checkJoinRequest', () => checkJoinRequest(r));
  // A member's gateway and its nodes
  safely('gatewayView', () => gatewayView(w.peers, { namespace: 'fleetboard-cluster-cluster1', clusterID: 'cluster1', publicKey: 'key' }, 25, () => '192.0.2.1'));
  const nodeCidrs = w.configMaps.map((cm) => safely('recordedNodeCidrs', () => recordedNodeCidrs(cm))?.cidrs ?? new Map<string, string>());
  safely('meshPeers', () => meshPeers('node1', w.pods, nodeCidrs[0] ?? new Map(), GLOBAL_CIDR, 25));
  safely('peerNodes', () => peerNodes(w.pods));
  safely('rebuildPool', () => rebuildPool('10.112.1.0/24', w.pods));
  safely('podsToUnlabel', () => podsToUnlabel(w.pods, 'cnf-a'));
  for (const l of w.leases) {
    safely('decideLease', () => decideLease({ lease: leaseRecordOf(l.spec), previous: undefined, identity: 'cnf-a', leading: false, nowMs: 1000, wallTime: now, leaseDurationSeconds: 15 }));
  }
  // fleetctl
  safely('clustersetView', () => renderClusterset(clustersetView(w.peers, w.hubImports, w.slices, now)));
  safely('diagnose', () => [mtuChecks(w.peers), handshakeChecks(w.peers, now)]);
  safely('nodeFacts', () => w.nodes.map((n) => nriChecks({ clusterID: 'cluster1', globalCidr: GLOBAL_CIDR, nodes: [nodeFacts(n, w.pods, w.pods[0], now.getTime())], serviceIps: [], corefile: undefined, crossdnsIp: undefined, zones: [] })));
  for (const p of w.pods) safely('probe and benchmark outcomes', () => [probeOutcome(p), probeStalled(p, 60), clientOutcome(p)]);
  for (const s of w.secrets) safely('joinTokenInfo', () => joinTokenInfo(s, now));
}

const KIND_NAMES = Object.keys(KINDS) as KindName[];
const emptyWorld = (): RawWorld => Object.fromEntries(KIND_NAMES.map((k) => [k, []])) as unknown as RawWorld;

test('every optional field of every kind FleetBoard reads, omitted, null or empty in turn: each object is read, and no planner throws', (t) => {
  let count = 0;
  for (const kind of KIND_NAMES) {
    // The other kinds full, so the object meets what it relates to (its import, its node, its peers).
    const others = emptyWorld();
    for (const other of KIND_NAMES) if (other !== kind) others[other] = [variants(KINDS[other])[0]?.object];
    for (const v of variants(KINDS[kind])) {
      try {
        planAll({ ...others, [kind]: [v.object] });
      } catch (err) {
        throw new Error(`${kind} with ${v.label}: ${(err as Error).message}`, { cause: err });
      }
      count += 1;
    }
  }
  t.diagnostic(`api-objects-systematic: ${count} objects (each optional field of ${KIND_NAMES.length} kinds omitted, null and empty in turn)`);
});

const worlds: fc.Arbitrary<RawWorld> = fc.record(Object.fromEntries(KIND_NAMES.map((k) => [k, fc.array(arbitrary(KINDS[k]), { maxLength: 4 })])) as Record<KindName, fc.Arbitrary<unknown[]>>);

test('property: random clustersets of API-valid objects are read and planned without any planner throwing', async (t) => {
  const runs = fuzzBudget(0.5);
  const seed = await fuzz('api-objects', fc.property(worlds, (w) => planAll(w)), runs);
  t.diagnostic(`api-objects: ${runs} runs, seed ${seed}`);
});
