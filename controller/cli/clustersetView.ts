import { LABEL_SERVICE_NAME, LABEL_SERVICE_NAMESPACE, LABEL_SOURCE_CLUSTER } from '../mcs/api.js';
import type { EndpointSlice } from '../objects/discovery.js';
import type { Peer } from '../objects/fleetboard.js';
import { namedPeers, type NamedPeer } from '../clusterset/peer.js';
import type { ServiceImport } from '../objects/mcs.js';
import { handshakeFresh } from '../tunnel/tunnelHealth.js';
import { age, bytes, table } from './table.js';

export interface TunnelView {
  from: string;
  to: string;
  /** Seconds since the last handshake; undefined: never. */
  handshakeAgeSeconds: number | undefined;
  up: boolean;
  rxBytes: number;
  txBytes: number;
}

export interface ClusterView {
  clusterID: string;
  role: 'hub' | 'member';
  cidrs: string[];
  /** The node of the leader cnf that carries the cluster's tunnels. */
  gateway: string | undefined;
  /** host:port other clusters dial; undefined behind NAT. */
  endpoint: string | undefined;
  /** From the hub's Connected condition (the hub itself: whether it has a gateway). */
  connected: boolean;
  status: string;
}

export interface ExportView {
  namespace: string;
  name: string;
  cluster: string;
  type: string;
  ports: string[];
  readyEndpoints: number;
}

export interface ClustersetView {
  clusters: ClusterView[];
  tunnels: TunnelView[];
  exports: ExportView[];
}

const handshakeAge = (at: string | undefined, now: Date) => (at ? (now.getTime() - new Date(at).getTime()) / 1000 : undefined);

function tunnel(from: string, to: string, t: { lastHandshake?: string | undefined; rxBytes?: number | undefined; txBytes?: number | undefined }, now: Date): TunnelView {
  const ageSeconds = handshakeAge(t.lastHandshake, now);
  return { from, to, handshakeAgeSeconds: ageSeconds, up: t.lastHandshake !== undefined && handshakeFresh(new Date(t.lastHandshake), now.getTime()), rxBytes: t.rxBytes ?? 0, txBytes: t.txBytes ?? 0 };
}

function clusterView(p: NamedPeer): ClusterView {
  const connected = p.status.conditions.find((c) => c.type === 'Connected');
  const gateway = p.status.tunnel?.gatewayNode;
  const isConnected = p.spec.isHub ? gateway !== undefined : connected?.status === 'True';
  return {
    clusterID: p.spec.clusterID,
    role: p.spec.isHub ? 'hub' : 'member',
    cidrs: p.spec.clusterCIDR,
    gateway,
    endpoint: p.spec.endpoint ? `${p.spec.endpoint}:${p.spec.port ?? ''}` : undefined,
    connected: isConnected,
    status: p.spec.isHub ? (gateway ? 'Ready' : 'NoLeader') : connected ? `${connected.status === 'True' ? 'Connected' : 'Disconnected'} (${connected.reason ?? 'no reason given'})` : 'Joined (no tunnel status yet)',
  };
}

/** What `fleetctl show` prints, from what the hub holds: Peers, exported services and their EndpointSlices. */
export function clustersetView(peers: readonly Peer[], services: readonly ServiceImport[], slices: readonly EndpointSlice[], now = new Date()): ClustersetView {
  const sorted = namedPeers(peers).sort((a, b) => Number(b.spec.isHub) - Number(a.spec.isHub) || a.spec.clusterID.localeCompare(b.spec.clusterID));
  const hub = sorted.find((p) => p.spec.isHub)?.spec.clusterID ?? 'hub';
  const tunnels: TunnelView[] = [];
  for (const p of sorted) {
    const t = p.status.tunnel;
    if (p.spec.isHub || !t) continue;
    tunnels.push(tunnel(p.spec.clusterID, hub, t, now));
    for (const d of t.direct) tunnels.push(tunnel(p.spec.clusterID, d.clusterID, d, now));
  }
  const ready = new Map<string, number>();
  for (const s of slices) {
    const labels = s.metadata.labels;
    const key = `${labels[LABEL_SOURCE_CLUSTER] ?? ''}/${labels[LABEL_SERVICE_NAMESPACE] ?? ''}/${labels[LABEL_SERVICE_NAME] ?? ''}`;
    ready.set(key, (ready.get(key) ?? 0) + s.endpoints.filter((e) => e.conditions.ready !== false).length);
  }
  const exports = services
    .map((si) => {
      const labels = si.metadata.labels;
      const cluster = labels[LABEL_SOURCE_CLUSTER] ?? '';
      const namespace = labels[LABEL_SERVICE_NAMESPACE] ?? '';
      const name = labels[LABEL_SERVICE_NAME] ?? si.metadata.name;
      return {
        namespace,
        name,
        cluster,
        type: si.spec.type ?? '-',
        ports: si.spec.ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`),
        readyEndpoints: ready.get(`${cluster}/${namespace}/${name}`) ?? 0,
      };
    })
    .sort((a, b) => `${a.namespace}/${a.name}/${a.cluster}`.localeCompare(`${b.namespace}/${b.name}/${b.cluster}`));
  return { clusters: sorted.map(clusterView), tunnels, exports };
}

export function renderClusterset(v: ClustersetView): string {
  const clusters = table(
    ['CLUSTER', 'ROLE', 'CIDR', 'GATEWAY', 'ENDPOINT', 'STATUS'],
    v.clusters.map((c) => [c.clusterID, c.role, c.cidrs.join(',') || '-', c.gateway ?? '-', c.endpoint ?? 'behind NAT', c.status]),
  );
  const tunnels = table(
    ['FROM', 'TO', 'STATE', 'LAST HANDSHAKE', 'RECEIVED', 'SENT'],
    v.tunnels.map((t) => [t.from, t.to, t.up ? 'up' : 'down', t.handshakeAgeSeconds === undefined ? 'never' : `${age(t.handshakeAgeSeconds)} ago`, bytes(t.rxBytes), bytes(t.txBytes)]),
  );
  const exports =
    v.exports.length === 0
      ? 'none (create a ServiceExport next to a Service in a member cluster)'
      : table(
          ['SERVICE', 'FROM', 'TYPE', 'PORTS', 'READY ENDPOINTS'],
          v.exports.map((e) => [`${e.namespace}/${e.name}`, e.cluster, e.type, e.ports.join(','), String(e.readyEndpoints)]),
        );
  return `${clusters}\n\nTunnels (as each member's gateway reports them)\n${tunnels}\n\nExported services (imported into every member)\n${exports}\n`;
}
