import type { Answer, SoaAnswer } from 'dns-packet';
import { inZone } from './names.js';
import { nameserverName, type DnsIndex, type NameRecords } from './zoneIndex.js';

/** Response codes (RFC 1035, 6891): the low four bits in the header, the rest in the OPT record. */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, BADVERS: 16 } as const;
export type Rcode = (typeof RCODE)[keyof typeof RCODE];

export function rcodeName(rcode: Rcode): string {
  return Object.entries(RCODE).find(([, value]) => value === rcode)?.[0] ?? String(rcode);
}

/** Query types and classes answered here, by number as they travel. */
export const QTYPE = { A: 1, NS: 2, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, AXFR: 252, IXFR: 251, ANY: 255 } as const;
export const QCLASS = { IN: 1, ANY: 255 } as const;

/** What to answer one question with; the wire encoding is someone else's job. */
export interface DnsAnswer {
  rcode: Rcode;
  /** Set for every name inside our zones. */
  authoritative: boolean;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

// SOA timers (RFC 1912 values); nobody transfers these zones, so only `minimum` (the negative TTL) matters.
const SOA_REFRESH = 7200;
const SOA_RETRY = 1800;
const SOA_EXPIRE = 86400;

const refused = (): DnsAnswer => ({ rcode: RCODE.REFUSED, authoritative: false, answers: [], authorities: [], additionals: [] });

/**
 * Answers one question from the index. `name` is canonical (lower case, no
 * trailing dot). Names outside every zone are REFUSED; a name that does not
 * exist is NXDOMAIN and one without records of the type NODATA, both with
 * the zone's SOA, whose minimum is the negative TTL. Pure.
 */
export function answerQuestion(index: DnsIndex, name: string, qtype: number, qclass: number): DnsAnswer {
  const zone = index.zones.find((z) => inZone(name, z));
  // Only class IN is served; zone transfers are not offered.
  if (!zone || (qclass !== QCLASS.IN && qclass !== QCLASS.ANY) || qtype === QTYPE.AXFR || qtype === QTYPE.IXFR) return refused();
  const records = index.names.get(name);
  const negative = (rcode: Rcode): DnsAnswer => ({ rcode, authoritative: true, answers: [], authorities: [soa(index, zone)], additionals: [] });
  if (!records) return negative(RCODE.NXDOMAIN);
  const answers = recordsOf(index, zone, name, records, qtype);
  if (answers.length === 0) return negative(RCODE.NOERROR);
  return { rcode: RCODE.NOERROR, authoritative: true, answers, authorities: [], additionals: targetAdditionals(index, answers) };
}

function recordsOf(index: DnsIndex, zone: string, name: string, records: NameRecords, qtype: number): Answer[] {
  const ttl = index.ttl;
  const any = qtype === QTYPE.ANY;
  const out: Answer[] = [];
  if (name === zone && (any || qtype === QTYPE.SOA)) out.push(soa(index, zone));
  if (name === zone && (any || qtype === QTYPE.NS)) out.push({ type: 'NS', name, ttl, data: nameserverOf(index, zone) });
  if (any || qtype === QTYPE.A) for (const ip of records.a) out.push({ type: 'A', name, ttl, data: ip });
  if (any || qtype === QTYPE.AAAA) for (const ip of records.aaaa) out.push({ type: 'AAAA', name, ttl, data: ip });
  if (any || qtype === QTYPE.TXT) for (const text of records.txt) out.push({ type: 'TXT', name, ttl, data: [text] });
  if (any || qtype === QTYPE.PTR) for (const target of records.ptr) out.push({ type: 'PTR', name, ttl, data: target });
  if (any || qtype === QTYPE.SRV) {
    // Equal weights, as CoreDNS gives them; the specification leaves priority and weight open.
    const weight = Math.max(1, Math.floor(100 / Math.max(1, records.srv.length)));
    for (const s of records.srv) out.push({ type: 'SRV', name, ttl, data: { priority: 0, weight, port: s.port, target: s.target } });
  }
  return out;
}

/** The addresses of SRV and NS targets, so a client needs no second query. */
function targetAdditionals(index: DnsIndex, answers: readonly Answer[]): Answer[] {
  const out: Answer[] = [];
  const seen = new Set<string>();
  for (const a of answers) {
    const target = a.type === 'SRV' ? a.data.target : a.type === 'NS' ? a.data : undefined;
    if (target === undefined || seen.has(target)) continue;
    seen.add(target);
    const records = index.names.get(target);
    if (!records) continue;
    for (const ip of records.a) out.push({ type: 'A', name: target, ttl: index.ttl, data: ip });
    for (const ip of records.aaaa) out.push({ type: 'AAAA', name: target, ttl: index.ttl, data: ip });
  }
  return out;
}

function soa(index: DnsIndex, zone: string): SoaAnswer {
  return {
    type: 'SOA',
    name: zone,
    // RFC 2308: a negative answer is cached for the lower of the SOA's TTL and its minimum.
    ttl: index.ttl,
    data: { mname: nameserverOf(index, zone), rname: `hostmaster.${zone}`, serial: index.serial, refresh: SOA_REFRESH, retry: SOA_RETRY, expire: SOA_EXPIRE, minimum: index.ttl },
  };
}

function nameserverOf(index: DnsIndex, zone: string): string {
  return index.nameservers.get(zone) ?? nameserverName(zone);
}
