import { Counter, Histogram, type Registry } from 'prom-client';
import { RCODE, rcodeName, type Rcode } from '../crossdns/answer.js';
import type { Transport } from '../crossdns/responder.js';
import { componentRegistry, registerReadGauge } from './registry.js';

export interface DnsMetricSources {
  /** Names the current index answers for. */
  records(): number;
}

export interface DnsMetrics {
  registry: Registry;
  /** Records one query: its transport, the RCODE answered (undefined: dropped) and the seconds answering took. */
  queryAnswered: (transport: Transport, rcode: Rcode | undefined, seconds: number) => void;
}

const TRANSPORTS: readonly Transport[] = ['udp', 'tcp'];
/** Answers come from memory in microseconds; the top buckets catch pauses (GC, a rebuilt index). */
const QUERY_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1];

/** crossdns's Prometheus metrics. Counting a query is on the hot path: one map lookup, one increment, one observation. */
export function dnsMetrics(sources: DnsMetricSources): DnsMetrics {
  const registry = componentRegistry('crossdns');
  registerReadGauge(registry, 'fleetboard_dns_records', 'Names crossdns answers for (services, headless pods, SRV and zone names)', () => sources.records());
  const queries = new Counter({
    name: 'fleetboard_dns_queries_total',
    help: 'DNS queries crossdns received, by response code (dropped: not answered) and protocol',
    labelNames: ['rcode', 'protocol'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'fleetboard_dns_query_seconds',
    help: 'Seconds crossdns took to answer a query, from its bytes to the response\'s',
    buckets: QUERY_BUCKETS,
    registers: [registry],
  });
  // One bound child per (protocol, code): every known one from the start, at 0.
  const counters: Record<Transport, Map<Rcode | undefined, Counter.Internal>> = { udp: new Map(), tcp: new Map() };
  const counter = (transport: Transport, rcode: Rcode | undefined) => {
    let child = counters[transport].get(rcode);
    if (!child) {
      child = queries.labels({ rcode: rcode === undefined ? 'dropped' : rcodeName(rcode), protocol: transport });
      counters[transport].set(rcode, child);
    }
    return child;
  };
  for (const transport of TRANSPORTS) for (const rcode of [...Object.values(RCODE), undefined]) counter(transport, rcode).inc(0);
  return {
    registry,
    queryAnswered: (transport, rcode, seconds) => {
      counter(transport, rcode).inc();
      latency.observe(seconds);
    },
  };
}
