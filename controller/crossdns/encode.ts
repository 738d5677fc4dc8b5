import { AUTHORITATIVE_ANSWER, DNSSEC_OK, TRUNCATED_RESPONSE, encode, type Answer, type OptAnswer } from 'dns-packet';
import type { DnsAnswer, Rcode } from './answer.js';
import { HEADER_BYTES, type Query } from './query.js';

/**
 * Responses on the wire, encoded by dns-packet. The question is never
 * re-encoded: its bytes are copied from the query, so the client gets back
 * exactly what it asked, case included. Pure.
 */

// Header bits copied from the query: RD (RFC 1035) and CD (RFC 6840), in the two flag bytes.
const RD_BYTE2 = 0x01;
const CD_BYTE3 = 0x10;
const RD_FLAG = 0x0100;
const CD_FLAG = 0x0010;

/**
 * Every form of the response that may be sent, largest first: complete;
 * without the additional section (RFC 2181 §9: dropping additional data
 * sets no TC); and truncated (TC, no records but the OPT), which always fits 512 bytes.
 */
export function encodeAnswer(query: Buffer, q: Query, answer: DnsAnswer, maxUdpPayload: number): Buffer[] {
  const copied = (query.readUInt16BE(2) & (RD_FLAG | CD_FLAG)) | (answer.rcode & 0xf);
  const flags = answer.authoritative ? copied | AUTHORITATIVE_ANSWER : copied;
  const opt: Answer[] = q.edns ? [optRecord(answer.rcode, q.edns.dnssecOk, maxUdpPayload)] : [];
  const message = (f: number, answers: Answer[], authorities: Answer[], additionals: Answer[]) => withQuestion(query, q.questionEnd, encode({ type: 'response', id: query.readUInt16BE(0), flags: f, questions: [], answers, authorities, additionals }));
  const variants = [message(flags, answer.answers, answer.authorities, [...answer.additionals, ...opt])];
  if (answer.additionals.length > 0) variants.push(message(flags, answer.answers, answer.authorities, opt));
  variants.push(message(flags | TRUNCATED_RESPONSE, [], [], opt));
  return variants;
}

/** The header alone, for a query we cannot answer (FORMERR, NOTIMP, SERVFAIL): its id, opcode and RD kept. */
export function errorResponse(query: Buffer, rcode: Rcode): Buffer {
  const flags = query.readUInt16BE(2) & (0x7800 | RD_FLAG);
  return encode({ type: 'response', id: query.readUInt16BE(0), flags: flags | (rcode & 0xf), questions: [] });
}

/** A cached response made the reply to `query`: its id, RD and CD bits and question bytes (same length: same key). */
export function replyFromCached(cached: Buffer, query: Buffer, questionEnd: number): Buffer {
  const out = Buffer.allocUnsafe(cached.length);
  // TypedArray.set and plain loops: Buffer.copy's argument checks cost more than these few bytes.
  out.set(cached);
  out[0] = query[0] ?? 0;
  out[1] = query[1] ?? 0;
  out[2] = ((cached[2] ?? 0) & ~RD_BYTE2) | ((query[2] ?? 0) & RD_BYTE2);
  out[3] = ((cached[3] ?? 0) & ~CD_BYTE3) | ((query[3] ?? 0) & CD_BYTE3);
  for (let i = HEADER_BYTES; i < questionEnd; i++) out[i] = query[i] ?? 0;
  return out;
}

function optRecord(rcode: Rcode, dnssecOk: boolean, maxUdpPayload: number): OptAnswer {
  return { type: 'OPT', name: '.', udpPayloadSize: maxUdpPayload, extendedRcode: rcode >> 4, ednsVersion: 0, flags: dnssecOk ? DNSSEC_OK : 0, flag_do: dnssecOk, options: [] };
}

/** `encoded` (a message without question) with the query's question spliced in after the header. */
function withQuestion(query: Buffer, questionEnd: number, encoded: Buffer): Buffer {
  const questionBytes = questionEnd - HEADER_BYTES;
  const out = Buffer.allocUnsafe(encoded.length + questionBytes);
  encoded.copy(out, 0, 0, HEADER_BYTES);
  query.copy(out, HEADER_BYTES, HEADER_BYTES, questionEnd);
  encoded.copy(out, questionEnd, HEADER_BYTES);
  out.writeUInt16BE(1, 4);
  return out;
}
