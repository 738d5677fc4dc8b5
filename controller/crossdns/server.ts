import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { CrossDnsError } from './errors.js';
import { RateLimitedLog } from './rateLimitedLog.js';
import type { Responder } from './responder.js';

export interface ServerOptions {
  host: string;
  /** 0: any free port, the same for UDP and TCP. */
  port: number;
  /** A TCP connection idle this long is closed (RFC 7766 suggests seconds). */
  tcpIdleMs: number;
  /** Open TCP connections at most; the kernel accepts more, which are closed at once. */
  maxTcpConnections: number;
  log: Logger;
}

// Responses a TCP client has not read yet; past this it is not reading at all.
const MAX_TCP_BACKLOG_BYTES = 1 << 20;
// Socket buffers for bursts of UDP queries (the kernel caps them at net.core.rmem_max / wmem_max).
const UDP_BUFFER_BYTES = 4 << 20;
const PORT_ATTEMPTS = 10;
const LOG_INTERVAL_MS = 10_000;

/** DNS over UDP and TCP (length-prefixed, several queries per connection) on one address and port. */
export class DnsServer {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly connections = new Set<Socket>();
  private readonly rateLimited: RateLimitedLog;
  private boundPort = 0;

  constructor(
    private readonly responder: Responder,
    private readonly opts: ServerOptions,
  ) {
    this.rateLimited = new RateLimitedLog(opts.log, LOG_INTERVAL_MS);
  }

  /** The port both sockets listen on, once started. */
  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const udp = await this.bindUdp(this.opts.port);
      const port = udp.address().port;
      try {
        this.tcp = await this.listenTcp(port);
      } catch (err) {
        udp.close();
        // With port 0 the UDP port picked may be taken for TCP; try another.
        if (this.opts.port === 0 && attempt < PORT_ATTEMPTS) continue;
        throw err;
      }
      this.udp = udp;
      this.boundPort = port;
      this.opts.log.info({ host: this.opts.host, port }, 'crossdns listening on UDP and TCP');
      return;
    }
  }

  async stop(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    for (const c of this.connections) c.destroy();
    await Promise.all([
      udp ? new Promise<void>((resolve) => udp.close(() => resolve())) : undefined,
      tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : undefined,
    ]);
  }

  private bindUdp(port: number): Promise<UdpSocket> {
    const udp = createSocket({ type: isIP(this.opts.host) === 6 ? 'udp6' : 'udp4', recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES });
    return new Promise((resolve, reject) => {
      const failed = (err: Error) => {
        udp.close();
        reject(listenError('UDP', this.opts.host, port, err));
      };
      udp.once('error', failed);
      udp.on('message', (msg, peer) => {
        const response = this.responder.respond(msg, 'udp');
        if (response) udp.send(response, peer.port, peer.address);
      });
      udp.bind(port, this.opts.host, () => {
        udp.off('error', failed);
        // Send failures (a client gone, buffers full) cost that one answer; the client retries.
        udp.on('error', (err) => this.rateLimited.warn('udp', { err: err.message }, 'UDP socket error'));
        resolve(udp);
      });
    });
  }

  private listenTcp(port: number): Promise<Server> {
    const tcp = createServer((socket) => this.serveTcp(socket));
    tcp.maxConnections = this.opts.maxTcpConnections;
    tcp.on('drop', (peer) => this.rateLimited.warn('tcp-full', { peer: peer?.remoteAddress, max: this.opts.maxTcpConnections }, 'TCP connection refused: too many open (--max-tcp-connections)'));
    return new Promise((resolve, reject) => {
      tcp.once('error', (err) => reject(listenError('TCP', this.opts.host, port, err)));
      tcp.listen(port, this.opts.host, () => {
        tcp.removeAllListeners('error');
        tcp.on('error', (err) => this.rateLimited.warn('tcp', { err: err.message }, 'TCP server error'));
        resolve(tcp);
      });
    });
  }

  private serveTcp(socket: Socket): void {
    this.connections.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(this.opts.tcpIdleMs, () => socket.destroy());
    socket.on('close', () => this.connections.delete(socket));
    // Resets by clients are routine; the close handler cleans up.
    socket.on('error', (err) => this.opts.log.debug({ err: err.message }, 'TCP connection error'));
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 2) {
        const end = 2 + pending.readUInt16BE(0);
        if (pending.length < end) break;
        const response = this.responder.respond(pending.subarray(2, end), 'tcp');
        pending = pending.subarray(end);
        // Something that is not a query leaves the stream's framing in doubt: close it.
        if (!response || socket.writableLength > MAX_TCP_BACKLOG_BYTES) {
          socket.destroy();
          return;
        }
        const frame = Buffer.allocUnsafe(2 + response.length);
        frame.writeUInt16BE(response.length, 0);
        response.copy(frame, 2);
        socket.write(frame);
      }
    });
  }
}

function listenError(transport: string, host: string, port: number, err: Error): CrossDnsError {
  const code = (err as NodeJS.ErrnoException).code;
  const hint = code === 'EACCES' ? ': ports below 1024 need root or CAP_NET_BIND_SERVICE' : code === 'EADDRINUSE' ? ': something else listens there; choose another --listen' : '';
  return new CrossDnsError('LISTEN_FAILED', `cannot listen on ${host}:${port}/${transport.toLowerCase()} (${err.message})${hint}`, { cause: err });
}
