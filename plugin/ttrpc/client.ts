import { status } from '@grpc/grpc-js';
import { encodeMessage, MessageReader, MessageType } from './frame.js';
import { decodeResponse, encodeRequest } from './codec.js';
import { TtrpcError } from './errors.js';
import type { Transport } from './server.js';

interface Pending {
  resolve(payload: Buffer): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** ttrpc client for unary calls over one byte-stream transport. */
export class TtrpcClient {
  private readonly reader = new MessageReader();
  private readonly pending = new Map<number, Pending>();
  private nextStream = 1;
  private closedBy: Error | undefined;

  constructor(private readonly transport: Transport) {}

  call(service: string, method: string, payload: Buffer, timeoutMs: number): Promise<Buffer> {
    if (this.closedBy) return Promise.reject(this.closedBy);
    const streamId = this.nextStream;
    // Client streams are odd; wrap well before the u32 limit.
    this.nextStream = this.nextStream >= 0xfffffff0 ? 1 : this.nextStream + 2;
    const data = encodeRequest({ service, method, payload, timeoutNano: timeoutMs * 1e6 });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(streamId);
        reject(new TtrpcError('TIMEOUT', `${service}/${method}: no answer within ${timeoutMs} ms`, status.DEADLINE_EXCEEDED));
      }, timeoutMs);
      this.pending.set(streamId, { resolve, reject, timer });
      try {
        this.transport.write(encodeMessage({ streamId, type: MessageType.Request, flags: 0, data }));
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(streamId);
        reject(new TtrpcError('CLOSED', `${service}/${method}: ${(err as Error).message}`, status.UNAVAILABLE, { cause: err }));
      }
    });
  }

  /** Feeds the connection's bytes; throws TtrpcError on a malformed stream. */
  receive(chunk: Buffer): void {
    for (const msg of this.reader.push(chunk)) {
      if (msg.type !== MessageType.Response) {
        throw new TtrpcError('MALFORMED', `server sent a ttrpc message of type ${msg.type}; only responses are expected`);
      }
      const call = this.pending.get(msg.streamId);
      // A late answer to a call that timed out is not an error of the stream.
      if (!call) continue;
      this.pending.delete(msg.streamId);
      clearTimeout(call.timer);
      const res = decodeResponse(msg.data);
      if (res.status && res.status.code !== (status.OK as number)) {
        call.reject(new TtrpcError('REMOTE', res.status.message || `remote error (code ${res.status.code})`, res.status.code));
      } else {
        call.resolve(res.payload);
      }
    }
  }

  /** Fails every call in flight and every later one with `err`. */
  close(err: Error): void {
    this.closedBy = new TtrpcError('CLOSED', `connection closed: ${err.message}`, status.UNAVAILABLE, { cause: err });
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(this.closedBy);
    }
    this.pending.clear();
  }
}
