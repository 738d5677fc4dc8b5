import { connect } from 'node:net';
import type { DeviceStatus } from './device.js';
import { WireGuardError } from './errors.js';
import { GET_REQUEST, MAX_REPLY_BYTES, parseGetReply, parseSetReply } from './uapi.js';

const DEFAULT_TIMEOUT_MS = 5000;

/** Where wireguard-go (and every userspace WireGuard) puts the UAPI socket of an interface. */
export function uapiSocketPath(iface: string, dir = '/var/run/wireguard'): string {
  return `${dir}/${iface}.sock`;
}

/** Talks UAPI to one userspace WireGuard device, one connection per request. */
export class UapiClient {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  async get(): Promise<DeviceStatus> {
    return parseGetReply(await this.exchange(GET_REQUEST));
  }

  /** Sends a `set=1` request (from planSet); a non-zero errno is a REFUSED error. */
  async set(request: string): Promise<void> {
    const errno = parseSetReply(await this.exchange(request));
    if (errno !== 0) throw new WireGuardError('REFUSED', `${this.socketPath} refused the configuration (errno=${errno}); its log says why`);
  }

  /** Writes one request and reads its reply up to the empty line that ends it. */
  private exchange(request: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.socketPath);
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const finish = (err: Error | undefined, text?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(text ?? '');
      };
      const timer = setTimeout(() => finish(new WireGuardError('UNAVAILABLE', `${this.socketPath} did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      socket.on('connect', () => socket.write(request));
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) {
          finish(new WireGuardError('MALFORMED', `${this.socketPath} sent more than ${MAX_REPLY_BYTES} bytes without ending its reply`));
          return;
        }
        const text = Buffer.concat(chunks).toString('utf8');
        // Every reply ends with an errno line followed by an empty line.
        if (/(^|\n)errno=[^\n]*\n\n$/.test(text)) finish(undefined, text);
      });
      socket.on('error', (err) => finish(new WireGuardError('UNAVAILABLE', `${this.socketPath}: ${err.message}`, { cause: err })));
      socket.on('close', () => finish(new WireGuardError('UNAVAILABLE', `${this.socketPath} closed the connection before answering`)));
    });
  }
}
