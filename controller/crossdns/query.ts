import { decode, type DecodedPacket, type OptAnswer } from 'dns-packet';
import { RCODE, type Rcode } from './answer.js';

/**
 * Reading queries. The usual shape (one question, no records but an optional
 * OPT) is scanned straight from the bytes, because it is the hot path and
 * yields the response cache key; anything else goes through dns-packet's
 * decoder. Both treat the input as hostile. Pure.
 */

export const HEADER_BYTES = 12;
const OPT_TYPE = 41;
const MAX_NAME_BYTES = 255;
const OPCODE_QUERY = 0;

export interface Edns {
  /** The largest UDP response the client takes, as it says. */
  udpSize: number;
  version: number;
  /** DNSSEC OK: echoed in the response's OPT. */
  dnssecOk: boolean;
}

export interface Query {
  /**
   * The canonical question name (lower case, dotted, no trailing dot, "" for
   * the root) followed by the five bytes type, class and EDNS (0 none, 1, 2
   * with DO), as one latin1 string: the response cache's key, made in one go
   * because it is made for every query.
   */
  key: string;
  qtype: number;
  qclass: number;
  /** Offset just past the question, whose bytes the response echoes. */
  questionEnd: number;
  edns: Edns | undefined;
}

/** A query we answer with an error code alone (the id and opcode are in the header already read). */
export interface QueryProblem {
  rcode: Rcode;
  reason: string;
}

export type Scanned = { query: Query } | { problem: QueryProblem };

const KEY_SUFFIX_BYTES = 5;
/** The size of the scratch buffer `readQuery` builds the key in: the longest dotted name and the suffix. */
export const QUERY_SCRATCH_BYTES = MAX_NAME_BYTES - 2 + KEY_SUFFIX_BYTES;

/** The canonical question name of a query. */
export function queryName(q: Query): string {
  return q.key.slice(0, -KEY_SUFFIX_BYTES);
}

const problem = (rcode: Rcode, reason: string): { problem: QueryProblem } => ({ problem: { rcode, reason } });

/**
 * Reads a query of at least HEADER_BYTES that is not a response: the fast
 * scan when it has the usual shape, else dns-packet's decoder.
 */
export function readQuery(buf: Buffer, scratch: Buffer): Scanned {
  const opcode = ((buf[2] ?? 0) >> 3) & 0xf;
  if (opcode !== OPCODE_QUERY) return problem(RCODE.NOTIMP, `opcode ${opcode} is not QUERY`);
  const questions = buf.readUInt16BE(4);
  if (questions !== 1) return problem(RCODE.FORMERR, `${questions} questions, not 1`);
  const nameLength = readName(buf, scratch);
  if (typeof nameLength !== 'number') return nameLength;
  const nameEnd = HEADER_BYTES + (nameLength === 0 ? 1 : nameLength + 2);
  const questionEnd = nameEnd + 4;
  if (questionEnd > buf.length) return problem(RCODE.FORMERR, 'the question has no type and class');
  const additionals = buf.readUInt16BE(10);
  const usual = buf.readUInt16BE(6) === 0 && buf.readUInt16BE(8) === 0 && additionals <= 1;
  let edns = usual ? scanOpt(buf, questionEnd, additionals === 1) : undefined;
  if (edns === undefined) {
    const decoded = decodeEdns(buf);
    if ('problem' in decoded) return decoded;
    edns = decoded.edns;
  }
  // Type and class as they travel, then the EDNS byte.
  for (let i = 0; i < 4; i++) scratch[nameLength + i] = buf[nameEnd + i] ?? 0;
  scratch[nameLength + 4] = edns ? (edns.dnssecOk ? 2 : 1) : 0;
  const key = scratch.toString('latin1', 0, nameLength + KEY_SUFFIX_BYTES);
  return { query: { key, qtype: buf.readUInt16BE(nameEnd), qclass: buf.readUInt16BE(nameEnd + 2), questionEnd, edns: edns ?? undefined } };
}

/**
 * The question name at offset 12, into `scratch` canonical and dotted; its
 * length there. Labels of 1 to 63 bytes, no compression (nothing precedes
 * the question to point at).
 */
function readName(buf: Buffer, scratch: Buffer): number | { problem: QueryProblem } {
  let offset = HEADER_BYTES;
  let length = 0;
  for (;;) {
    const size = buf[offset];
    if (size === undefined) return problem(RCODE.FORMERR, 'the question name runs past the end of the message');
    if (size === 0) return length;
    if (size > 63) return problem(RCODE.FORMERR, `bad label length byte 0x${size.toString(16)} in the question name`);
    if (offset + 1 + size > buf.length) return problem(RCODE.FORMERR, 'the question name runs past the end of the message');
    // Dotted, a name of at most 255 wire bytes has at most 253 characters.
    if (length + (length > 0 ? 1 : 0) + size > MAX_NAME_BYTES - 2) return problem(RCODE.FORMERR, 'the question name is longer than 255 bytes');
    if (length > 0) scratch[length++] = 0x2e;
    for (let i = offset + 1; i <= offset + size; i++) {
      const c = buf[i] ?? 0;
      // ASCII letters only fold (RFC 4343); a dot inside a label must not look like a separator.
      scratch[length++] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c === 0x2e ? 0 : c;
    }
    offset += size + 1;
  }
}

/**
 * The OPT record that may follow the question in the usual shape, ending
 * the message exactly: its EDNS, null without one, undefined when the rest
 * is anything else (the decoder then judges it).
 */
function scanOpt(buf: Buffer, offset: number, present: boolean): Edns | null | undefined {
  if (!present) return offset === buf.length ? null : undefined;
  // Root name, type, class (the UDP size), TTL (extended rcode, version, flags), RDLENGTH.
  if (offset + 11 > buf.length || buf[offset] !== 0 || buf.readUInt16BE(offset + 1) !== OPT_TYPE) return undefined;
  const end = offset + 11 + buf.readUInt16BE(offset + 9);
  if (end !== buf.length) return undefined;
  for (let o = offset + 11; o < end; o += 4 + buf.readUInt16BE(o + 2)) {
    if (o + 4 > end || o + 4 + buf.readUInt16BE(o + 2) > end) return undefined;
  }
  return { udpSize: buf.readUInt16BE(offset + 3), version: buf[offset + 6] ?? 0, dnssecOk: ((buf[offset + 7] ?? 0) & 0x80) !== 0 };
}

/** Any other shape (records in the answer or authority section, several additionals such as TSIG, trailing bytes): its EDNS, null for none. */
function decodeEdns(buf: Buffer): { edns: Edns | null } | { problem: QueryProblem } {
  let packet: DecodedPacket;
  try {
    packet = decode(buf);
  } catch (err) {
    return problem(RCODE.FORMERR, `undecodable: ${(err as Error).message}`);
  }
  const opts = (packet.additionals ?? []).filter((r): r is OptAnswer => r.type === 'OPT');
  if (opts.length > 1) return problem(RCODE.FORMERR, `${opts.length} OPT records, at most 1 allowed`);
  const opt = opts[0];
  return { edns: opt ? { udpSize: opt.udpPayloadSize, version: opt.ednsVersion, dnssecOk: opt.flag_do } : null };
}
