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
import { buildIndex } from './zoneIndex.js';

// 1232 bytes: the EDNS buffer size DNS Flag Day 2020 settled on, which avoids IP fragmentation.
const MAX_UDP_PAYLOAD = 1232;
const CACHE_ENTRIES = 50_000;
const TCP_IDLE_MS = 10_000;
const BAD_QUERY_LOG_MS = 10_000;

/** crossdns: composition root. Listens only once the watches have synced, so it never answers from nothing. */
async function run(opts: CrossDnsOptions, log: Logger): Promise<() => Promise<void>> {
  const kc = new KeepAliveKubeConfig();
  if (opts.kubeconfig.inCluster) kc.loadFromCluster();
  else kc.loadFromFile(opts.kubeconfig.file);
  const indexOptions = { zones: opts.zones, customZones: opts.customZones, nameserverAddresses: opts.nameserverAddresses, ttl: opts.ttl };
  const rateLimited = new RateLimitedLog(log, BAD_QUERY_LOG_MS);
  const responder = new Responder(buildIndex({ imports: [], slices: [] }, { ...indexOptions, serial: 0 }).index, {
    maxUdpPayload: MAX_UDP_PAYLOAD,
    cacheEntries: CACHE_ENTRIES,
    onBadQuery: (reason, rcode) => rateLimited.warn('bad-query', { reason, answered: rcode === undefined ? 'dropped' : rcodeName(rcode) }, 'malformed DNS query'),
    onInternalError: (err) => rateLimited.warn('internal', { err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'answering a query failed; sent SERVFAIL'),
  });
  const feed = new IndexFeed(indexOptions, responder, log);
  const source = new ImportSource(new LocalImports(kc, log), (input) => feed.update(input), log);
  await source.start();
  const server = new DnsServer(responder, { host: opts.listen.host, port: opts.listen.port, tcpIdleMs: TCP_IDLE_MS, maxTcpConnections: opts.maxTcpConnections, log });
  try {
    await server.start();
  } catch (err) {
    await source.stop();
    throw err;
  }
  log.info({ zones: opts.zones, customZones: opts.customZones, ttl: opts.ttl }, 'crossdns serving');
  return async () => {
    await server.stop();
    await source.stop();
  };
}

void runComponent('crossdns', 'crossdns', parseCrossDnsOptions, run);
