import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Answer } from 'dns-packet';
import { answerQuestion, QCLASS, QTYPE, RCODE } from './answer.js';
import { buildIndex } from './zoneIndex.js';
import { importedSlice, indexInput, serviceImport } from './testFixtures.js';

const { index } = buildIndex(
  indexInput(
    [
      serviceImport('default', 'nginx', { type: 'ClusterSetIP', ips: ['10.127.0.5', 'fd00::5'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }, { name: 'dns', protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 81 }] }, 'nginx.shared.example'),
      serviceImport('default', 'pending', { type: 'ClusterSetIP', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }),
      serviceImport('db', 'pg', { type: 'Headless', ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }] }),
    ],
    [
      importedSlice('db', 'pg', 'cluster1', [{ ip: '10.112.1.2', hostname: 'pg-0' }, { ip: '10.112.1.3' }, { ip: '10.112.1.4', hostname: 'pg-2', ready: false }]),
      importedSlice('db', 'pg', 'cluster2', [{ ip: '10.113.1.2', hostname: 'pg-0' }], { connected: false }),
    ],
  ),
  { zones: ['clusterset.local', 'hyperos.local'], customZones: ['shared.example'], reverseZones: ['112.10.in-addr.arpa'], nameserverAddresses: ['10.96.0.11', 'fd00::11'], ttl: 5, serial: 42 },
);

const ask = (name: string, qtype: number, qclass: number = QCLASS.IN) => answerQuestion(index, name, qtype, qclass);
const data = (records: Answer[]) => records.map((r) => ('data' in r ? r.data : undefined));
const soaOf = (zone: string) => ({
  type: 'SOA',
  name: zone,
  ttl: 5,
  data: { mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial: 42, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 },
});

test('A and AAAA of a ClusterSetIP service are its ClusterSetIPs, in every zone', () => {
  for (const zone of ['clusterset.local', 'hyperos.local']) {
    const a = ask(`nginx.default.svc.${zone}`, QTYPE.A);
    assert.equal(a.rcode, RCODE.NOERROR);
    assert.equal(a.authoritative, true);
    assert.deepEqual(a.answers, [{ type: 'A', name: `nginx.default.svc.${zone}`, ttl: 5, data: '10.127.0.5' }]);
    assert.deepEqual(data(ask(`nginx.default.svc.${zone}`, QTYPE.AAAA).answers), ['fd00::5']);
  }
});

test('SRV of a ClusterSetIP port points at the service name, whose addresses come along', () => {
  const srv = ask('_http._tcp.nginx.default.svc.clusterset.local', QTYPE.SRV);
  assert.deepEqual(data(srv.answers), [{ priority: 0, weight: 100, port: 80, target: 'nginx.default.svc.clusterset.local' }]);
  assert.deepEqual(data(srv.additionals), ['10.127.0.5', 'fd00::5']);
  assert.deepEqual(data(ask('_dns._udp.nginx.default.svc.clusterset.local', QTYPE.SRV).answers), [{ priority: 0, weight: 100, port: 53, target: 'nginx.default.svc.clusterset.local' }]);
});

test('SRV on the service name lists every named port; unnamed ports have none', () => {
  const srv = ask('nginx.default.svc.clusterset.local', QTYPE.SRV);
  assert.deepEqual(
    data(srv.answers).map((d) => (d as { port: number }).port),
    [80, 53],
  );
  assert.equal(ask('_http._udp.nginx.default.svc.clusterset.local', QTYPE.SRV).rcode, RCODE.NXDOMAIN, 'no such protocol for the port');
});

test('a headless service answers every ready endpoint of every connected cluster', () => {
  assert.deepEqual(data(ask('pg.db.svc.clusterset.local', QTYPE.A).answers), ['10.112.1.2', '10.112.1.3']);
  const pod = ask('pg-0.cluster1.pg.db.svc.clusterset.local', QTYPE.A);
  assert.deepEqual(data(pod.answers), ['10.112.1.2']);
  assert.deepEqual(data(ask('10-112-1-3.cluster1.pg.db.svc.clusterset.local', QTYPE.A).answers), ['10.112.1.3'], 'no hostname: the address as label');
  assert.equal(ask('pg-2.cluster1.pg.db.svc.clusterset.local', QTYPE.A).rcode, RCODE.NXDOMAIN, 'not ready');
  assert.equal(ask('pg-0.cluster2.pg.db.svc.clusterset.local', QTYPE.A).rcode, RCODE.NXDOMAIN, 'cluster2 is disconnected');
});

test('headless SRV: one record per ready endpoint, targets its per-pod name, addresses in the additional section', () => {
  const srv = ask('_pg._tcp.pg.db.svc.clusterset.local', QTYPE.SRV);
  assert.deepEqual(data(srv.answers), [
    { priority: 0, weight: 50, port: 5432, target: 'pg-0.cluster1.pg.db.svc.clusterset.local' },
    { priority: 0, weight: 50, port: 5432, target: '10-112-1-3.cluster1.pg.db.svc.clusterset.local' },
  ]);
  assert.deepEqual(
    srv.additionals.map((r) => [r.name, 'data' in r ? r.data : undefined]),
    [
      ['pg-0.cluster1.pg.db.svc.clusterset.local', '10.112.1.2'],
      ['10-112-1-3.cluster1.pg.db.svc.clusterset.local', '10.112.1.3'],
    ],
  );
});

test('a name that does not exist: NXDOMAIN with the zone\'s SOA', () => {
  for (const name of ['nope.default.svc.clusterset.local', 'nginx.other.svc.clusterset.local', 'x.nginx.default.svc.clusterset.local', 'foo.clusterset.local', 'other.shared.example']) {
    const zone = name.endsWith('shared.example') ? 'shared.example' : 'clusterset.local';
    assert.deepEqual(ask(name, QTYPE.A), { rcode: RCODE.NXDOMAIN, authoritative: true, answers: [], authorities: [soaOf(zone)], additionals: [] }, name);
  }
});

test('a name that exists without records of the type: NODATA (NOERROR, no answer) with the SOA', () => {
  const cases: [string, number][] = [
    ['default.svc.clusterset.local', QTYPE.A],
    ['svc.clusterset.local', QTYPE.A],
    ['db.svc.hyperos.local', QTYPE.AAAA],
    ['cluster1.pg.db.svc.clusterset.local', QTYPE.A],
    ['_tcp.nginx.default.svc.clusterset.local', QTYPE.SRV],
    ['clusterset.local', QTYPE.A],
    ['nginx.default.svc.clusterset.local', QTYPE.TXT],
    ['_http._tcp.nginx.default.svc.clusterset.local', QTYPE.A],
    ['pending.default.svc.clusterset.local', QTYPE.A],
    ['shared.example', QTYPE.AAAA],
  ];
  for (const [name, qtype] of cases) {
    const zone = name.endsWith('hyperos.local') ? 'hyperos.local' : name.endsWith('shared.example') ? 'shared.example' : 'clusterset.local';
    assert.deepEqual(ask(name, qtype), { rcode: RCODE.NOERROR, authoritative: true, answers: [], authorities: [soaOf(zone)], additionals: [] }, name);
  }
});

test('the apex answers SOA and NS, with the nameserver\'s addresses beside the NS; dns-version answers the schema version', () => {
  assert.deepEqual(ask('clusterset.local', QTYPE.SOA).answers, [soaOf('clusterset.local')]);
  const ns = ask('hyperos.local', QTYPE.NS);
  assert.deepEqual(ns.answers, [{ type: 'NS', name: 'hyperos.local', ttl: 5, data: 'ns.dns.hyperos.local' }]);
  assert.deepEqual(ns.additionals, [
    { type: 'A', name: 'ns.dns.hyperos.local', ttl: 5, data: '10.96.0.11' },
    { type: 'AAAA', name: 'ns.dns.hyperos.local', ttl: 5, data: 'fd00::11' },
  ]);
  assert.deepEqual(data(ask('ns.dns.shared.example', QTYPE.A).answers), ['10.96.0.11'], 'a custom zone\'s nameserver resolves too');
  assert.deepEqual(ask('dns-version.clusterset.local', QTYPE.TXT).answers, [{ type: 'TXT', name: 'dns-version.clusterset.local', ttl: 5, data: ['1.0.0'] }]);
  assert.equal(ask('dns-version.shared.example', QTYPE.TXT).rcode, RCODE.NXDOMAIN, 'a custom zone is not a multicluster zone');
});

test('a custom name answers as the service does, in its custom zone', () => {
  assert.deepEqual(data(ask('nginx.shared.example', QTYPE.A).answers), ['10.127.0.5']);
  assert.deepEqual(data(ask('_http._tcp.nginx.shared.example', QTYPE.SRV).answers), [{ priority: 0, weight: 100, port: 80, target: 'nginx.shared.example' }]);
});

test('ANY returns every record of the name', () => {
  assert.deepEqual(
    ask('nginx.default.svc.clusterset.local', QTYPE.ANY).answers.map((r) => r.type),
    ['A', 'AAAA', 'SRV', 'SRV'],
  );
});

test('outside every zone, another class, or a zone transfer: REFUSED, not authoritative', () => {
  const refused = { rcode: RCODE.REFUSED, authoritative: false, answers: [], authorities: [], additionals: [] };
  assert.deepEqual(ask('example.com', QTYPE.A), refused);
  assert.deepEqual(ask('local', QTYPE.A), refused);
  assert.deepEqual(ask('', QTYPE.NS), refused);
  assert.deepEqual(ask('xclusterset.local', QTYPE.A), refused, 'a suffix is not a zone unless at a label boundary');
  assert.deepEqual(ask('nginx.default.svc.clusterset.local', QTYPE.A, 3), refused, 'CHAOS');
  assert.deepEqual(ask('clusterset.local', QTYPE.AXFR), refused);
});

test('PTR: a headless endpoint\'s address names the endpoint; the reverse zone answers NS and SOA as crossdns, NXDOMAIN for an address it does not know, and refuses other reverse zones', () => {
  const ptr = ask('2.1.112.10.in-addr.arpa', QTYPE.PTR);
  assert.equal(ptr.rcode, RCODE.NOERROR);
  assert.equal(ptr.authoritative, true);
  assert.deepEqual(ptr.answers, [{ type: 'PTR', name: '2.1.112.10.in-addr.arpa', ttl: 5, data: 'pg-0.cluster1.pg.db.svc.clusterset.local' }]);
  assert.deepEqual(data(ask('3.1.112.10.in-addr.arpa', QTYPE.PTR).answers), ['10-112-1-3.cluster1.pg.db.svc.clusterset.local']);
  assert.deepEqual(data(ask('112.10.in-addr.arpa', QTYPE.NS).answers), ['ns.dns.clusterset.local']);
  assert.deepEqual(data(ask('112.10.in-addr.arpa', QTYPE.NS).additionals), ['10.96.0.11', 'fd00::11']);
  const unknown = ask('9.1.112.10.in-addr.arpa', QTYPE.PTR);
  assert.equal(unknown.rcode, RCODE.NXDOMAIN);
  assert.deepEqual(unknown.authorities, [{ ...soaOf('112.10.in-addr.arpa'), data: { ...soaOf('112.10.in-addr.arpa').data, mname: 'ns.dns.clusterset.local' } }]);
  assert.equal(ask('2.1.112.10.in-addr.arpa', QTYPE.A).rcode, RCODE.NOERROR, 'the name exists: NODATA for other types');
  assert.equal(ask('5.0.127.10.in-addr.arpa', QTYPE.PTR).rcode, RCODE.REFUSED, 'outside the reverse zones crossdns serves');
});
