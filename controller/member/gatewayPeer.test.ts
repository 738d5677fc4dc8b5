import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generatePrivateKey, publicKeyOf } from '../wireguard/keys.js';
import { memberNamespace, type PeerSpec } from '../clusterset/peer.js';
import { decodeObject } from '../objects/decode.js';
import { PeerKind, type Peer } from '../objects/fleetboard.js';
import { gatewayView, restartedPeers } from './gatewayPeer.js';

const key = () => publicKeyOf(generatePrivateKey());
const keys = { self: key(), hub: key(), c2: key(), c3: key() };
const self = { namespace: memberNamespace('cluster1'), clusterID: 'cluster1', publicKey: keys.self };
const resolveAll = (e: string) => (e === 'hub.example' ? '198.18.0.21' : e);

function member(id: string, cidr: string, publicKey: string, extra: Partial<PeerSpec> = {}, accepted: string | undefined = publicKey): Peer {
  return decodeObject(PeerKind, {
    metadata: { name: id, namespace: memberNamespace(id) },
    spec: { clusterID: id, clusterCIDR: [cidr], publicKey, isHub: false, isPublic: false, ...extra },
    ...(accepted ? { status: { acceptedPublicKey: accepted } } : {}),
  });
}

const rawHub = { metadata: { name: 'hub', namespace: 'fleetboard-system' }, spec: { clusterID: 'hub', clusterCIDR: [], publicKey: keys.hub, endpoint: 'hub.example', port: 31820, isHub: true, isPublic: false } };
const hub = decodeObject(PeerKind, rawHub);
const c1 = (extra: Partial<PeerSpec> = {}) => member('cluster1', '10.112.0.0/16', keys.self, extra);
const c2 = (extra: Partial<PeerSpec> = {}, accepted?: string) => member('cluster2', '10.113.0.0/16', keys.c2, extra, accepted ?? keys.c2);
const c3 = member('cluster3', '10.114.0.0/16', keys.c3);
const publicAt = (endpoint: string, port = 31821): Partial<PeerSpec> => ({ isPublic: true, endpoint, port });

test('waits, saying why, until its own Peer exists, the hub accepted its key and published its endpoint', () => {
  assert.match(gatewayView([hub], self, 25, resolveAll).waiting ?? '', /no Peer fleetboard-cluster-cluster1\/cluster1/);
  assert.match(gatewayView([hub, member('cluster1', '10.112.0.0/16', keys.self, {}, key())], self, 25, resolveAll).waiting ?? '', /not accepted this gateway's public key/);
  const noEndpoint = decodeObject(PeerKind, { ...rawHub, spec: { ...rawHub.spec, endpoint: '' } });
  assert.match(gatewayView([noEndpoint, c1()], self, 25, resolveAll).waiting ?? '', /not published its endpoint/);
  assert.match(gatewayView([hub, c1()], self, 25, () => undefined).waiting ?? '', /hub endpoint hub.example does not resolve/);
  assert.deepEqual(gatewayView([hub, c1()], self, 25, resolveAll).hubPeer?.endpoint, '198.18.0.21:31820');
});

test('clusters behind NAT reach each other through the hub, which is allowed exactly their CIDRs', () => {
  const view = gatewayView([hub, c1(), c2(), c3], self, 25, resolveAll);
  assert.deepEqual(view.hubPeer, { publicKey: keys.hub, endpoint: '198.18.0.21:31820', allowedIps: ['10.113.0.0/16', '10.114.0.0/16'], persistentKeepalive: 25 });
  assert.equal(view.hubClusterID, 'hub', 'names the tunnel in metrics');
  assert.deepEqual(view.direct, []);
});

test('a member with a reachable endpoint is dialled directly, and its CIDR leaves the hub peer', () => {
  const view = gatewayView([hub, c1(), c2(publicAt('198.18.0.12')), c3], self, 25, resolveAll);
  assert.deepEqual(view.direct, [{ clusterID: 'cluster2', peer: { publicKey: keys.c2, endpoint: '198.18.0.12:31821', allowedIps: ['10.113.0.0/16'], persistentKeepalive: 25 } }]);
  assert.deepEqual(view.hubPeer?.allowedIps, ['10.114.0.0/16']);
});

test('a public gateway takes every trusted member directly and waits for them to dial it', () => {
  const view = gatewayView([hub, c1(publicAt('198.18.0.11')), c2(), c3], self, 25, resolveAll);
  assert.deepEqual(
    view.direct.map((d) => d.peer),
    [
      { publicKey: keys.c2, allowedIps: ['10.113.0.0/16'] },
      { publicKey: keys.c3, allowedIps: ['10.114.0.0/16'] },
    ],
  );
  assert.deepEqual(view.hubPeer?.allowedIps, []);
});

test('a member whose key the hub has not accepted, or whose key is taken, stays behind the hub', () => {
  const notAccepted = gatewayView([hub, c1(), c2(publicAt('198.18.0.12'), key())], self, 25, resolveAll);
  assert.deepEqual(notAccepted.direct, []);
  assert.deepEqual(notAccepted.hubPeer?.allowedIps, ['10.113.0.0/16']);
  const hubsKey = member('cluster2', '10.113.0.0/16', keys.hub, publicAt('198.18.0.12'));
  assert.deepEqual(gatewayView([hub, c1(), hubsKey], self, 25, resolveAll).direct, []);
  const twin = member('cluster3', '10.114.0.0/16', keys.c2, publicAt('198.18.0.13'));
  const view = gatewayView([hub, c1(), c2(publicAt('198.18.0.12')), twin], self, 25, resolveAll);
  assert.deepEqual(view.direct.map((d) => d.clusterID), ['cluster2']);
  assert.deepEqual(view.hubPeer?.allowedIps, ['10.114.0.0/16']);
});

test('a public member whose endpoint does not resolve is peered without one and reported', () => {
  const view = gatewayView([hub, c1(), c2(publicAt('gw.cluster2.example'))], self, 25, (e) => (e === 'hub.example' ? '198.18.0.21' : undefined));
  assert.deepEqual(view.direct, [{ clusterID: 'cluster2', peer: { publicKey: keys.c2, allowedIps: ['10.113.0.0/16'] } }]);
  assert.deepEqual(view.unresolved, ['cluster2 (gw.cluster2.example)']);
});

test('IPv6 endpoints are bracketed, and a Peer that claims isPublic without an endpoint is ignored', () => {
  const v6 = gatewayView([hub, c1(), c2(publicAt('2001:db8::2'))], self, 25, resolveAll);
  assert.equal(v6.direct[0]?.peer.endpoint, '[2001:db8::2]:31821');
  const claims = gatewayView([hub, c1(), c2({ isPublic: true })], self, 25, resolveAll);
  assert.deepEqual(claims.direct, []);
  assert.deepEqual(claims.hubPeer?.allowedIps, []);
});

test('a dialled gateway configured anew under the same key is re-created once, so the session restarts at once', () => {
  const since = (p: Peer, t: string): Peer => decodeObject(PeerKind, { ...p, status: { ...p.status, tunnel: { gatewayNode: 'n1', since: t } } });
  const c2Public = c2(publicAt('c2.example'));
  const first = gatewayView([since(hub, '2026-11-21T10:00:00.000Z'), c1(), since(c2Public, '2026-11-21T09:00:00.000Z'), c3], self, 25, resolveAll);
  assert.deepEqual([...first.dialled], [[keys.hub, '2026-11-21T10:00:00.000Z'], [keys.c2, '2026-11-21T09:00:00.000Z']], 'cluster3 dials this side, so it is not dialled');
  const hubReplaced = gatewayView([since(hub, '2026-11-21T10:05:00.000Z'), c1(), since(c2Public, '2026-11-21T09:00:00.000Z'), c3], self, 25, resolveAll);
  assert.deepEqual(restartedPeers(first.dialled, hubReplaced.dialled), [keys.hub]);
  assert.deepEqual(restartedPeers(hubReplaced.dialled, hubReplaced.dialled), [], 'nothing changed, nothing is re-created');
  assert.deepEqual(restartedPeers(new Map(), hubReplaced.dialled), [], 'a gateway that just started has fresh peers already');
  const notYetPublished = gatewayView([hub, c1()], self, 25, resolveAll);
  assert.deepEqual(restartedPeers(notYetPublished.dialled, hubReplaced.dialled), [], 'a gateway publishing its time for the first time is not a restart');
});
