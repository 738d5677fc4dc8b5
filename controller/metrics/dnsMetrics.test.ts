import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from 'dns-packet';
import { Responder } from '../crossdns/responder.js';
import { indexInput, serviceImport } from '../crossdns/testFixtures.js';
import { buildIndex } from '../crossdns/zoneIndex.js';
import { dnsMetrics } from './dnsMetrics.js';

const zones = { zones: ['clusterset.local'], customZones: [], reverseZones: [], nameserverAddresses: [], ttl: 5, serial: 1 };
const query = (name: string) => encode({ type: 'query', id: 1, questions: [{ type: 'A', name, class: 'IN' }] });

/** crossdns's wiring: the responder reports every query, the gauge reads its index. */
function crossdns() {
  const index = buildIndex(indexInput([serviceImport('default', 'nginx', { type: 'ClusterSetIP', ips: ['10.127.0.5'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }] })]), zones).index;
  const metrics = dnsMetrics({ records: () => responder.indexedNames });
  const responder = new Responder(index, { maxUdpPayload: 1232, cacheEntries: 100, onBadQuery: () => undefined, onInternalError: () => undefined, onQuery: metrics.queryAnswered });
  return { metrics, responder, names: index.names.size };
}

test('queries are counted by RCODE and protocol, every combination from 0, and each answer\'s time lands in the histogram', async () => {
  const { metrics, responder } = crossdns();
  let text = await metrics.registry.metrics();
  for (const protocol of ['udp', 'tcp']) for (const rcode of ['NOERROR', 'NXDOMAIN', 'REFUSED', 'SERVFAIL', 'FORMERR', 'NOTIMP', 'BADVERS', 'dropped']) {
    assert.match(text, new RegExp(`^fleetboard_dns_queries_total\\{rcode="${rcode}",protocol="${protocol}"\\} 0$`, 'm'));
  }
  assert.match(text, /^fleetboard_dns_query_seconds_count 0$/m);

  responder.respond(query('nginx.default.svc.clusterset.local'), 'udp');
  responder.respond(query('nginx.default.svc.clusterset.local'), 'udp');
  responder.respond(query('nope.default.svc.clusterset.local'), 'tcp');
  responder.respond(Buffer.from([0, 1]), 'udp');
  text = await metrics.registry.metrics();
  assert.match(text, /^fleetboard_dns_queries_total\{rcode="NOERROR",protocol="udp"\} 2$/m);
  assert.match(text, /^fleetboard_dns_queries_total\{rcode="NXDOMAIN",protocol="tcp"\} 1$/m);
  assert.match(text, /^fleetboard_dns_queries_total\{rcode="dropped",protocol="udp"\} 1$/m);
  assert.match(text, /^fleetboard_dns_query_seconds_count 4$/m);
  assert.match(text, /^fleetboard_dns_query_seconds_bucket\{le="\+Inf"\} 4$/m);
  assert.match(text, /^fleetboard_dns_query_seconds_bucket\{le="0\.00001"\} \d$/m, 'buckets from 10 µs');
});

test('the records gauge follows the index the responder answers from', async () => {
  const { metrics, responder, names } = crossdns();
  assert.ok(names > 1);
  assert.match(await metrics.registry.metrics(), new RegExp(`^fleetboard_dns_records ${names}$`, 'm'));
  responder.setIndex(buildIndex({ imports: [], slices: [] }, zones).index);
  const empty = buildIndex({ imports: [], slices: [] }, zones).index.names.size;
  assert.match(await metrics.registry.metrics(), new RegExp(`^fleetboard_dns_records ${empty}$`, 'm'));
  assert.match(await metrics.registry.metrics(), /^fleetboard_crossdns_process_resident_memory_bytes \d+/m);
});
