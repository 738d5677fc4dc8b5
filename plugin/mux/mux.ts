import type { Socket } from 'node:net';
import { encodeFrames, FrameReader } from './frame.js';
import { MuxError } from './errors.js';

/** One logical connection of a Mux: a byte stream in each direction. */
export interface MuxConn {
  readonly id: number;
  write(data: Buffer): void;
}

type CloseListener = (err: Error | undefined) => void;

/**
 * The NRI multiplexer over one unix socket (the trunk). Connections are
 * registered up front; a frame for any other connection id, or a frame no
 * runtime sends, closes the trunk with a MuxError.
 */
export class Mux {
  private readonly reader = new FrameReader();
  private readonly receivers = new Map<number, (chunk: Buffer) => void>();
  private readonly closeListeners: CloseListener[] = [];
  private closed = false;

  constructor(private readonly trunk: Socket) {}

  /** Registers connection `id`; `onData` receives its bytes in order. */
  open(id: number, onData: (chunk: Buffer) => void): MuxConn {
    this.receivers.set(id, onData);
    return {
      id,
      write: (data) => {
        if (this.closed) throw new MuxError('CLOSED', 'the NRI connection is closed');
        for (const frame of encodeFrames(id, data)) this.trunk.write(frame);
      },
    };
  }

  onClose(listener: CloseListener): void {
    this.closeListeners.push(listener);
  }

  /** Starts reading the trunk. */
  start(): void {
    this.trunk.on('data', (chunk: Buffer) => this.receive(chunk));
    this.trunk.on('error', (err) => this.close(err));
    this.trunk.on('close', () => this.close(undefined));
  }

  /** Closes the trunk; `err` tells listeners why (undefined: the peer hung up or we stopped). */
  close(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.trunk.destroy();
    for (const l of this.closeListeners) l(err);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    try {
      for (const frame of this.reader.push(chunk)) {
        const deliver = this.receivers.get(frame.connId);
        if (!deliver) throw new MuxError('UNKNOWN_CONN', `peer sent a frame for connection ${frame.connId}, which is not open`);
        deliver(frame.payload);
        // A receiver may have closed the mux (malformed ttrpc); drop the rest.
        if (this.isClosed) return;
      }
    } catch (err) {
      this.close(err as Error);
    }
  }
}
