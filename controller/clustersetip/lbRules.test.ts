import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { IMPORT_MANAGED_BY_LABEL, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_SOURCE_CLUSTER, LABEL_SOURCE_CONNECTED, MANAGED_BY, type ServiceImportSpec } from '../mcs/api.js';
import { decodeObject, ObjectDecodeError } from '../objects/decode.js';
import { EndpointSliceKind, type EndpointSlice } from '../objects/discovery.js';
import { ServiceImportKind, type ServiceImport } from '../objects/mcs.js';
import { renderLbChanges, renderLbTable, stickyClients, virtualPorts } from './lbRules.js';

const GLOBAL = '10.112.0.0/12';

function serviceImport(name: string, spec: Partial<ServiceImportSpec>, managed = true): ServiceImport {
  return decodeObject(ServiceImportKind, {
    metadata: { name, namespace: 'default', labels: managed ? { [IMPORT_MANAGED_BY_LABEL]: MANAGED_BY } : {} },
    spec: { type: 'ClusterSetIP', ports: [{ name: 'http', protocol: 'TCP', port: 80 }], ips: ['10.112.240.1'], ...spec },
  });
}

function slice(name: string, service: string, cluster: string, endpoints: { ip: string; ready?: boolean }[], ports: { name?: string; port: number; protocol?: string }[], extra: Record<string, string> = {}): EndpointSlice {
  return decodeObject(EndpointSliceKind, {
    metadata: { name, namespace: 'default', labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_SERVICE_NAME]: service, [LABEL_SOURCE_CLUSTER]: cluster, ...extra } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }) })),
    ports,
  } satisfies V1EndpointSlice);
}

test('each port of a ClusterSetIP goes to the ready endpoints of every cluster, matched by port name and protocol', () => {
  const imports = [serviceImport('web', { ports: [{ name: 'http', protocol: 'TCP', port: 80 }, { name: 'dns', protocol: 'UDP', port: 53 }] })];
  const slices = [
    slice('c1-a', 'web', 'cluster1', [{ ip: '10.112.1.5' }, { ip: '10.112.1.6', ready: false }], [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }]),
    slice('c2-a', 'web', 'cluster2', [{ ip: '10.113.4.9', ready: true }], [{ name: 'http', port: 9090 }]),
    slice('c3-a', 'web', 'cluster3', [{ ip: '10.114.1.1' }], [{ name: 'http', port: 8080 }], { [LABEL_SOURCE_CONNECTED]: 'false' }),
    slice('other', 'db', 'cluster1', [{ ip: '10.112.1.7' }], [{ name: 'http', port: 1 }]),
  ];
  const ports = virtualPorts(imports, slices, GLOBAL);
  assert.deepEqual(
    ports.map((p) => [p.vip, p.port.port, p.port.protocol, p.backends.map((b) => `${b.address}:${b.port}`)]),
    [
      ['10.112.240.1', 53, 'UDP', ['10.112.1.5:5353']],
      ['10.112.240.1', 80, 'TCP', ['10.112.1.5:8080', '10.113.4.9:9090']],
    ],
  );
});

test('imports FleetBoard does not manage, headless ones, and VIPs outside the global CIDR are not load-balanced', () => {
  const imports = [
    serviceImport('by-hand', {}, false),
    serviceImport('headless', { type: 'Headless', ips: [] }),
    serviceImport('foreign', { ips: ['192.168.0.10'] }),
    serviceImport('no-ip-yet', { ips: [] }),
    serviceImport('bad-ip', { ips: ['not-an-ip'] }),
  ];
  const slices = imports.map((i) => slice(`${i.metadata.name}-s`, i.metadata.name, 'cluster1', [{ ip: '10.112.1.5' }], [{ name: 'http', port: 80 }]));
  assert.deepEqual(virtualPorts(imports, slices, GLOBAL), []);
});

test('the table DNATs served ports to a random backend and refuses the rest of the VIPs', () => {
  const imports = [serviceImport('web', {}), serviceImport('empty', { ips: ['10.112.240.2'] })];
  const slices = [slice('c1', 'web', 'cluster1', [{ ip: '10.112.1.5' }, { ip: '10.112.2.5' }], [{ name: 'http', port: 8080 }])];
  const table = renderLbTable(virtualPorts(imports, slices, GLOBAL));
  // Created, deleted and defined in one transaction: an atomic replace.
  assert.match(table, /^table ip fleetboard_lb\ndelete table ip fleetboard_lb\ntable ip fleetboard_lb \{\n/);
  assert.match(table, /elements = \{ 10\.112\.240\.2, 10\.112\.240\.1 \}|elements = \{ 10\.112\.240\.1, 10\.112\.240\.2 \}/);
  assert.match(table, /elements = \{ 10\.112\.240\.1 \. tcp \. 80 : goto svc_10_112_240_1_tcp_80 \}/);
  assert.match(table, /meta l4proto tcp dnat to numgen random mod 2 map \{ 0 : 10\.112\.1\.5 \. 8080, 1 : 10\.112\.2\.5 \. 8080 \}/);
  assert.doesNotMatch(table, /10\.112\.240\.2 \. tcp/);
  assert.match(table, /ip daddr @vips reject/);
});

test('a change touches only the ports that differ: new chains go in before their map elements, old ones out after', () => {
  const slices = (addresses: string[]) => [slice('c1', 'web', 'cluster1', addresses.map((ip) => ({ ip })), [{ name: 'http', port: 8080 }])];
  const before = virtualPorts([serviceImport('web', {}), serviceImport('db', { ips: ['10.112.240.2'] })], [...slices(['10.112.1.5']), slice('d1', 'db', 'cluster1', [{ ip: '10.112.1.9' }], [{ name: 'http', port: 5432 }])], GLOBAL);
  const after = virtualPorts([serviceImport('web', {})], slices(['10.112.1.5', '10.112.2.5']), GLOBAL);
  assert.equal(
    renderLbChanges(before, after),
    [
      'add element ip fleetboard_lb hairpin { 10.112.2.5 . 10.112.2.5 }',
      'delete element ip fleetboard_lb services { 10.112.240.2 . tcp . 80 }',
      'delete chain ip fleetboard_lb svc_10_112_240_2_tcp_80',
      'flush chain ip fleetboard_lb svc_10_112_240_1_tcp_80',
      'add rule ip fleetboard_lb svc_10_112_240_1_tcp_80 meta l4proto tcp dnat to numgen random mod 2 map { 0 : 10.112.1.5 . 8080, 1 : 10.112.2.5 . 8080 } comment "default/web http 80/TCP"',
      'delete element ip fleetboard_lb hairpin { 10.112.1.9 . 10.112.1.9 }',
      'delete element ip fleetboard_lb vips { 10.112.240.2 }',
      '',
    ].join('\n'),
  );
  const back = renderLbChanges(after, before).split('\n');
  assert.ok(back.indexOf('add chain ip fleetboard_lb svc_10_112_240_2_tcp_80') < back.indexOf('add element ip fleetboard_lb services { 10.112.240.2 . tcp . 80 : goto svc_10_112_240_2_tcp_80 }'));
  assert.equal(renderLbChanges(after, after), '');
});

test('with nothing imported the table is empty but valid', () => {
  const table = renderLbTable([]);
  assert.doesNotMatch(table, /elements/);
  assert.doesNotMatch(table, /svc_/);
});

test('a pod that is a backend of the VIP it calls is masqueraded on the way back to itself', () => {
  const slices = [slice('c1', 'web', 'cluster1', [{ ip: '10.112.1.5' }, { ip: '10.113.2.5' }], [{ name: 'http', port: 8080 }])];
  const table = renderLbTable(virtualPorts([serviceImport('web', {})], slices, GLOBAL));
  assert.match(table, /set hairpin \{\n\s+type ipv4_addr \. ipv4_addr\n\s+elements = \{ 10\.112\.1\.5 \. 10\.112\.1\.5, 10\.113\.2\.5 \. 10\.113\.2\.5 \}/);
  assert.match(table, /type nat hook postrouting priority srcnat;.*\n\s+ct status dnat ip saddr \. ip daddr @hairpin masquerade/);
});

test('ClientIP session affinity sends a client back to the backend it last reached, for the import\'s timeout (3 h unless set); others go at random', () => {
  const imports = [
    serviceImport('sticky', { sessionAffinity: 'ClientIP', ips: ['10.112.240.1'] }),
    serviceImport('brief', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } }, ips: ['10.112.240.3'] }),
    serviceImport('loose', { ips: ['10.112.240.2'] }),
  ];
  const slices = ['sticky', 'brief', 'loose'].map((s) => slice(s, s, 'cluster1', [{ ip: '10.112.1.5' }, { ip: '10.112.2.5' }], [{ name: 'http', port: 8080 }]));
  const ports = virtualPorts(imports, slices, GLOBAL);
  assert.deepEqual(ports.map((p) => [p.service, p.affinitySeconds]), [['default/brief', 30], ['default/loose', undefined], ['default/sticky', 10_800]]);
  const table = renderLbTable(ports, new Map([['clients_svc_10_112_240_1_tcp_80_10_112_1_5_8080', [{ address: '10.112.1.10', expiresSeconds: 60 }]]]));
  assert.match(table, /meta l4proto tcp dnat to numgen random mod 2 map \{[^}]+\} comment "default\/loose http 80\/TCP"/);
  const sticky = /chain svc_10_112_240_1_tcp_80 \{\n((?:\s+.+\n)+?)\s+\}/.exec(table)?.[1]?.trim().split(/\n\s+/);
  assert.deepEqual(sticky, [
    'ip saddr @clients_svc_10_112_240_1_tcp_80_10_112_1_5_8080 goto to_svc_10_112_240_1_tcp_80_10_112_1_5_8080',
    'ip saddr @clients_svc_10_112_240_1_tcp_80_10_112_2_5_8080 goto to_svc_10_112_240_1_tcp_80_10_112_2_5_8080',
    'numgen random mod 2 vmap { 0 : goto to_svc_10_112_240_1_tcp_80_10_112_1_5_8080, 1 : goto to_svc_10_112_240_1_tcp_80_10_112_2_5_8080 } comment "default/sticky http 80/TCP"',
  ]);
  assert.match(table, /chain to_svc_10_112_240_1_tcp_80_10_112_2_5_8080 \{\n\s+meta l4proto tcp update @clients_svc_10_112_240_1_tcp_80_10_112_2_5_8080 \{ ip saddr \} dnat to 10\.112\.2\.5:8080\n/);
  assert.match(table, /set clients_svc_10_112_240_3_tcp_80_10_112_1_5_8080 \{ type ipv4_addr; flags dynamic,timeout; timeout 30s; \}/);
  // A client remembered before a rewrite is remembered after it, for what was left of its time (nft lists whole seconds).
  assert.match(table, /set clients_svc_10_112_240_1_tcp_80_10_112_1_5_8080 \{ type ipv4_addr; flags dynamic,timeout; timeout 10800s; elements = \{ 10\.112\.1\.10 expires 60500ms \}; \}/);
});

test('a session affinity timeout no Service could have (from a member gone wrong) gets the 3 h default rather than breaking the table', () => {
  const sticky = (n: number, timeoutSeconds: number) =>
    serviceImport(`bad${n}`, { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds } }, ips: [`10.112.240.${n + 1}`] });
  const imports = [0, -5, 86_401].map((timeoutSeconds, n) => sticky(n, timeoutSeconds));
  const slices = imports.map((i) => slice(i.metadata.name, i.metadata.name, 'cluster1', [{ ip: '10.112.1.5' }], [{ name: 'http', port: 8080 }]));
  assert.deepEqual(virtualPorts(imports, slices, GLOBAL).map((p) => p.affinitySeconds), [10_800, 10_800, 10_800]);
  // One that is not a whole number of seconds is not read at all, so it never reaches the table.
  for (const timeoutSeconds of [1.5, '60']) assert.throws(() => sticky(3, timeoutSeconds as number), ObjectDecodeError);
});

test('a change to a sticky service keeps the backends that stay, with the clients they remember', () => {
  const sticky = (addresses: string[]) =>
    virtualPorts([serviceImport('sticky', { sessionAffinity: 'ClientIP' })], [slice('s', 'sticky', 'cluster1', addresses.map((ip) => ({ ip })), [{ name: 'http', port: 8080 }])], GLOBAL);
  const changes = renderLbChanges(sticky(['10.112.1.5', '10.112.2.5']), sticky(['10.112.1.5', '10.112.3.5'])).split('\n');
  assert.ok(!changes.some((l) => l.includes('10_112_1_5')  && l.startsWith('delete')), 'the backend that stays keeps its set');
  const added = changes.indexOf('add set ip fleetboard_lb clients_svc_10_112_240_1_tcp_80_10_112_3_5_8080 { type ipv4_addr; flags dynamic,timeout; timeout 10800s; }');
  const flushed = changes.indexOf('flush chain ip fleetboard_lb svc_10_112_240_1_tcp_80');
  const deleted = changes.indexOf('delete set ip fleetboard_lb clients_svc_10_112_240_1_tcp_80_10_112_2_5_8080');
  assert.ok(added >= 0 && added < flushed && flushed < deleted, changes.join('\n'));
});

test('the clients of sticky backends are read from nft\'s JSON listing; other sets are left out', () => {
  const json = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6' } },
      { set: { name: 'vips', elem: ['10.112.240.1'] } },
      { set: { name: 'clients_a', elem: [{ elem: { val: '10.112.1.10', expires: 42 } }, { elem: { val: '10.112.1.11', expires: 0 } }, { elem: { val: '10.112.1.12' } }] } },
      { set: { name: 'clients_b' } },
    ],
  });
  assert.deepEqual(stickyClients(json), new Map([['clients_a', [{ address: '10.112.1.10', expiresSeconds: 42 }, { address: '10.112.1.11', expiresSeconds: 0 }]], ['clients_b', []]]));
});
