import { ByteQueue } from '../bytes/byteQueue.js';
import { MuxError } from './errors.js';

/**
 * NRI multiplexer framing (containerd/nri pkg/net/multiplex): many logical
 * connections over one unix socket, each frame = conn id (u32 BE) + payload
 * length (u32 BE) + payload. A connection's payloads form one byte stream.
 */
export const MUX_HEADER_LENGTH = 8;
/** We keep every frame we send at or under 4096 bytes, header included. */
export const MAX_SEND_FRAME = 4096;
/** The runtime never sends a payload above one whole ttrpc message (header + 4 MiB). */
export const MAX_RECEIVE_PAYLOAD = 10 + (4 << 20);

export interface MuxFrame {
  connId: number;
  payload: Buffer;
}

/** Splits one logical write into frames of at most MAX_SEND_FRAME bytes. */
export function encodeFrames(connId: number, payload: Buffer): Buffer[] {
  const room = MAX_SEND_FRAME - MUX_HEADER_LENGTH;
  const frames: Buffer[] = [];
  for (let off = 0; off < payload.length || frames.length === 0; off += room) {
    const part = payload.subarray(off, off + room);
    const header = Buffer.alloc(MUX_HEADER_LENGTH);
    header.writeUInt32BE(connId, 0);
    header.writeUInt32BE(part.length, 4);
    frames.push(Buffer.concat([header, part]));
  }
  return frames;
}

/** Reassembles frames from the trunk's byte stream. */
export class FrameReader {
  private readonly queue = new ByteQueue();

  /** Adds bytes; returns the frames now complete. Throws MuxError on a frame no runtime sends. */
  push(chunk: Buffer): MuxFrame[] {
    this.queue.push(chunk);
    const out: MuxFrame[] = [];
    while (this.queue.length >= MUX_HEADER_LENGTH) {
      const head = this.queue.peek(MUX_HEADER_LENGTH);
      const connId = head.readUInt32BE(0);
      const length = head.readUInt32BE(4);
      if (length > MAX_RECEIVE_PAYLOAD) {
        throw new MuxError('FRAME_TOO_LARGE', `conn ${connId}: frame payload of ${length} bytes; the maximum is ${MAX_RECEIVE_PAYLOAD}`);
      }
      if (this.queue.length < MUX_HEADER_LENGTH + length) break;
      this.queue.take(MUX_HEADER_LENGTH);
      out.push({ connId, payload: this.queue.take(length) });
    }
    return out;
  }
}
