import { KeepAliveKubeConfig } from '../kube/keepAliveKubeConfig.js';
import type { Logger } from 'pino';
import { runComponent } from '../componentMain.js';
import { rcodeName } from './answer.js';
import { IndexFeed } from './indexFeed.js';
import { parseCrossDnsOptions, type CrossDnsOptions } from './options.js';
import { RateLimitedLog } from './rateLimitedLog.js';
import { Responder } from './responder.js';
import { DnsServer } from './server.js';
import { ImportSource } from './source.js';
import { LocalImports } from '../mcs/localImports.js';
import { dnsMetrics } from '../metrics/dnsMetrics.js';
import { MetricsServer } from '../metrics/server.js';
import { buildIndex } from './zoneIndex.js';

// 1232 bytes: the EDNS buffer size DNS Flag Day 2020 settled on, which avoids IP fragmentation.
const MAX_UDP_PAYLOAD = 1232;
const CACHE_ENTRIES = 50_000;
const TCP_IDLE_MS = 10_000;
const BAD_QUERY_LOG_MS = 10_000;

/**
 * crossdns: composition root. Listens for DNS once the watches have started;
 * /readyz stays 503 until both have listed what exists, so the Service sends
 * no query before crossdns can answer it.
 */
async function run(opts: CrossDnsOptions, log: Logger): Promise<() => Promise<void>> {
  const kc = new KeepAliveKubeConfig();
  if (opts.kubeconfig.inCluster) kc.loadFromCluster();
  else kc.loadFromFile(opts.kubeconfig.file);
  const indexOptions = { zones: opts.zones, customZones: opts.customZones, reverseZones: opts.reverseZones, nameserverAddresses: opts.nameserverAddresses, ttl: opts.ttl };
  const rateLimited = new RateLimitedLog(log, BAD_QUERY_LOG_MS);
  // Read at scrape time only, once the responder below exists.
  const metrics = dnsMetrics({ records: () => responder.indexedNames });
  const responder = new Responder(buildIndex({ imports: [], slices: [] }, { ...indexOptions, serial: 0 }).index, {
    maxUdpPayload: MAX_UDP_PAYLOAD,
    cacheEntries: CACHE_ENTRIES,
    onBadQuery: (reason, rcode) => rateLimited.warn('bad-query', { reason, answered: rcode === undefined ? 'dropped' : rcodeName(rcode) }, 'malformed DNS query'),
    onInternalError: (err) => rateLimited.warn('internal', { err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'answering a query failed; sent SERVFAIL'),
    onQuery: metrics.queryAnswered,
  });
  const local = new LocalImports(kc, log);
  let serving = false;
  // A first list that failed is retried while DNS is served already: not ready until one is delivered.
  const notReadyBecause = () => (serving && local.synced() ? undefined : 'waiting for the ServiceImport and EndpointSlice watches to sync');
  const metricsServer = new MetricsServer(opts.metricsAddress, metrics.registry, notReadyBecause, log);
  const metricsPort = await metricsServer.start();
  const feed = new IndexFeed(indexOptions, responder, log);
  const source = new ImportSource(local, (input) => feed.update(input), log);
  const server = new DnsServer(responder, { host: opts.listen.host, port: opts.listen.port, tcpIdleMs: TCP_IDLE_MS, maxTcpConnections: opts.maxTcpConnections, log });
  try {
    await source.start();
  } catch (err) {
    await metricsServer.stop();
    throw err;
  }
  try {
    await server.start();
  } catch (err) {
    await source.stop();
    await metricsServer.stop();
    throw err;
  }
  serving = true;
  log.info({ zones: opts.zones, customZones: opts.customZones, reverseZones: opts.reverseZones.length, ttl: opts.ttl, metricsPort }, 'crossdns serving');
  return async () => {
    await server.stop();
    await source.stop();
    await metricsServer.stop();
  };
}

void runComponent('crossdns', 'crossdns', parseCrossDnsOptions, run);
