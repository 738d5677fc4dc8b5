import { ByteQueue } from '../bytes/byteQueue.js';
import { TtrpcError } from './errors.js';

/**
 * ttrpc message framing (containerd/ttrpc PROTOCOL.md): a 10-byte header —
 * data length (u32 BE), stream id (u32 BE), type (u8), flags (u8) — then the data.
 */
export const HEADER_LENGTH = 10;
/** ttrpc rejects messages with more data than this. */
export const MAX_DATA_LENGTH = 4 << 20;

export const MessageType = { Request: 1, Response: 2, Data: 3 } as const;

export interface TtrpcMessage {
  streamId: number;
  type: number;
  flags: number;
  data: Buffer;
}

export function encodeMessage(msg: TtrpcMessage): Buffer {
  if (msg.data.length > MAX_DATA_LENGTH) {
    throw new TtrpcError('FRAME_TOO_LARGE', `ttrpc message of ${msg.data.length} bytes exceeds the ${MAX_DATA_LENGTH}-byte limit`);
  }
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt32BE(msg.data.length, 0);
  header.writeUInt32BE(msg.streamId, 4);
  header.writeUInt8(msg.type, 8);
  header.writeUInt8(msg.flags, 9);
  return Buffer.concat([header, msg.data]);
}

/** Reassembles messages from a byte stream that may split or join them anywhere. */
export class MessageReader {
  private readonly queue = new ByteQueue();

  /** Adds bytes; returns the messages now complete. Throws TtrpcError on a malformed stream. */
  push(chunk: Buffer): TtrpcMessage[] {
    this.queue.push(chunk);
    const out: TtrpcMessage[] = [];
    while (this.queue.length >= HEADER_LENGTH) {
      const head = this.queue.peek(HEADER_LENGTH);
      const dataLength = head.readUInt32BE(0);
      if (dataLength > MAX_DATA_LENGTH) {
        throw new TtrpcError('FRAME_TOO_LARGE', `peer sent a ttrpc message of ${dataLength} bytes; the limit is ${MAX_DATA_LENGTH}`);
      }
      const type = head.readUInt8(8);
      if (type < MessageType.Request || type > MessageType.Data) {
        throw new TtrpcError('MALFORMED', `peer sent a ttrpc message of unknown type ${type}`);
      }
      if (this.queue.length < HEADER_LENGTH + dataLength) break;
      const streamId = head.readUInt32BE(4);
      const flags = head.readUInt8(9);
      this.queue.take(HEADER_LENGTH);
      out.push({ streamId, type, flags, data: this.queue.take(dataLength) });
    }
    return out;
  }
}
