import { answerQuestion, RCODE, type Rcode } from './answer.js';
import { encodeAnswer, errorResponse, replyFromCached } from './encode.js';
import { HEADER_BYTES, QUERY_SCRATCH_BYTES, queryName, readQuery } from './query.js';
import { ResponseCache } from './responseCache.js';
import type { DnsIndex } from './zoneIndex.js';

export type Transport = 'udp' | 'tcp';

/** Without EDNS a UDP response holds 512 bytes (RFC 1035); over TCP, what a length prefix can say. */
const PLAIN_UDP_PAYLOAD = 512;
const TCP_PAYLOAD = 65535;

export interface ResponderOptions {
  /** The largest UDP response sent whatever the client offers (1232: no IP fragmentation on common paths). */
  maxUdpPayload: number;
  cacheEntries: number;
  /** A query answered with an error code or dropped, and why (for a rate-limited log). */
  onBadQuery: (reason: string, rcode: Rcode | undefined) => void;
  /** A bug: the query got SERVFAIL. */
  onInternalError: (err: unknown) => void;
  /** Every query, for metrics: its transport, the RCODE answered (undefined: dropped) and the seconds answering took. */
  onQuery: (transport: Transport, rcode: Rcode | undefined, seconds: number) => void;
}

/** A response and its RCODE; neither for a query that is dropped. */
interface Outcome {
  response: Buffer | undefined;
  rcode: Rcode | undefined;
}

const DROPPED: Outcome = { response: undefined, rcode: undefined };

/**
 * Turns a query's bytes into the response's bytes, from the current index,
 * through the response cache. Never throws; no I/O.
 */
export class Responder {
  private index: DnsIndex;
  private cache: ResponseCache;
  /** Where the question name is read into; one per responder, as responses are made one at a time. */
  private readonly scratch = Buffer.alloc(QUERY_SCRATCH_BYTES);

  constructor(
    index: DnsIndex,
    private readonly opts: ResponderOptions,
  ) {
    this.index = index;
    this.cache = new ResponseCache(opts.cacheEntries);
  }

  /** Answers from `index` from now on; every cached response is dropped with the old one. */
  setIndex(index: DnsIndex): void {
    this.index = index;
    this.cache = new ResponseCache(this.opts.cacheEntries);
  }

  /** How many names the current index answers for. */
  get indexedNames(): number {
    return this.index.names.size;
  }

  /** The response, or undefined to send nothing (shorter than a header, or itself a response). */
  respond(query: Buffer, transport: Transport): Buffer | undefined {
    const started = performance.now();
    const { response, rcode } = this.outcome(query, transport);
    this.opts.onQuery(transport, rcode, (performance.now() - started) / 1000);
    return response;
  }

  private outcome(query: Buffer, transport: Transport): Outcome {
    if (query.length < HEADER_BYTES) {
      this.opts.onBadQuery(`${query.length} bytes, shorter than a DNS header; dropped`, undefined);
      return DROPPED;
    }
    // Answering a response could start a loop between two servers.
    if (((query[2] ?? 0) & 0x80) !== 0) {
      this.opts.onBadQuery('a response, not a query; dropped', undefined);
      return DROPPED;
    }
    try {
      return this.answer(query, transport);
    } catch (err) {
      this.opts.onInternalError(err);
      return { response: errorResponse(query, RCODE.SERVFAIL), rcode: RCODE.SERVFAIL };
    }
  }

  private answer(query: Buffer, transport: Transport): Outcome {
    const scanned = readQuery(query, this.scratch);
    if ('problem' in scanned) {
      this.opts.onBadQuery(scanned.problem.reason, scanned.problem.rcode);
      return { response: errorResponse(query, scanned.problem.rcode), rcode: scanned.problem.rcode };
    }
    const q = scanned.query;
    if (q.edns && q.edns.version !== 0) {
      // RFC 6891 §6.1.3: only version 0 exists.
      const badVersion = { rcode: RCODE.BADVERS, authoritative: false, answers: [], authorities: [], additionals: [] };
      return { response: pick(encodeAnswer(query, q, badVersion, this.opts.maxUdpPayload), PLAIN_UDP_PAYLOAD), rcode: RCODE.BADVERS };
    }
    const limit = transport === 'tcp' ? TCP_PAYLOAD : q.edns ? Math.min(Math.max(q.edns.udpSize, PLAIN_UDP_PAYLOAD), this.opts.maxUdpPayload) : PLAIN_UDP_PAYLOAD;
    const cached = this.cache.get(q.key);
    if (cached) return { response: replyFromCached(pick(cached.variants, limit), query, q.questionEnd), rcode: cached.rcode };
    const answer = answerQuestion(this.index, queryName(q), q.qtype, q.qclass);
    const variants = encodeAnswer(query, q, answer, this.opts.maxUdpPayload);
    this.cache.set(q.key, { variants, rcode: answer.rcode });
    // Made from this query: its id and question already.
    return { response: pick(variants, limit), rcode: answer.rcode };
  }
}

/** The largest variant within `limit`; the last (truncated) always fits. */
function pick(variants: readonly Buffer[], limit: number): Buffer {
  for (const v of variants) if (v.length <= limit) return v;
  const last = variants[variants.length - 1];
  if (!last) throw new RangeError('a response has no variants');
  return last;
}
