import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface ListenAddress {
  /** Empty: every address of the netns. */
  host: string;
  port: number;
}

/** Undefined when ready; otherwise what the component still waits for. */
export type ReadinessCheck = () => string | undefined;

/**
 * Serves /metrics (Prometheus text format), /healthz (the process answers)
 * and /readyz (the component can do its job, else 503 with the reason).
 */
export class MetricsServer {
  private readonly server: Server;

  constructor(
    private readonly address: ListenAddress,
    registry: Registry,
    notReadyBecause: ReadinessCheck,
    log: Logger,
  ) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/metrics') {
        registry.metrics().then(
          (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
          (err: unknown) => {
            log.error({ err: (err as Error).message }, 'collecting metrics failed');
            res.writeHead(500, { 'Content-Type': 'text/plain' }).end('collecting metrics failed\n');
          },
        );
      } else if (path === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const reason = notReadyBecause();
        res.writeHead(reason ? 503 : 200, { 'Content-Type': 'text/plain' }).end(`${reason ?? 'ok'}\n`);
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
      }
    });
  }

  /** Listens; resolves with the bound port (useful when port 0 was asked for). */
  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.address.port, this.address.host || undefined, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
