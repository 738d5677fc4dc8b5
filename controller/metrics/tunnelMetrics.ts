import { Counter, Gauge, type Registry } from 'prom-client';
import { handshakeFresh, type TunnelHealth } from '../tunnel/tunnelHealth.js';

/** The tunnels of a WireGuard device, read at scrape time. */
export interface TunnelSource {
  tunnels(): Promise<readonly TunnelHealth[]>;
  /** Reading the device failed: that scrape shows no tunnels. */
  tunnelReadFailed(err: unknown): void;
}

const labelNames = ['peer', 'kind'] as const;
const labelsOf = (t: TunnelHealth) => ({ peer: t.name, kind: t.kind });

/**
 * The metrics of a scrape are collected concurrently: they share the read in
 * flight, so the device is asked once per scrape.
 */
function sharedRead<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    inFlight ??= read().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

/**
 * Per tunnel (labelled by node name or cluster ID and kind): whether it is
 * up, the age of its last handshake, and its byte counters. Each collector
 * resets only once the read is back, so overlapping scrapes cannot add twice.
 */
export function registerTunnelMetrics(registry: Registry, source: TunnelSource, now: () => number): void {
  const read = sharedRead(() =>
    source.tunnels().catch((err: unknown) => {
      source.tunnelReadFailed(err);
      return [];
    }),
  );
  new Gauge({
    name: 'fleetboard_tunnel_up',
    help: '1 while the tunnel handshook within the last 180 s (WireGuard\'s reject-after-time), else 0',
    labelNames,
    registers: [registry],
    async collect() {
      const tunnels = await read();
      this.reset();
      for (const t of tunnels) this.set(labelsOf(t), t.lastHandshake && handshakeFresh(t.lastHandshake, now()) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'fleetboard_tunnel_last_handshake_seconds',
    help: 'Seconds since the tunnel\'s last handshake; absent until its first',
    labelNames,
    registers: [registry],
    async collect() {
      const tunnels = await read();
      this.reset();
      for (const t of tunnels) if (t.lastHandshake) this.set(labelsOf(t), Math.max(0, (now() - t.lastHandshake.getTime()) / 1000));
    },
  });
  const byteCounters = [
    { name: 'fleetboard_tunnel_receive_bytes_total', help: 'Bytes received through the tunnel (WireGuard\'s count; restarts with the peer)', bytes: (t: TunnelHealth) => t.rxBytes },
    { name: 'fleetboard_tunnel_transmit_bytes_total', help: 'Bytes sent through the tunnel (WireGuard\'s count; restarts with the peer)', bytes: (t: TunnelHealth) => t.txBytes },
  ];
  for (const { name, help, bytes } of byteCounters) {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const tunnels = await read();
        this.reset();
        for (const t of tunnels) this.inc(labelsOf(t), bytes(t));
      },
    });
  }
}
