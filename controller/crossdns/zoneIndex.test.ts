import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceImportBody } from '../mcs/api.js';
import type { SliceBody } from '../mcs/exportedSlices.js';
import { buildIndex, DNS_SCHEMA_VERSION } from './zoneIndex.js';
import { importedSlice, indexInput, serviceImport } from './testFixtures.js';

const options = { zones: ['clusterset.local'], customZones: ['shared.example'], reverseZones: ['112.10.in-addr.arpa'], nameserverAddresses: ['10.96.0.11'], ttl: 5, serial: 7 };
/** The index of these objects as written, once read back from the API. */
type Written = { imports?: ServiceImportBody[]; slices?: SliceBody[] };
const build = (input: Written) => buildIndex(indexInput(input.imports ?? [], input.slices), options);
const names = (input: Written) => [...build(input).index.names.keys()].sort();

test('an empty clusterset: the apexes, svc.<zone>, the dns-version record and each zone\'s nameserver', () => {
  const { index, problems } = build({});
  assert.deepEqual([...index.names.keys()].sort(), ['112.10.in-addr.arpa', 'clusterset.local', 'dns-version.clusterset.local', 'dns.clusterset.local', 'dns.shared.example', 'ns.dns.clusterset.local', 'ns.dns.shared.example', 'shared.example', 'svc.clusterset.local']);
  assert.deepEqual(index.names.get('ns.dns.clusterset.local')?.a, ['10.96.0.11']);
  assert.deepEqual(index.names.get('dns-version.clusterset.local')?.txt, [DNS_SCHEMA_VERSION]);
  assert.deepEqual(index.zones, ['112.10.in-addr.arpa', 'clusterset.local', 'shared.example']);
  // A reverse zone's nameserver is the multicluster zone's: it holds nothing but PTR records.
  assert.deepEqual(Object.fromEntries(index.nameservers), { 'clusterset.local': 'ns.dns.clusterset.local', 'shared.example': 'ns.dns.shared.example', '112.10.in-addr.arpa': 'ns.dns.clusterset.local' });
  assert.deepEqual(problems, []);
});

test('a ClusterSetIP service: its IPs by family, SRV per named port, and every ancestor as an empty non-terminal', () => {
  const imp = serviceImport('default', 'nginx', {
    type: 'ClusterSetIP',
    ips: ['10.127.0.5', 'fd00::5', 'not-an-ip'],
    ports: [{ name: 'HTTP', protocol: 'TCP', port: 80 }, { protocol: 'TCP', port: 81 }],
  });
  const { index } = build({ imports: [imp] });
  const service = index.names.get('nginx.default.svc.clusterset.local');
  assert.deepEqual(service, { a: ['10.127.0.5'], aaaa: ['fd00::5'], srv: [{ port: 80, target: 'nginx.default.svc.clusterset.local' }], txt: [], ptr: [] });
  assert.deepEqual(index.names.get('_http._tcp.nginx.default.svc.clusterset.local')?.srv, [{ port: 80, target: 'nginx.default.svc.clusterset.local' }]);
  for (const ent of ['_tcp.nginx.default.svc.clusterset.local', 'default.svc.clusterset.local']) assert.deepEqual(index.names.get(ent), { a: [], aaaa: [], srv: [], txt: [], ptr: [] }, ent);
});

test('a headless service: ready endpoints of connected clusters, per-pod names by hostname or address', () => {
  const imp = serviceImport('db', 'pg', { type: 'Headless', ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }] });
  const slices = [
    importedSlice('db', 'pg', 'cluster1', [{ ip: '10.112.1.2', hostname: 'pg-0' }, { ip: '10.112.1.3' }, { ip: '10.112.1.4', ready: false }]),
    importedSlice('db', 'pg', 'cluster2', [{ ip: '10.113.1.2', hostname: 'pg-0' }], { connected: false }),
    importedSlice('db', 'pg', 'cluster3', [{ ip: 'fd00:1::2', hostname: 'pg-0' }]),
  ];
  const { index } = build({ imports: [imp], slices });
  const base = 'pg.db.svc.clusterset.local';
  assert.deepEqual(index.names.get(base)?.a, ['10.112.1.2', '10.112.1.3']);
  assert.deepEqual(index.names.get(base)?.aaaa, ['fd00:1::2']);
  assert.deepEqual(index.names.get(`pg-0.cluster1.${base}`)?.a, ['10.112.1.2']);
  assert.deepEqual(index.names.get(`10-112-1-3.cluster1.${base}`)?.a, ['10.112.1.3']);
  assert.deepEqual(index.names.get(`pg-0.cluster3.${base}`)?.aaaa, ['fd00:1::2']);
  assert.equal(index.names.get(`10-112-1-4.cluster1.${base}`), undefined, 'not ready');
  assert.equal(index.names.get(`cluster2.${base}`), undefined, 'its tunnel is down');
  assert.deepEqual(
    index.names.get(`_pg._tcp.${base}`)?.srv.map((s) => s.target),
    [`pg-0.cluster1.${base}`, `10-112-1-3.cluster1.${base}`, `pg-0.cluster3.${base}`],
  );
});

test('a headless service without ready endpoints has no name, nor its namespace when nothing else is there', () => {
  const imp = serviceImport('db', 'pg', { type: 'Headless', ports: [] });
  const slices = [importedSlice('db', 'pg', 'cluster1', [{ ip: '10.112.1.4', ready: false }])];
  assert.deepEqual(names({ imports: [imp], slices }), names({}));
});

test('a ClusterSetIP service still waiting for its IP exists, without addresses', () => {
  const imp = serviceImport('default', 'new', { type: 'ClusterSetIP', ports: [] });
  assert.deepEqual(build({ imports: [imp] }).index.names.get('new.default.svc.clusterset.local'), { a: [], aaaa: [], srv: [], txt: [], ptr: [] });
});

test('slices of another namespace or without a usable source cluster are not the service\'s', () => {
  const imp = serviceImport('db', 'pg', { type: 'Headless', ports: [] });
  const elsewhere = importedSlice('other', 'pg', 'cluster1', [{ ip: '10.112.1.2' }]);
  const badCluster = importedSlice('db', 'pg', 'Not.A.Label', [{ ip: '10.112.1.3' }]);
  const { index, problems } = build({ imports: [imp], slices: [elsewhere, badCluster] });
  assert.equal(index.names.get('pg.db.svc.clusterset.local'), undefined);
  assert.match(problems[0]?.message ?? '', /source cluster/);
});

test('custom names inside a custom zone are published with the service\'s records; others are problems', () => {
  const imp = serviceImport('default', 'nginx', { type: 'ClusterSetIP', ips: ['10.127.0.5'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }, 'Nginx.Shared.Example., nginx.elsewhere.example, shared.example, bad_label-.shared.example, not a name');
  const { index, problems } = build({ imports: [imp] });
  assert.deepEqual(index.names.get('nginx.shared.example')?.a, ['10.127.0.5']);
  assert.deepEqual(index.names.get('_http._tcp.nginx.shared.example')?.srv, [{ port: 80, target: 'nginx.shared.example' }]);
  assert.deepEqual(
    problems.map((p) => p.message),
    [
      'fleetboard.io/dns-name nginx.elsewhere.example is not inside one of the custom zones shared.example; ignored',
      'fleetboard.io/dns-name shared.example is not inside one of the custom zones shared.example; ignored',
      'fleetboard.io/dns-name "bad_label-.shared.example" is not a domain name; ignored',
      'fleetboard.io/dns-name "not a name" is not a domain name; ignored',
    ],
  );
});

test('without custom zones a custom name is ignored, and the problem says why', () => {
  const imp = serviceImport('default', 'nginx', { type: 'ClusterSetIP', ips: ['10.127.0.5'], ports: [] }, 'nginx.shared.example');
  const { index, problems } = buildIndex(indexInput([imp]), { ...options, customZones: [] });
  assert.equal(index.names.get('nginx.shared.example'), undefined);
  assert.match(problems[0]?.message ?? '', /none is configured \(--custom-zones\)/);
});

test('two services asking for one custom name: the first by namespace/name keeps it', () => {
  const a = serviceImport('a', 'web', { type: 'ClusterSetIP', ips: ['10.127.0.1'], ports: [] }, 'web.shared.example');
  const b = serviceImport('b', 'web', { type: 'ClusterSetIP', ips: ['10.127.0.2'], ports: [] }, 'web.shared.example');
  const { index, problems } = build({ imports: [b, a] });
  assert.deepEqual(index.names.get('web.shared.example')?.a, ['10.127.0.1']);
  assert.deepEqual(problems, [{ service: 'b/web', message: 'dns name web.shared.example is already a/web\'s; ignored here' }]);
});

test('a service imported outside its namespace (named <svc>.<ns>) answers only by its own names, not by a clusterset name', () => {
  const imp = serviceImport('fleetboard-system', 'nginx.shop', { type: 'ClusterSetIP', ips: ['10.127.0.9'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }, 'nginx.shared.example');
  const { index } = buildIndex(indexInput([imp]), options);
  assert.deepEqual(index.names.get('nginx.shared.example')?.a, ['10.127.0.9']);
  assert.deepEqual([...index.names.keys()].filter((n) => n.endsWith('.svc.clusterset.local')), []);
});

test('a custom name cannot take a zone\'s nameserver name', () => {
  const imp = serviceImport('default', 'ns', { type: 'ClusterSetIP', ips: ['10.127.0.3'], ports: [] }, 'ns.dns.shared.example');
  const { index, problems } = build({ imports: [imp] });
  assert.deepEqual(index.names.get('ns.dns.shared.example')?.a, ['10.96.0.11']);
  assert.deepEqual(problems, [{ service: 'default/ns', message: 'dns name ns.dns.shared.example is already the nameserver\'s; ignored here' }]);
});

test('PTR records: a ClusterSetIP points to its service and a headless endpoint to its own name, in the first multicluster zone; an address outside the reverse zones, or claimed first by another service, gets none', () => {
  const imports = [
    serviceImport('default', 'web', { type: 'ClusterSetIP', ips: ['10.112.240.1'], ports: [] }),
    serviceImport('db', 'pg', { type: 'Headless', ports: [] }),
    serviceImport('db', 'replica', { type: 'Headless', ports: [] }),
    serviceImport('default', 'outside', { type: 'ClusterSetIP', ips: ['10.127.0.5'], ports: [] }),
  ];
  const slices = [importedSlice('db', 'pg', 'cluster1', [{ ip: '10.112.1.2', hostname: 'pg-0' }, { ip: '10.112.1.3' }]), importedSlice('db', 'replica', 'cluster1', [{ ip: '10.112.1.2', hostname: 'replica-0' }])];
  const { index } = buildIndex(indexInput(imports, slices), { ...options, zones: ['clusterset.local', 'hyperos.local'] });
  assert.deepEqual(index.names.get('1.240.112.10.in-addr.arpa')?.ptr, ['web.default.svc.clusterset.local']);
  assert.deepEqual(index.names.get('2.1.112.10.in-addr.arpa')?.ptr, ['pg-0.cluster1.pg.db.svc.clusterset.local']);
  assert.deepEqual(index.names.get('3.1.112.10.in-addr.arpa')?.ptr, ['10-112-1-3.cluster1.pg.db.svc.clusterset.local']);
  assert.equal(index.names.get('5.0.127.10.in-addr.arpa'), undefined);
  // Every ancestor up to the reverse zone exists, as it does in forward zones.
  assert.deepEqual(index.names.get('1.112.10.in-addr.arpa')?.ptr, []);
});
