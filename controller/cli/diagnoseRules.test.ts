import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerTunnelStatus } from '../clusterset/peer.js';
import { decodeObject } from '../objects/decode.js';
import { PeerKind, type Peer } from '../objects/fleetboard.js';
import { forwardingStanzas } from './corefile.js';
import { clockChecks, dnsForwardingChecks, handshakeChecks, mtuChecks, nriChecks, overlapChecks, type MemberFacts, type NodeFacts } from './diagnoseRules.js';

const node = (over: Partial<NodeFacts> = {}): NodeFacts => ({ name: 'n1', runtime: 'containerd://1.7.24', podCidrs: ['10.244.0.0/24'], addresses: ['192.168.0.10'], cnf: { pluginReady: true, pluginRestarts: 0, waiting: undefined }, unaddressedPods: [], ...over });
const member = (over: Partial<MemberFacts> = {}): MemberFacts => ({
  clusterID: 'cluster1',
  globalCidr: '10.112.0.0/12',
  nodes: [node()],
  serviceIps: ['10.96.0.1', '10.96.0.10'],
  corefile: `.:53 {\n    forward . /etc/resolv.conf\n}\n${forwardingStanzas(['clusterset.local', 'hyperos.local'], '10.96.0.11')}`,
  crossdnsIp: '10.96.0.11',
  zones: ['clusterset.local', 'hyperos.local'],
  ...over,
});
const failed = (checks: { ok: boolean; detail: string }[]) => checks.filter((c) => !c.ok).map((c) => c.detail);

test('a healthy member passes every member check', () => {
  const m = member();
  const checks = [...nriChecks(m), ...overlapChecks(m), ...dnsForwardingChecks(m)];
  assert.equal(checks.length, 4);
  assert.deepEqual(failed(checks), []);
});

test('NRI: pods left without an address on containerd 1.7 point at the config.toml switch; CRI-O at its own', () => {
  const [c17] = nriChecks(member({ nodes: [node({ unaddressedPods: ['default/web-1', 'default/web-2'] })] }));
  assert.match(c17?.detail ?? '', /2 running pods have no FleetBoard address \(e\.g\. default\/web-1, default\/web-2\).*io\.containerd\.nri\.v1\.nri"\] disable = false/);
  const [crio] = nriChecks(member({ nodes: [node({ runtime: 'cri-o://1.31.0', cnf: { pluginReady: false, pluginRestarts: 4, waiting: 'CrashLoopBackOff' } })] }));
  assert.match(crio?.detail ?? '', /not ready \(CrashLoopBackOff\).*enable_nri = true/);
  assert.match(nriChecks(member({ nodes: [node({ cnf: undefined })] }))[0]?.detail ?? '', /no cnf pod on this node/);
});

test('a global CIDR over a pod CIDR, a node or a service address is named', () => {
  const m = member({ globalCidr: '10.0.0.0/8', nodes: [node({ podCidrs: ['10.244.1.0/24'], addresses: ['10.1.2.3'] })] });
  const [c] = overlapChecks(m);
  assert.match(c?.detail ?? '', /pod CIDR 10\.244\.1\.0\/24 of n1, address 10\.1\.2\.3 of node n1, service address 10\.96\.0\.1, service address 10\.96\.0\.10/);
});

test('a zone missing from the Corefile gets the stanza to add; one forwarded elsewhere says where', () => {
  const corefile = `.:53 {\n    forward . /etc/resolv.conf\n}\nclusterset.local:53 {\n    forward . 10.96.0.99\n}\n`;
  const details = failed(dnsForwardingChecks(member({ corefile })));
  assert.match(details[0] ?? '', /forwards to 10\.96\.0\.99, not to crossdns at 10\.96\.0\.11/);
  assert.match(details[1] ?? '', /no server block for hyperos\.local; add:\nhyperos\.local:53 \{\n {4}errors\n {4}forward \. 10\.96\.0\.11\n\}/);
});

const now = new Date('2026-11-22T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
const peer = (id: string, tunnel: PeerTunnelStatus | undefined, isHub = false): Peer =>
  decodeObject(PeerKind, { metadata: { name: id }, spec: { clusterID: id, clusterCIDR: [], isHub, isPublic: isHub, ...(isHub ? { endpoint: '192.0.2.1', port: 31820 } : {}) }, ...(tunnel ? { status: { tunnel } } : {}) });

test('handshakes: recent passes; stale, never and no gateway fail with where to look', () => {
  const peers = [
    peer('hub', { gatewayNode: 'h1' }, true),
    peer('cluster1', { gatewayNode: 'a', lastHandshake: ago(30), direct: [{ clusterID: 'cluster2', rxBytes: 0, txBytes: 0 }] }),
    peer('cluster2', { gatewayNode: 'b', lastHandshake: ago(600) }),
    peer('cluster3', undefined),
  ];
  const checks = handshakeChecks(peers, now);
  assert.deepEqual(checks.map((c) => [c.name, c.ok]), [
    ['cluster1 → hub: recent WireGuard handshake', true],
    ['cluster1 → cluster2: recent WireGuard handshake', false],
    ['cluster2 → hub: recent WireGuard handshake', false],
    ['cluster3 → hub: recent WireGuard handshake', false],
  ]);
  assert.match(checks[2]?.detail ?? '', /last 10m ago.*192\.0\.2\.1:31820\/UDP/);
  assert.match(checks[3]?.detail ?? '', /no gateway reporting/);
});

test('MTU: a tunnel MTU too big for its underlay, and clusters that differ, fail with the value to set', () => {
  const peers = [peer('hub', { gatewayNode: 'h', mtu: 1420, underlayMtu: 1500 }, true), peer('cluster1', { gatewayNode: 'a', mtu: 1450, underlayMtu: 1500 }), peer('cluster2', { gatewayNode: 'b', mtu: 1420 })];
  const checks = mtuChecks(peers);
  assert.deepEqual(checks.map((c) => [c.name, c.ok]), [
    ['hub: tunnel MTU fits the underlay', true],
    ['cluster1: tunnel MTU fits the underlay', false],
    ['tunnel MTU the same in every cluster', false],
  ]);
  assert.match(checks[1]?.detail ?? '', /set tunnel\.mtu to 1420/);
  assert.match(checks[2]?.detail ?? '', /hub 1420, cluster1 1450, cluster2 1420.*tunnel\.mtu=1420/);
  assert.ok(mtuChecks(peers.filter((p) => p.spec?.clusterID !== 'cluster1')).every((c) => c.ok));
});

test('clocks: more than 5 s apart fails naming the cluster ahead', () => {
  assert.ok(clockChecks([{ cluster: 'hub', offsetSeconds: 0.2 }, { cluster: 'cluster1', offsetSeconds: -0.4 }])[0]?.ok);
  const [c] = clockChecks([{ cluster: 'hub', offsetSeconds: 0 }, { cluster: 'cluster1', offsetSeconds: 42 }]);
  assert.match(c?.detail ?? '', /cluster1 is 42 s ahead of hub.*NTP/);
});
