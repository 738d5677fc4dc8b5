import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, RECURSION_DESIRED, TRUNCATED_RESPONSE, AUTHORITATIVE_ANSWER, type DecodedPacket, type OptAnswer, type Packet, type RecordType } from 'dns-packet';
import { Responder, type Transport } from './responder.js';
import { buildIndex, type DnsIndex } from './zoneIndex.js';
import { importedSlice, indexInput, serviceImport } from './testFixtures.js';
import { RCODE, type Rcode } from './answer.js';

const zones = { zones: ['clusterset.local'], customZones: [], reverseZones: [], nameserverAddresses: [], ttl: 5, serial: 1 };
const manyPods = Array.from({ length: 40 }, (_, i) => ({ ip: `10.112.2.${i + 1}`, hostname: `web-${i}` }));
const world = (ip: string): DnsIndex =>
  buildIndex(
    indexInput(
      [
        serviceImport('default', 'nginx', { type: 'ClusterSetIP', ips: [ip], ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }),
        serviceImport('default', 'web', { type: 'Headless', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }),
        serviceImport('default', 'few', { type: 'Headless', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }),
        serviceImport('default', 'eight', { type: 'Headless', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }),
      ],
      [importedSlice('default', 'web', 'cluster1', manyPods), importedSlice('default', 'few', 'cluster1', manyPods.slice(0, 12)), importedSlice('default', 'eight', 'cluster1', manyPods.slice(0, 8))],
    ),
    zones,
  ).index;

interface Made {
  responder: Responder;
  bad: { reason: string; rcode: Rcode | undefined }[];
  internal: unknown[];
  /** What each query reported for metrics: transport and RCODE. */
  queries: [Transport, Rcode | undefined][];
}

function make(index = world('10.127.0.5')): Made {
  const made: Made = { bad: [], internal: [], queries: [], responder: undefined as unknown as Responder };
  made.responder = new Responder(index, {
    maxUdpPayload: 1232,
    cacheEntries: 100,
    onBadQuery: (reason, rcode) => made.bad.push({ reason, rcode }),
    onInternalError: (err) => made.internal.push(err),
    onQuery: (transport, rcode, seconds) => {
      assert.ok(seconds >= 0 && seconds < 1, `${seconds} s to answer`);
      made.queries.push([transport, rcode]);
    },
  });
  return made;
}

function query(name: string, type: RecordType = 'A', extra: Partial<Packet> & { id?: number; udpSize?: number; dnssecOk?: boolean } = {}): Buffer {
  const { udpSize, dnssecOk, ...packet } = extra;
  const opt: OptAnswer[] = udpSize === undefined ? [] : [{ type: 'OPT', name: '.', udpPayloadSize: udpSize, extendedRcode: 0, ednsVersion: 0, flags: dnssecOk ? 0x8000 : 0, flag_do: dnssecOk ?? false, options: [] }];
  return encode({ type: 'query', id: 4242, flags: RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }], additionals: opt, ...packet });
}

function respond(m: Made, q: Buffer, transport: Transport = 'udp'): DecodedPacket & { rcode?: string } {
  const out = m.responder.respond(q, transport);
  assert.ok(out, 'a response');
  return decode(out);
}

test('a response echoes id, question (its case too) and RD; it is authoritative and offers no recursion', () => {
  const m = make();
  const r = respond(m, query('NGINX.Default.svc.clusterset.local.', 'A', { id: 7 }));
  assert.equal(r.id, 7);
  assert.equal(r.type, 'response');
  assert.deepEqual(r.questions, [{ name: 'NGINX.Default.svc.clusterset.local', type: 'A', class: 'IN' }]);
  assert.equal(r.flag_aa, true);
  assert.equal(r.flag_rd, true);
  assert.equal(r.flag_ra, false);
  assert.deepEqual(r.answers?.map((a) => [a.name, 'data' in a ? a.data : undefined]), [['nginx.default.svc.clusterset.local', '10.127.0.5']]);
});

test('a repeated question comes from the cache with the new query\'s id, RD and question case', () => {
  const m = make();
  respond(m, query('nginx.default.svc.clusterset.local', 'A', { id: 1 }));
  const again = respond(m, query('Nginx.DEFAULT.svc.clusterset.local', 'A', { id: 2, flags: 0 }));
  assert.equal(again.id, 2);
  assert.equal(again.flag_rd, false);
  assert.equal(again.questions?.[0]?.name, 'Nginx.DEFAULT.svc.clusterset.local');
  assert.equal(again.answers?.[0]?.type === 'A' && again.answers[0].data, '10.127.0.5');
});

test('a new index replaces every cached answer', () => {
  const m = make();
  respond(m, query('nginx.default.svc.clusterset.local'));
  m.responder.setIndex(world('10.127.0.9'));
  const r = respond(m, query('nginx.default.svc.clusterset.local'));
  assert.equal(r.answers?.[0]?.type === 'A' && r.answers[0].data, '10.127.0.9');
});

test('NXDOMAIN and NODATA carry the SOA in the authority section; outside the zones REFUSED', () => {
  const m = make();
  const nx = respond(m, query('missing.default.svc.clusterset.local'));
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.deepEqual(nx.authorities?.map((a) => [a.type, a.name]), [['SOA', 'clusterset.local']]);
  const nodata = respond(m, query('default.svc.clusterset.local'));
  assert.equal(nodata.rcode, 'NOERROR');
  assert.equal(nodata.answers?.length, 0);
  assert.equal(nodata.authorities?.[0]?.type, 'SOA');
  const refused = respond(m, query('example.com'));
  assert.equal(refused.rcode, 'REFUSED');
  assert.equal(refused.flag_aa, false);
});

test('EDNS: the OPT record is echoed with our payload size and the DO bit; the client\'s size is honoured', () => {
  const m = make();
  const r = respond(m, query('nginx.default.svc.clusterset.local', 'A', { udpSize: 4096, dnssecOk: true }));
  const opt = r.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
  assert.equal(opt?.udpPayloadSize, 1232);
  assert.equal(opt.flag_do, true);
  const plain = respond(m, query('nginx.default.svc.clusterset.local'));
  assert.equal(plain.additionals?.length, 0, 'no OPT without EDNS');
});

test('too large for UDP: TC set and answers dropped; EDNS allows more; TCP gets it all', () => {
  const m = make();
  const noEdns = respond(m, query('web.default.svc.clusterset.local'));
  assert.equal(noEdns.flag_tc, true);
  assert.equal(noEdns.answers?.length, 0);
  assert.equal(noEdns.questions?.length, 1);
  const small = respond(m, query('few.default.svc.clusterset.local'));
  assert.equal(small.flag_tc, true, '12 records are more than 512 bytes');
  const edns = respond(m, query('few.default.svc.clusterset.local', 'A', { udpSize: 1232 }));
  assert.equal(edns.flag_tc, false);
  assert.equal(edns.answers?.length, 12);
  const tiny = respond(m, query('few.default.svc.clusterset.local', 'A', { udpSize: 100 }));
  assert.equal(tiny.flag_tc, true, 'a size below 512 counts as 512');
  const overTcp = m.responder.respond(query('web.default.svc.clusterset.local'), 'tcp');
  assert.ok(overTcp && overTcp.length > 1232);
  const full = decode(overTcp);
  assert.equal(full.flag_tc, false);
  assert.equal(full.answers?.length, 40);
});

test('when only the additional section does not fit, it is left out without TC', () => {
  const m = make();
  const r = respond(m, query('_http._tcp.eight.default.svc.clusterset.local', 'SRV', { udpSize: 1232 }));
  assert.equal(r.flag_tc, false);
  assert.equal(r.answers?.length, 8);
  assert.deepEqual(r.additionals?.map((a) => a.type), ['OPT']);
  const tcp = decode(make().responder.respond(query('_http._tcp.eight.default.svc.clusterset.local', 'SRV'), 'tcp') ?? Buffer.alloc(0));
  assert.equal(tcp.additionals?.length, 8);
});

function header(id: number, flags: number, counts: [number, number, number, number]): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(flags, 2);
  counts.forEach((c, i) => b.writeUInt16BE(c, 4 + 2 * i));
  return b;
}

test('malformed queries get FORMERR or NOTIMP with their id; shorter than a header or a response: nothing', () => {
  const m = make();
  const rcodeOf = (q: Buffer) => {
    const out = m.responder.respond(q, 'udp');
    assert.ok(out);
    assert.equal(out.readUInt16BE(0), q.readUInt16BE(0), 'id echoed');
    return out.readUInt16BE(2) & 0xf;
  };
  const good = query('nginx.default.svc.clusterset.local', 'A', { id: 99 });
  assert.equal(rcodeOf(good.subarray(0, 20)), RCODE.FORMERR, 'cut inside the name');
  assert.equal(rcodeOf(good.subarray(0, good.length - 2)), RCODE.FORMERR, 'cut inside type and class');
  assert.equal(rcodeOf(header(5, 0, [0, 0, 0, 0])), RCODE.FORMERR, 'no question');
  assert.equal(rcodeOf(encode({ type: 'query', id: 6, questions: [{ type: 'A', name: 'a.clusterset.local' }, { type: 'A', name: 'b.clusterset.local' }] })), RCODE.FORMERR, 'two questions');
  assert.equal(rcodeOf(Buffer.concat([header(8, 0, [1, 0, 0, 0]), Buffer.from([0x41, 0x61, 0, 0, 1, 0, 1])])), RCODE.FORMERR, 'label length 65');
  assert.equal(rcodeOf(Buffer.concat([header(9, 0, [1, 0, 0, 0]), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])])), RCODE.FORMERR, 'a compression pointer as question');
  const notify = Buffer.from(good);
  notify[2] = ((notify[2] ?? 0) & 0x87) | (4 << 3);
  assert.equal(rcodeOf(notify), RCODE.NOTIMP, 'NOTIFY');
  const garbage = Buffer.concat([header(10, 0, [1, 0, 3, 0]), Buffer.from([1, 0x61, 0, 0, 1, 0, 1, 0xff, 0xff])]);
  assert.equal(rcodeOf(garbage), RCODE.FORMERR, 'records that cannot be decoded');
  const long = Buffer.concat([header(11, 0, [1, 0, 0, 0]), ...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])), Buffer.from([0, 0, 1, 0, 1])]);
  assert.equal(rcodeOf(long), RCODE.FORMERR, 'a name over 255 bytes');
  assert.equal(m.responder.respond(Buffer.from([1, 2, 3]), 'udp'), undefined);
  const response = Buffer.from(good);
  response[2] = (response[2] ?? 0) | 0x80;
  assert.equal(m.responder.respond(response, 'udp'), undefined);
  assert.ok(m.bad.length >= 11, 'each one reported for the log');
  assert.deepEqual(m.internal, []);
});

test('every query is reported with its transport and RCODE, cached answers and dropped queries too', () => {
  const m = make();
  respond(m, query('nginx.default.svc.clusterset.local'));
  respond(m, query('nginx.default.svc.clusterset.local'), 'tcp');
  respond(m, query('nope.default.svc.clusterset.local'));
  respond(m, query('nope.default.svc.clusterset.local'));
  respond(m, query('example.com'));
  const badVersion = query('nginx.default.svc.clusterset.local', 'A', { udpSize: 1232 });
  badVersion[badVersion.length - 5] = 1;
  respond(m, badVersion);
  assert.equal(m.responder.respond(Buffer.from([1, 2, 3]), 'tcp'), undefined);
  assert.deepEqual(m.queries, [
    ['udp', RCODE.NOERROR],
    ['tcp', RCODE.NOERROR],
    ['udp', RCODE.NXDOMAIN],
    ['udp', RCODE.NXDOMAIN],
    ['udp', RCODE.REFUSED],
    ['udp', RCODE.BADVERS],
    ['tcp', undefined],
  ]);
});

test('an EDNS version other than 0 gets BADVERS', () => {
  const m = make();
  const q = query('nginx.default.svc.clusterset.local', 'A', { udpSize: 1232 });
  q[q.length - 5] = 1; // the OPT's version byte
  const r = respond(m, q);
  const opt = r.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
  assert.equal(opt?.extendedRcode, RCODE.BADVERS >> 4);
  assert.equal((r.flags ?? 0) & 0xf, 0);
});

test('a query with extra records (TSIG, an answer section) is still answered after decoding', () => {
  const m = make();
  const q = encode({ type: 'query', id: 3, questions: [{ type: 'A', name: 'nginx.default.svc.clusterset.local' }], answers: [{ type: 'A', name: 'x', ttl: 1, data: '1.2.3.4' }] });
  const r = respond(m, q);
  assert.equal(r.answers?.[0]?.type === 'A' && r.answers[0].data, '10.127.0.5');
  assert.equal(r.flags !== undefined && (r.flags & AUTHORITATIVE_ANSWER) !== 0, true);
});

/** A small deterministic PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('fuzzed input never throws, never SERVFAILs, and every answer keeps the query id', () => {
  const m = make();
  const random = prng(1645);
  const seeds = [query('nginx.default.svc.clusterset.local'), query('_http._tcp.web.default.svc.clusterset.local', 'SRV', { udpSize: 1232 }), query('x.clusterset.local', 'AAAA', { udpSize: 512, dnssecOk: true })];
  for (let i = 0; i < 20_000; i++) {
    let input: Buffer;
    if (i % 4 === 0) {
      input = Buffer.from(Array.from({ length: Math.floor(random() * 80) }, () => Math.floor(random() * 256)));
    } else {
      input = Buffer.from(seeds[i % seeds.length] ?? Buffer.alloc(0));
      for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) input[Math.floor(random() * input.length)] = Math.floor(random() * 256);
      if (random() < 0.3) input = input.subarray(0, Math.floor(random() * input.length));
    }
    const out = m.responder.respond(input, random() < 0.5 ? 'udp' : 'tcp');
    if (input.length < 12 || ((input[2] ?? 0) & 0x80) !== 0) {
      assert.equal(out, undefined);
      continue;
    }
    assert.ok(out, `input ${input.toString('hex')} got no response`);
    assert.equal(out.readUInt16BE(0), input.readUInt16BE(0));
    assert.equal((out[2] ?? 0) & 0x80, 0x80, 'QR');
    assert.doesNotThrow(() => decode(out), `response to ${input.toString('hex')} decodes`);
  }
  assert.deepEqual(m.internal, []);
});

test('TC is the only thing set on a truncated response\'s flags besides AA and RD', () => {
  const m = make();
  const out = m.responder.respond(query('web.default.svc.clusterset.local'), 'udp');
  assert.ok(out);
  assert.equal(out.readUInt16BE(2) & ~0x800f, AUTHORITATIVE_ANSWER | TRUNCATED_RESPONSE | RECURSION_DESIRED);
});
