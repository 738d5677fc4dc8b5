import { status } from '@grpc/grpc-js';
import { encodeMessage, MessageReader, MessageType, type TtrpcMessage } from './frame.js';
import { decodeRequest, encodeResponse, type ResponseEnvelope } from './codec.js';
import { RpcStatusError, TtrpcError } from './errors.js';

/** A unary method: request bytes in, response bytes out. `deadline` is the caller's, in ms since epoch. */
export type UnaryHandler = (payload: Buffer, call: { deadline: number | undefined }) => Promise<Buffer>;

export type ServiceHandlers = Record<string, UnaryHandler>;

/** Byte-stream transport the server answers on (one mux connection). */
export interface Transport {
  write(data: Buffer): void;
}

/**
 * ttrpc server for unary calls. `receive` is fed the connection's bytes; a
 * malformed stream makes it throw, and the caller closes the connection.
 */
export class TtrpcServer {
  private readonly reader = new MessageReader();
  private readonly services = new Map<string, ServiceHandlers>();
  private transport: Transport | undefined;

  register(service: string, handlers: ServiceHandlers): void {
    this.services.set(service, handlers);
  }

  attach(transport: Transport): void {
    this.transport = transport;
  }

  receive(chunk: Buffer): void {
    for (const msg of this.reader.push(chunk)) this.dispatch(msg);
  }

  private dispatch(msg: TtrpcMessage): void {
    if (msg.type !== MessageType.Request) {
      throw new TtrpcError('MALFORMED', `client sent a ttrpc message of type ${msg.type} outside a request; only unary calls are served`);
    }
    if (msg.streamId % 2 === 0) throw new TtrpcError('MALFORMED', `client used even stream id ${msg.streamId}; client streams are odd`);
    const req = decodeRequest(msg.data);
    const handler = this.services.get(req.service)?.[req.method];
    if (msg.flags !== 0) {
      this.reply(msg.streamId, failure(status.UNIMPLEMENTED, `${req.service}/${req.method}: streaming calls are not supported`));
      return;
    }
    if (!handler) {
      this.reply(msg.streamId, failure(status.UNIMPLEMENTED, `${req.service}/${req.method} is not implemented`));
      return;
    }
    const deadline = req.timeoutNano > 0 ? Date.now() + req.timeoutNano / 1e6 : undefined;
    handler(req.payload, { deadline }).then(
      (payload) => this.reply(msg.streamId, { payload }),
      (err: unknown) => {
        const code = err instanceof RpcStatusError ? err.grpcCode : status.UNKNOWN;
        this.reply(msg.streamId, failure(code, err instanceof Error ? err.message : String(err)));
      },
    );
  }

  private reply(streamId: number, res: ResponseEnvelope): void {
    try {
      this.transport?.write(encodeMessage({ streamId, type: MessageType.Response, flags: 0, data: encodeResponse(res) }));
    } catch {
      // The connection closed while the handler ran; the runtime has given up on this call.
    }
  }
}

function failure(code: number, message: string): ResponseEnvelope {
  return { status: { code, message }, payload: Buffer.alloc(0) };
}
