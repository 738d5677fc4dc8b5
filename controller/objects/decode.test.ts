import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V1EndpointSlice, V1Lease, V1LeaseSpec, V1ObjectMeta } from '@kubernetes/client-node';
import { decodeItems, decodeObject, ObjectDecodeError } from './decode.js';
import { EndpointSliceKind } from './discovery.js';
import { LeaseKind } from './coordination.js';
import { PeerKind } from './fleetboard.js';
import { ServiceImportKind } from './mcs.js';

test('an EndpointSlice of a Service with no endpoints, as the API sends it (endpoints null, or absent), reads with an empty list; so do null labels and ports', () => {
  for (const endpoints of [null, undefined]) {
    const s = decodeObject(EndpointSliceKind, { metadata: { name: 'web-x', namespace: 'default', labels: null }, addressType: 'IPv4', endpoints, ports: null });
    assert.deepEqual([s.endpoints, s.ports, s.metadata.labels, s.metadata.annotations], [[], [], {}, {}]);
  }
});

test('a struct the API leaves out reads as empty, so its lists are there: a ServiceImport without spec or status', () => {
  const i = decodeObject(ServiceImportKind, { metadata: { name: 'hand-made', namespace: 'default' } });
  assert.equal(i.spec.type, undefined);
  assert.deepEqual(i.spec, { ports: [], ips: [] });
  assert.deepEqual(i.status, { clusters: [], conditions: [] });
});

test('optional values sent as null read as absent; a Peer may have no spec, and its flags default to false', () => {
  assert.equal(decodeObject(PeerKind, { metadata: { name: 'p', namespace: 'x' }, spec: null }).spec, undefined);
  const p = decodeObject(PeerKind, { metadata: { name: 'p' }, spec: { clusterID: 'cluster1', clusterCIDR: null, publicKey: null, isHub: null } });
  assert.deepEqual(p.spec, { clusterID: 'cluster1', clusterCIDR: [], publicKey: undefined, isHub: false, isPublic: false });
});

test('objects the typed client made (class instances, Dates) read like the JSON a watch delivers', () => {
  const created = new Date('2026-11-01T10:00:00.000Z');
  const slice = Object.assign(new V1EndpointSlice(), { metadata: Object.assign(new V1ObjectMeta(), { name: 'web-x', creationTimestamp: created }), addressType: 'IPv4' });
  assert.equal(decodeObject(EndpointSliceKind, slice).metadata.creationTimestamp, '2026-11-01T10:00:00.000Z');
  const lease = Object.assign(new V1Lease(), { metadata: { name: 'l' }, spec: Object.assign(new V1LeaseSpec(), { holderIdentity: 'cnf-a', renewTime: '2026-11-01T10:00:00.123456Z' }) });
  assert.equal(decodeObject(LeaseKind, lease).spec.renewTime, '2026-11-01T10:00:00.123456Z');
});

test('an object that cannot be read is refused with INVALID_OBJECT, naming it and where it is wrong; in a list, only it is left out', () => {
  const bad = { metadata: { name: 'web-x', namespace: 'default' }, addressType: 'IPv4', endpoints: [{ addresses: 'not-a-list' }] };
  assert.throws(
    () => decodeObject(EndpointSliceKind, bad),
    (err: unknown) => err instanceof ObjectDecodeError && err.object === 'EndpointSlice default/web-x' && /endpoints\.0\.addresses: /.test(err.message),
  );
  assert.throws(() => decodeObject(EndpointSliceKind, 'text'), (err: unknown) => err instanceof ObjectDecodeError && err.object === 'EndpointSlice (unnamed)');
  const refused: string[] = [];
  const read = decodeItems(EndpointSliceKind, [bad, { metadata: { name: 'ok' }, addressType: 'IPv4' }], (err) => refused.push(err.object));
  assert.deepEqual([read.map((s) => s.metadata.name), refused], [['ok'], ['EndpointSlice default/web-x']]);
  assert.deepEqual(decodeItems(EndpointSliceKind, null, () => assert.fail('nothing to refuse')), []);
});
