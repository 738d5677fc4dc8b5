import type { V1ObjectMeta, V1Pod, V1PodSpec, V1Service } from '@kubernetes/client-node';
import type { Pod } from '../objects/core.js';

/** A pod whose name and spec are set, as everything fleetctl creates is. */
type PlannedPod = V1Pod & { metadata: V1ObjectMeta & { name: string }; spec: V1PodSpec };
import { MCS_GROUP, MCS_VERSION } from '../mcs/api.js';

/**
 * What `fleetctl verify` creates and checks, decided without I/O: in every
 * member a server pod behind a Service exported as `verify-<clusterID>`; from
 * every member, one probe pod per other member and way of reaching it.
 */
export interface VerifyImages {
  server: string;
  client: string;
}

export const SERVER_LABELS = { 'app.kubernetes.io/name': 'fleetboard-verify', 'app.kubernetes.io/component': 'server' };
const PROBE_LABELS = { 'app.kubernetes.io/name': 'fleetboard-verify', 'app.kubernetes.io/component': 'probe' };
export const serviceName = (clusterID: string): string => `verify-${clusterID}`;

export function serverObjects(namespace: string, clusterID: string, image: string): { pod: V1Pod; service: V1Service; serviceExport: { apiVersion: string; kind: string; metadata: { name: string; namespace: string } } } {
  const name = serviceName(clusterID);
  return {
    pod: {
      metadata: { name: 'server', namespace, labels: SERVER_LABELS },
      spec: { containers: [{ name: 'nginx', image, ports: [{ containerPort: 80 }] }], terminationGracePeriodSeconds: 1 },
    },
    service: { metadata: { name, namespace }, spec: { selector: SERVER_LABELS, ports: [{ name: 'http', port: 80, targetPort: 80 }] } },
    serviceExport: { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: 'ServiceExport', metadata: { name, namespace } },
  };
}

export interface MemberTarget {
  clusterID: string;
  zones: string[];
  /** The server pod's address on the fleet network. */
  serverAddress: string;
}

export interface Probe {
  from: string;
  to: string;
  /** Shown in the check name: the global address or the DNS name tried. */
  target: string;
  url: string;
  pod: PlannedPod;
}

function probePod(namespace: string, name: string, url: string, image: string): PlannedPod {
  return {
    metadata: { name, namespace, labels: PROBE_LABELS },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      // The image's entrypoint is curl. Retries cover a name or route that is seconds from ready.
      containers: [{ name: 'curl', image, args: ['-sS', '-o', '/dev/null', '--max-time', '5', '--retry', '5', '--retry-delay', '1', '--retry-all-errors', url] }],
    },
  };
}

/** Every ordered pair of members, by global address and by each DNS zone of the probing cluster. */
export function probes(namespace: string, members: MemberTarget[], image: string): Probe[] {
  const out: Probe[] = [];
  for (const from of members) {
    for (const to of members) {
      if (from.clusterID === to.clusterID) continue;
      const targets = [to.serverAddress, ...from.zones.map((z) => `${serviceName(to.clusterID)}.${namespace}.svc.${z}`)];
      targets.forEach((target, i) => {
        const url = `http://${target}/`;
        out.push({ from: from.clusterID, to: to.clusterID, target, url, pod: probePod(namespace, `probe-${to.clusterID}-${i}`, url, image) });
      });
    }
  }
  return out;
}

/** curl's exit codes, as a user should read them. */
export function curlFailure(exitCode: number): string {
  switch (exitCode) {
    case 6:
      return 'the name did not resolve: check that cluster DNS forwards the zone to crossdns (fleetctl diagnose)';
    case 7:
      return 'connection refused';
    case 28:
      return 'timed out: no route or the tunnel is down (fleetctl show, fleetctl diagnose)';
    case 52:
    case 56:
      return 'the connection broke: check the MTU (fleetctl diagnose)';
    default:
      return `curl exited with ${exitCode}`;
  }
}

/** The probe's result once its pod has ended; undefined while it runs. */
export function probeOutcome(pod: Pod): { ok: boolean; detail: string } | undefined {
  const phase = pod.status.phase;
  if (phase === 'Succeeded') return { ok: true, detail: '' };
  if (phase !== 'Failed') return undefined;
  const terminated = pod.status.containerStatuses[0]?.state?.terminated;
  return { ok: false, detail: terminated ? curlFailure(terminated.exitCode) : (pod.status.message ?? 'the probe pod failed') };
}

/** Why a probe pod has not ended by the deadline, with where to look next. */
export function probeStalled(pod: Pod | undefined, timeoutSeconds: number): string {
  const within = `the probe pod did not finish within ${timeoutSeconds} s`;
  if (!pod) return `${within}, and could not be read`;
  const describe = `kubectl -n ${pod.metadata.namespace ?? ''} describe pod ${pod.metadata.name}`;
  const node = pod.spec.nodeName;
  if (!node) {
    const scheduled = pod.status.conditions.find((c) => c.type === 'PodScheduled');
    return `${within}: not scheduled${scheduled?.message ? ` (${scheduled.message})` : ''}`;
  }
  const waiting = pod.status.containerStatuses[0]?.state?.waiting;
  if (waiting) return `${within}: waiting on ${node}: ${waiting.reason ?? ''}${waiting.message ? ` ${waiting.message}` : ''} (${describe})`;
  return `${within}: ${pod.status.phase ?? 'no phase'} on ${node} (${describe})`;
}
