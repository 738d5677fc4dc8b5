import type protobuf from 'protobufjs';
import { loadProto } from '../../proto/load.js';
import { TtrpcError } from './errors.js';

const root = loadProto('ttrpc/request.proto');
const RequestType = root.lookupType('ttrpc.Request');
const ResponseType = root.lookupType('ttrpc.Response');

export interface RequestEnvelope {
  service: string;
  method: string;
  payload: Buffer;
  timeoutNano: number;
}

export interface ResponseEnvelope {
  status?: { code: number; message: string } | undefined;
  payload: Buffer;
}

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, defaults: true };

/** Decodes a protobuf message, turning any decoder failure into a connection-fatal MALFORMED error. */
export function decodeMessage(type: protobuf.Type, bytes: Uint8Array, what: string): Record<string, unknown> {
  try {
    return type.toObject(type.decode(bytes), toObjectOptions);
  } catch (err) {
    throw new TtrpcError('MALFORMED', `cannot decode ${what}: ${(err as Error).message}`, undefined, { cause: err });
  }
}

export function encodeMessage(type: protobuf.Type, value: object): Buffer {
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

export const encodeRequest = (r: RequestEnvelope): Buffer => encodeMessage(RequestType, r);
export const decodeRequest = (b: Buffer) => decodeMessage(RequestType, b, 'ttrpc request') as unknown as RequestEnvelope;
export const encodeResponse = (r: ResponseEnvelope): Buffer => encodeMessage(ResponseType, r);
export const decodeResponse = (b: Buffer) => decodeMessage(ResponseType, b, 'ttrpc response') as unknown as ResponseEnvelope;
